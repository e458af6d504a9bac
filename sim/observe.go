package sim

import (
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Response returns node n's bootstrap answer to the current maintainer, if it answered
// (kept after recovery, as the spec keeps resp until the next maintainer crash).
func (c *Cluster) Response(n ops.NodeID) (protocol.BootstrapAnswer, bool) { return c.m.Answer(n) }

// Budget is the number of scheduler operations the run may still start.
func (c *Cluster) Budget() int { return c.opsLeft }

// Faults are the faults injected so far: lost requests, duplicated deliveries, node
// crashes, merged dispatchers failed before their commit.
func (c *Cluster) Faults() (loss, dup, crash, fail int) { return c.loss, c.dup, c.crash, c.fail }

// DropEpoch is the epoch of the maintainer that dropped table t (0: not dropped).
func (c *Cluster) DropEpoch(t ops.TableID) ops.Epoch { return c.dropped[t] }
