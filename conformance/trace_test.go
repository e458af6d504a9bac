package conformance

import (
	"context"
	"strings"
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
// and duplicates, a failed merged dispatcher, eight scheduler operations.
func longWorld(bugs sim.Bugs) World {
	return World{N: 3, Layout: "halves", MaxReq: 40, OpKinds: []string{"move", "split", "merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 4, MaxLoss: 3, MaxDup: 3, MaxCrash: 1, MaxFail: 1, MaxOps: 8}, Bugs: bugs}
}

func TestTraceValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	w := longWorld(sim.Bugs{})
	noDrop := w
	noDrop.OpKinds = []string{"move", "split", "merge"}
	var runs []TraceRun
	fails := 0
	for seed := uint64(1); seed <= 20; seed++ {
		world := w
		if seed%4 != 0 {
			world = noDrop // a drop ends a behaviour early; most runs keep the table
		}
		r, err := RecordWalk(world, seed, 300)
		require.NoError(t, err)
		runs = append(runs, r)
		for _, a := range r.Actions {
			if a.Name == "DMPrepareFail" {
				fails++
			}
		}
	}
	require.Positive(t, fails, "some run fails a merged dispatcher before its commit")
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
			// Eight seeded runs: each bug breaks one of the first three (the walks are
			// deterministic), and every run costs TLC time.
			for seed := uint64(1); seed <= 8; seed++ {
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

// TestTraceModuleSaysEachValueOnce: a value longer than inlineValue is one definition
// however many states hold it, short values stay inline, each trace is its own definition,
// and Traces lists them in order.
func TestTraceModuleSaysEachValueOnce(t *testing.T) {
	w := longWorld(sim.Bugs{})
	var runs []TraceRun
	for seed := uint64(1); seed <= 3; seed++ {
		r, err := RecordWalk(w, seed, 50)
		require.NoError(t, err)
		runs = append(runs, r)
	}
	mod := traceModule(runs)
	long := map[string]bool{}
	states := 0
	for _, r := range runs {
		for _, st := range r.States {
			states++
			for _, v := range SpecVars {
				if len(st[v]) > inlineValue {
					long[st[v]] = true
				}
			}
		}
	}
	for v := range long {
		require.Equal(t, 1, strings.Count(mod, " == "+v+"\n"), "value %s is defined once", v)
	}
	require.Equal(t, len(long), strings.Count(mod, "\nV"), "one definition per long value")
	require.Equal(t, states, strings.Count(mod, "    [alive |-> "), "one record per state")
	require.Contains(t, mod, `phase |-> "run"`, "short values are written inline")
	require.Contains(t, mod, "\nTraces == <<T1, T2, T3>>\n")
}

// BenchmarkValidateTraces10k has TLC validate a hundred recorded runs, about ten thousand
// steps (go test -run '^$' -bench ValidateTraces -benchtime 1x ./conformance).
func BenchmarkValidateTraces10k(b *testing.B) {
	w := longWorld(sim.Bugs{})
	w.OpKinds = []string{"move", "split", "merge"}
	var runs []TraceRun
	steps := 0
	for seed := uint64(1); seed <= 100; seed++ {
		r, err := RecordWalk(w, seed, 100)
		require.NoError(b, err)
		runs = append(runs, r)
		steps += len(r.Actions)
	}
	for b.Loop() {
		rep, err := ValidateTraces(context.Background(), "../spec/failover", w, runs)
		require.NoError(b, err)
		require.Empty(b, rep.Failures)
		b.ReportMetric(float64(steps), "steps")
		b.ReportMetric(float64(steps)/rep.TLC.Duration.Seconds(), "steps/s")
	}
}
