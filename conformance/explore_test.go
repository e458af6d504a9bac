package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/sim"
)

// specWorld is a world shaped like spec/failover's (one table as two halves a and b on node
// 1 of two, one failover, one scheduler operation) whose scheduler, unlike the spec's,
// splits a span at its own middle key (sim.SplitKey) rather than only at the table's key
// "1", so its states are more than any spec world's.
func specWorld(bugs sim.Bugs, loss, dup int) sim.Config {
	return sim.Config{
		Changefeed: "cf",
		Nodes:      []ops.NodeID{"1", "2"},
		Tables:     []ops.TableID{1},
		Tasks: []ops.Task{
			{ID: "a", Span: ops.Span{Table: 1, End: "1"}, Node: "1"},
			{ID: "b", Span: ops.Span{Table: 1, Start: "1"}, Node: "1"},
		},
		Limits: sim.Limits{MaxEpoch: 2, MaxLoss: loss, MaxDup: dup, MaxOps: 1},
		Bugs:   bugs,
	}
}

// TestExploreCorrectDesign: the whole state space of a small world has no violation, and
// the search finds exactly the states it always has.
func TestExploreCorrectDesign(t *testing.T) {
	// The spec world of Failover.cfg's constants without its lost and duplicated requests.
	spec := World{N: 2, Layout: "halves", Limits: sim.Limits{MaxEpoch: 2, MaxOps: 1}, MaxReq: 3,
		OpKinds: []string{"move", "split", "merge", "drop"}}
	tests := []struct {
		name   string
		cfg    sim.Config
		states int
	}{
		// TLC 2.18 (TLCCount, one worker) finds 5,274 distinct states in this world, and
		// the simulator's states here are as fine as the abstract ones (SimGraph: 5,274
		// concrete, 5,274 abstract).
		{"spec world", spec.Config(), 5274},
		// Not a spec world, so TLC has no count: the simulator's own, pinned.
		{"split at any key", specWorld(sim.Bugs{}, 0, 0), 25842},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := Explore(context.Background(), tt.cfg, ExploreOptions{MaxStream: spec.MaxReq})
			require.NoError(t, err)
			require.False(t, ex.Truncated)
			require.Nil(t, ex.Violation)
			require.Equal(t, tt.states, ex.States)
			t.Logf("states %d, edges %d, depth %d, %.0f states/s", ex.States, ex.Edges, ex.Depth, ex.StatesPerSecond())
		})
	}
}

// TestExploreFindsSeededBugs: the explorer finds each seeded bug with a shortest trace, on
// the property it breaks.
func TestExploreFindsSeededBugs(t *testing.T) {
	for name, property := range map[string]string{"merge_journal_lost": "NoDuplicateActiveDispatcher",
		"no_epoch_fence": "NoDuplicateActiveDispatcher", "merge_not_journaled": "MergesJournaled"} {
		t.Run(name, func(t *testing.T) {
			bugs, err := sim.ParseBug(name)
			require.NoError(t, err)
			ex, err := Explore(context.Background(), specWorld(bugs, 0, 0), ExploreOptions{MaxStream: 3})
			require.NoError(t, err)
			require.NotNil(t, ex.Violation, "%s must be found", name)
			var v *sim.Violation
			require.ErrorAs(t, ex.Violation.Err, &v)
			require.Equal(t, property, v.Property)
			t.Logf("%s: %v after %d states, trace of %d steps: %v", name, ex.Violation.Err, ex.States, len(ex.Violation.Trace), ex.Violation.Trace)
		})
	}
}
