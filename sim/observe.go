package sim

import (
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

// Journal returns the records of the Removes the node journaled, sorted by id.
func (m *Manager) Journal() []ops.Record {
	out := make([]ops.Record, 0, len(m.journal))
	for _, id := range sortedKeys(m.journal) {
		out = append(out, m.journal[id])
	}
	return out
}

// MergeJournal returns the journaled merge requests, sorted by merged id.
func (m *Manager) MergeJournal() []ops.Record {
	out := make([]ops.Record, 0, len(m.mergeJ))
	for _, id := range sortedKeys(m.mergeJ) {
		out = append(out, m.mergeJ[id])
	}
	return out
}

// Response returns node n's bootstrap answer to the current maintainer, if it answered
// (kept after recovery, as the spec keeps resp until the next maintainer crash).
func (c *Cluster) Response(n ops.NodeID) (recovery.Response, bool) {
	r, ok := c.resp[n]
	return r, ok
}

// Budget is the number of scheduler operations the run may still start.
func (c *Cluster) Budget() int { return c.opsLeft }

// Faults are the faults injected so far: lost requests, duplicated deliveries, node crashes.
func (c *Cluster) Faults() (loss, dup, crash int) { return c.loss, c.dup, c.crash }

// DropEpoch is the epoch of the maintainer that dropped table t (0: not dropped).
func (c *Cluster) DropEpoch(t ops.TableID) ops.Epoch { return c.dropped[t] }
