package conformance

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/proctest"
	"github.com/opfsm/opfsm/sim"
)

func graphCheck(t *testing.T, w World) (GraphDiff, *Exploration) {
	t.Helper()
	cmp, err := CompareWorld(context.Background(), "../spec/failover", w)
	require.NoError(t, err)
	t.Logf("TLC: %d states, %d edges in %s; simulator: %d abstract states (%d concrete), %d edges in %s (%.0f states/s)",
		cmp.Diff.States, cmp.SpecEdges, cmp.TLC.Duration, cmp.Sim.Abstract, cmp.Sim.States, cmp.SimEdges, cmp.Sim.Elapsed, cmp.Sim.StatesPerSecond())
	return cmp.Diff, cmp.Sim
}

func TestGraphSmall(t *testing.T) {
	w := World{N: 2, Layout: "halves", MaxReq: 2, OpKinds: []string{"move"}, Limits: sim.Limits{MaxEpoch: 2, MaxOps: 1}}
	d, _ := graphCheck(t, w)
	require.True(t, d.Equal(), "%+v\n%s", d, d.First)
}

// TestGraphCIConfigs: on the world of each CI config, the simulator's abstract state graph
// equals TLC's: the same states (as many as TLC counts) and the same labelled edges.
func TestGraphCIConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	for _, cfg := range CIConfigs {
		t.Run(cfg, func(t *testing.T) {
			w, err := WorldFromConfig(filepath.Join("../spec/failover", cfg))
			require.NoError(t, err)
			d, ex := graphCheck(t, w)
			require.Nil(t, ex.Violation)
			require.True(t, d.Equal(), "%+v\n%s", d, d.First)
			require.Equal(t, d.States, ex.Abstract)
		})
	}
}

// TestGraphCatchesSeededBugs: each seeded bug in the Go simulator breaks the graph
// comparison (TLC runs once, with Bug = "none"): the simulator takes a step the spec does
// not (CheckSim stops at the first), or it cannot take one the spec takes.
func TestGraphCatchesSeededBugs(t *testing.T) {
	w := World{N: 2, Layout: "halves", MaxReq: 2, OpKinds: []string{"move", "merge"},
		Limits: sim.Limits{MaxEpoch: 3, MaxOps: 1}}
	spec, res, err := TLCGraph(context.Background(), "../spec/failover", w)
	require.NoError(t, err)
	t.Logf("TLC: %d states, %d edges in %s", spec.States(), len(spec.Edges()), res.Duration)
	first, ex, err := CheckSim(spec, w, 0)
	require.NoError(t, err)
	require.Empty(t, first, "the correct simulator conforms")
	require.Equal(t, spec.States(), ex.Abstract, "and reaches as many abstract states as TLC")
	// G6 needs an aborted merge: a merge and a DROP TABLE (no failover keeps it small).
	abortWorld := World{N: 2, Layout: "halves", MaxReq: 4, OpKinds: []string{"merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 1, MaxOps: 2}}
	abortSpec, res, err := TLCGraph(context.Background(), "../spec/failover", abortWorld)
	require.NoError(t, err)
	t.Logf("TLC (merge and drop, no failover): %d states, %d edges in %s", abortSpec.States(), len(abortSpec.Edges()), res.Duration)
	// The bugs are measured against a correct simulator that matches both graphs exactly,
	// so a difference is the bug's and nothing else's.
	impl, _, err := SimGraph(context.Background(), abortWorld, 0)
	require.NoError(t, err)
	d := CompareGraphs(abortSpec, impl)
	require.True(t, d.Equal(), "the correct simulator equals the spec on the merge-and-drop world: %+v\n%s", d, d.First)
	for _, name := range sim.BugNames() {
		t.Run(name, func(t *testing.T) {
			bw, spec := w, spec
			switch name {
			case "sweep_skips_precommit":
				bw, spec = abortWorld, abortSpec
			case "abort_ignores_missing_target":
				// Needs a merged dispatcher that fails before the commit: LivenessMergeFail's world.
				bw = World{N: 2, Layout: "halves", MaxReq: 3, OpKinds: []string{"merge"},
					Limits: sim.Limits{MaxEpoch: 1, MaxOps: 1, MaxFail: 1}}
				spec, _, err = TLCGraph(context.Background(), "../spec/failover", bw)
				require.NoError(t, err)
			}
			bw.Bugs, err = sim.ParseBug(name)
			require.NoError(t, err)
			if bw.Bugs.Recovery != "" {
				t.Skipf("%s is recovery's: the spec's two-key world cannot express it; sim's any-snapshot property catches it", name)
			}
			first, ex, err := CheckSim(spec, bw, 0)
			require.NoError(t, err)
			if first != "" {
				t.Logf("%s: the simulator takes a step the spec does not, after %d states in %s:\n%s", name, ex.States, ex.Elapsed, firstLines(first, 3))
				return
			}
			// Every step of the simulator is a spec step: the bug must then lose steps the
			// spec takes (G6: a sweep that never happens), which the full comparison shows.
			impl, ex, err := SimGraph(context.Background(), bw, 0)
			require.NoError(t, err)
			d := CompareGraphs(spec, impl)
			require.Positive(t, d.OnlySpecEdges, "%s must make the graphs differ", name)
			t.Logf("%s: the spec takes %d steps the simulator cannot (full search, %s):\n%s", name, d.OnlySpecEdges, ex.Elapsed, firstLines(d.First, 3))
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestTLCGraphReportsTLCFailure: when TLC fails before it writes its dump (here, a spec
// that does not parse), TLCGraph returns TLC's error instead of waiting on the pipe.
func TestTLCGraphReportsTLCFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	dir := t.TempDir()
	require.NoError(t, copyModules("../spec/failover", dir))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Failover.tla"), []byte("---- MODULE Failover ----\nthis does not parse\n====\n"), 0o644))
	w := World{N: 2, Layout: "halves", MaxReq: 2, OpKinds: []string{"move"}, Limits: sim.Limits{MaxEpoch: 2, MaxOps: 1}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, err := TLCGraph(ctx, dir, w)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "TLCGraph must not hang until the deadline")
}

// TestCompareWorldStopsWithItsContext: cancelling a comparison mid-way stops the
// simulator's search, kills TLC (which is writing its dump into a named pipe) and removes
// the temporary folders, promptly: NodeCrash's world would take minutes.
func TestCompareWorldStopsWithItsContext(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds TLC's JVM in /proc")
	}
	w, err := WorldFromConfig("../spec/failover/NodeCrash.cfg")
	require.NoError(t, err)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() { proctest.Kill(proctest.Matching(tmp)) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := CompareWorld(ctx, "../spec/failover", w)
		done <- err
	}()
	proctest.AwaitStart(t, 5*time.Minute, "java", tmp, "tlc2.TLC")
	cancel()
	require.ErrorIs(t, proctest.AwaitEnd(t, done, time.Minute), context.Canceled)
	proctest.RequireClean(t, tmp)
}
