package tlc_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/proctest"
	"github.com/opfsm/opfsm/internal/tlc"
	"github.com/opfsm/opfsm/scripts"
)

// TestSmokeSpec proves that TLC is fetched, verified and run on this machine, and that its
// output is parsed: the fenced config passes with its exact state counts, the unfenced one
// violates OwnerEpochNeverDecreases.
func TestSmokeSpec(t *testing.T) {
	dir := filepath.Join("..", "..", "spec", "smoke")
	cases := []struct {
		name     string
		config   string
		passed   bool
		distinct int64
		depth    int
		violated string
		trace    int
		quick    bool
	}{
		{name: "fenced", config: "Smoke.cfg", passed: true, distinct: 7, depth: 3},
		{name: "unfenced", config: "SmokeNoFence.cfg", violated: "OwnerEpochNeverDecreases", trace: 3},
		// A seeded bug's run: the JVM takes QuickJVM and finds the same counterexample.
		{name: "unfenced, quick", config: "SmokeNoFence.cfg", violated: "OwnerEpochNeverDecreases", trace: 3, quick: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			res, err := tlc.Run(ctx, tlc.Options{Dir: dir, Spec: "Smoke", Config: tc.config, Quick: tc.quick})
			require.NoError(t, err)
			require.Empty(t, res.Error, res.Output)
			require.Equal(t, tc.passed, res.Passed, res.Summary())
			require.Equal(t, tc.violated, res.Violated, res.Summary())
			if tc.passed {
				require.Equal(t, tc.distinct, res.Distinct)
				require.Equal(t, tc.depth, res.Depth)
				require.Zero(t, res.ExitCode)
			} else {
				require.Equal(t, tc.trace, res.TraceLength)
				require.Equal(t, 12, res.ExitCode)
			}
		})
	}
}

func TestRunReportsParseErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Broken.tla"), "---- MODULE Broken ----\nVARIABLE x\nInit == x = \n====\n")
	writeFile(t, filepath.Join(dir, "Broken.cfg"), "INIT Init\nNEXT Init\n")
	res, err := tlc.Run(context.Background(), tlc.Options{Dir: dir, Spec: "Broken"})
	require.NoError(t, err)
	require.False(t, res.Passed)
	require.NotEmpty(t, res.Error)
	require.Empty(t, res.Violated)
}

