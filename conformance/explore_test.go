package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/sim"
)

// specWorld is the simulator configured like spec/failover's Failover.cfg world: one table
// as two halves a and b on node 1 of two, one failover, one scheduler operation.
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

// TestExploreCorrectDesign: the whole state space of the small world has no violation.
func TestExploreCorrectDesign(t *testing.T) {
	ex, err := Explore(specWorld(sim.Bugs{}, 0, 0), ExploreOptions{MaxStream: 3})
	require.NoError(t, err)
	require.False(t, ex.Truncated)
	require.Nil(t, ex.Violation)
	require.Greater(t, ex.States, 100)
	t.Logf("states %d, edges %d, depth %d, %.0f states/s", ex.States, ex.Edges, ex.Depth, ex.StatesPerSecond())
}

// TestExploreFindsSeededBugs: the explorer finds each seeded bug with a shortest trace.
func TestExploreFindsSeededBugs(t *testing.T) {
	for _, name := range []string{"merge_journal_lost", "no_epoch_fence"} {
		t.Run(name, func(t *testing.T) {
			bugs, err := sim.ParseBug(name)
			require.NoError(t, err)
			ex, err := Explore(specWorld(bugs, 0, 0), ExploreOptions{MaxStream: 3})
			require.NoError(t, err)
			require.NotNil(t, ex.Violation, "%s must be found", name)
			t.Logf("%s: %v after %d states, trace of %d steps: %v", name, ex.Violation.Err, ex.States, len(ex.Violation.Trace), ex.Violation.Trace)
		})
	}
}
