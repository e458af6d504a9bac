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

// TestCompareConfig: a safety config's own TLC run checks its invariants and dumps the
// graph the simulator must equal (Checked, with the run's witnesses); a config whose
// invariant fails is an error naming it; a liveness config's world is compared under
// StreamBound without its properties.
func TestCompareConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	w := World{N: 2, Layout: "halves", MaxReq: 2, OpKinds: []string{"move"}, Limits: sim.Limits{MaxEpoch: 2, MaxOps: 1}}
	dir := t.TempDir()
	require.NoError(t, copyModules("../spec/failover", dir))
	safety := w.Constants() + "INIT Init\nNEXT Next\nCONSTRAINT StreamBound\nCHECK_DEADLOCK FALSE\n"
	configs := map[string]string{
		"Safety.cfg": safety + "INVARIANTS TypeOK NoDuplicateActiveDispatcher RecoveryBranches\nPROPERTIES MergeCommitObserved\n",
		// A move completes in this world: the reachability witness must fail.
		"Broken.cfg":   safety + "INVARIANTS TypeOK MoveNeverCompletes\n",
		"Liveness.cfg": w.Constants() + "SPECIFICATION FairSpec\nPROPERTIES OperatorsTerminate\nCHECK_DEADLOCK FALSE\n",
	}
	for name, body := range configs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	for _, tc := range []struct {
		config  string
		checked bool
		err     string
	}{
		{config: "Safety.cfg", checked: true},
		{config: "Broken.cfg", err: "violated MoveNeverCompletes"},
		{config: "Liveness.cfg"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			require.Equal(t, tc.checked || tc.err != "", ChecksItsWorld(configs[tc.config]))
			cmp, err := CompareConfig(context.Background(), dir, tc.config)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.True(t, cmp.Diff.Equal(), "%+v\n%s", cmp.Diff, cmp.Diff.First)
			require.Equal(t, cmp.Diff.States, cmp.Sim.Abstract)
			require.Equal(t, tc.checked, cmp.Checked)
			require.Equal(t, int64(cmp.Diff.States), cmp.TLC.Distinct)
			if tc.checked {
				require.Contains(t, cmp.TLC.Witnessed, "RecoverJournaledMove", "the config's RecoveryBranches ran")
			} else {
				require.Empty(t, cmp.TLC.Witnessed, "the liveness config's properties are not checked")
			}
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