func TestRunNamesTheOnlyTemporalProperty(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Live.tla"), `---- MODULE Live ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x' = (x + 1) % 3
Spec == Init /\ [][Next]_x
ReachesFive == <>(x = 5)
====
`)
	writeFile(t, filepath.Join(dir, "Live.cfg"), "SPECIFICATION Spec\nPROPERTY ReachesFive\n")
	res, err := tlc.Run(context.Background(), tlc.Options{Dir: dir, Spec: "Live"})
	require.NoError(t, err)
	require.True(t, res.Temporal, res.Output)
	require.Equal(t, "ReachesFive", res.Violated)
	require.Equal(t, 13, res.ExitCode)
}

// TestCancelKillsTLC: cancelling a run kills TLC's JVM (not only the script that started it)
// and removes the run's temporary folders before Run returns. The model never ends, so only
// the cancellation can stop it.
func TestCancelKillsTLC(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds TLC's JVM in /proc")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Forever.tla"), "---- MODULE Forever ----\nEXTENDS Naturals\nVARIABLE x\nInit == x = 0\nNext == x' = x + 1\n====\n")
	writeFile(t, filepath.Join(dir, "Forever.cfg"), "INIT Init\nNEXT Next\n")
	tmp := t.TempDir() // the run's temporary folders go here, and only the run's
	t.Setenv("TMPDIR", tmp)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := tlc.Run(ctx, tlc.Options{Dir: dir, Spec: "Forever"})
		done <- err
	}()
	t.Cleanup(func() { proctest.Kill(proctest.Matching(tmp)) })
	proctest.AwaitStart(t, 5*time.Minute, "java", tmp, "tlc2.TLC") // TLC's JVM: its java.io.tmpdir is in tmp
	dirs, err := filepath.Glob(filepath.Join(tmp, "opfsm-*"))
	require.NoError(t, err)
	require.Len(t, dirs, 2, "the metadir and java.io.tmpdir of the running TLC")

	cancel()
	require.ErrorIs(t, proctest.AwaitEnd(t, done, time.Minute), context.Canceled)
	proctest.RequireClean(t, tmp)
}

// TestScript: inside the opfsm repository (from any folder of it) the script is the
// repository's; anywhere else, a folder of another project with a scripts/tlc.sh included,
// it is the built-in copy, written to the user cache directory.
func TestScript(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("points os.UserCacheDir at a temporary folder with XDG_CACHE_HOME")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	other := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(other, "scripts"), 0o755))
	writeFile(t, filepath.Join(other, "scripts", "tlc.sh"), "exit 1\n")
	writeFile(t, filepath.Join(other, "go.mod"), "module example.com/other\n")
	cache := t.TempDir()
	builtIn := filepath.Join(cache, "opfsm", "tlc.sh")
	cases := []struct {
		name, dir, want string
	}{
		{"repository root", repo, filepath.Join(repo, "scripts", "tlc.sh")},
		{"inside the repository", filepath.Join(repo, "spec", "smoke"), filepath.Join(repo, "scripts", "tlc.sh")},
		{"outside", t.TempDir(), builtIn},
		{"another project", other, builtIn},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tc.dir)
			t.Setenv("XDG_CACHE_HOME", cache)
			got, err := tlc.Script()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			if got == builtIn {
				text, err := os.ReadFile(got)
				require.NoError(t, err)
				require.Equal(t, scripts.TLC(), string(text))
			}
		})
	}
}

// TestRunDistributed runs scripts/tlc-distributed.sh (a TLCServer and two TLCWorkers on free
// ports) on a counter that stops at 2: the server checks deadlock unless the config says
// CHECK_DEADLOCK FALSE, names a violated invariant through the worker that found it, and a
// temporal property is refused rather than silently skipped. Every run leaves no process and
// no file behind.
func TestRunDistributed(t *testing.T) {
	const module = `---- MODULE Count ----
EXTENDS Naturals
VARIABLE x
Init == x = 0
Next == x < 2 /\ x' = x + 1
Spec == Init /\ [][Next]_x
Small == x < 2
Ends == <>(x = 2)
====
`
	cases := []struct {
		name     string
		config   string
		passed   bool
		distinct int64
		deadlock bool
		violated string
		trace    int
		exit     int
		err      error
	}{
		{name: "deadlock checked by default", config: "INIT Init\nNEXT Next\n", deadlock: true, trace: 1, exit: 11},
		{name: "CHECK_DEADLOCK FALSE honoured", config: "INIT Init\nNEXT Next\nCHECK_DEADLOCK FALSE\n", passed: true, distinct: 3},
		{name: "invariant named", config: "INIT Init\nNEXT Next\nINVARIANT Small\nCHECK_DEADLOCK FALSE\n", violated: "Small", trace: 2, exit: 12},
		{name: "temporal property refused", config: "SPECIFICATION Spec\nPROPERTY Ends\nCHECK_DEADLOCK FALSE\n", exit: 2, err: tlc.ErrDistributedUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Isolate(t)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "Count.tla"), module)
			writeFile(t, filepath.Join(dir, "Count.cfg"), tc.config)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			res, err := tlc.RunDistributed(ctx, tlc.Options{Dir: dir, Spec: "Count"})
			require.Equal(t, tc.exit, res.ExitCode, res.Output)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Empty(t, res.Error, res.Output)
			require.Equal(t, tc.passed, res.Passed, res.Summary())
			require.Equal(t, tc.deadlock, res.Deadlock, res.Summary())
			require.Equal(t, tc.violated, res.Violated, res.Summary())
			// The server prints only the deadlocked state or the violating step, not the path.
			require.Equal(t, tc.trace, res.TraceLength, res.Output)
			if tc.passed {
				require.Equal(t, tc.distinct, res.Distinct)
			}
		})
	}
}

// TestSimulate: a simulation stops when its time is up and passes on the fenced smoke
// model; it finds the unfenced model's violation well before its time is up.
func TestSimulate(t *testing.T) {
	dir := filepath.Join("..", "..", "spec", "smoke")
	start := time.Now()
	res, err := tlc.Simulate(context.Background(), tlc.Options{Dir: dir, Spec: "Smoke", Config: "Smoke.cfg"}, 4*time.Second)
	require.NoError(t, err)
	require.True(t, res.Passed, res.Summary())
	require.Greater(t, res.Checked, int64(0), res.Output)
	require.GreaterOrEqual(t, time.Since(start), 4*time.Second, "it runs until its time is up")

	res, err = tlc.Simulate(context.Background(), tlc.Options{Dir: dir, Spec: "Smoke", Config: "SmokeNoFence.cfg"}, 2*time.Minute)
	require.NoError(t, err)
	require.False(t, res.Passed)
	require.Equal(t, "OwnerEpochNeverDecreases", res.Violated, res.Output)
	require.Less(t, res.Duration, 2*time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tlc.Simulate(ctx, tlc.Options{Dir: dir, Spec: "Smoke", Config: "Smoke.cfg"}, time.Minute)
	require.ErrorIs(t, err, context.Canceled, "a caller's cancel is an error, not the end of the time")
}
