package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/sim"
)

// failoverWorld is Failover.cfg's world: two nodes, halves, one failover, one loss, one
// duplicate, one scheduler operation of any kind.
func failoverWorld(bugs sim.Bugs) World {
	return World{N: 2, Layout: "halves", MaxReq: 12, OpKinds: []string{"move", "split", "merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 2, MaxLoss: 1, MaxDup: 1, MaxOps: 1}, Bugs: bugs}
}

// longWorld runs long behaviours: three nodes, three failovers, a node crash, three losses
// and duplicates, eight scheduler operations.
func longWorld(bugs sim.Bugs) World {
	return World{N: 3, Layout: "halves", MaxReq: 40, OpKinds: []string{"move", "split", "merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 4, MaxLoss: 3, MaxDup: 3, MaxCrash: 1, MaxOps: 8}, Bugs: bugs}
}

func TestTraceValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	w := longWorld(sim.Bugs{})
	noDrop := w
	noDrop.OpKinds = []string{"move", "split", "merge"}
	var runs []TraceRun
	for seed := uint64(1); seed <= 20; seed++ {
		world := w
		if seed%4 != 0 {
			world = noDrop // a drop ends a behaviour early; most runs keep the table
		}
		r, err := RecordWalk(world, seed, 300)
		require.NoError(t, err)
		runs = append(runs, r)
	}
	rep, err := ValidateTraces(context.Background(), "../spec/failover", w, runs)
	require.NoError(t, err)
	for _, f := range rep.Failures {
		t.Log(f.String())
	}
	require.Empty(t, rep.Failures)
	t.Logf("%d traces, %d steps validated in %s", rep.Traces, rep.Steps, rep.TLC.Duration)
}

// TestTraceValidationCatchesSeededBugs: runs of the simulator with a seeded bug are not
// behaviours of the spec; TLC's cursor gets stuck at the first bad step.
func TestTraceValidationCatchesSeededBugs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	for _, name := range []string{"merge_journal_lost", "no_epoch_fence"} {
		t.Run(name, func(t *testing.T) {
			bugs, err := sim.ParseBug(name)
			require.NoError(t, err)
			w := longWorld(bugs)
			w.OpKinds = []string{"move", "merge"}
			if name == "merge_journal_lost" {
				w.OpKinds = []string{"merge"} // the bug needs a merge in flight at a failover
			}
			var runs []TraceRun
			for seed := uint64(1); seed <= 20; seed++ {
				r, err := RecordWalk(w, seed, 200)
				if err != nil {
					continue // the bug broke the abstraction itself: not a trace TLC can read
				}
				runs = append(runs, r)
			}
			rep, err := ValidateTraces(context.Background(), "../spec/failover", w, runs)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Failures, "%s must be caught", name)
			t.Logf("%s: %d of %d traces (%d steps) fail; first: %s", name, len(rep.Failures), rep.Traces, rep.Steps, rep.Failures[0])
		})
	}
}
