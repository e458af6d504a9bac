package proctest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Matching returns the pids of the live processes whose command line (its arguments
// joined by spaces) contains every one of parts. A zombie has no command line and never
// matches.
func Matching(parts ...string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(raw) == 0 {
			continue
		}
		cmdline := strings.ReplaceAll(string(raw), "\x00", " ")
		all := true
		for _, p := range parts {
			all = all && strings.Contains(cmdline, p)
		}
		if all {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Kill kills each process of pids, ignoring those already gone: a test's cleanup, so that
// a failed assertion leaves nothing running.
func Kill(pids []int) {
	for _, pid := range pids {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}

// AwaitStart waits up to within for a live process whose command line holds every one of
// parts, failing t if none appears, and returns the matching pids.
func AwaitStart(t testing.TB, within time.Duration, parts ...string) []int {
	t.Helper()
	var pids []int
	require.Eventually(t, func() bool {
		pids = Matching(parts...)
		return len(pids) > 0
	}, within, 20*time.Millisecond, "no process with %q in its command line started", parts)
	return pids
}

// AwaitEnd waits up to within for the run that reports on done to end, failing t if it does
// not, and returns what it reported.
func AwaitEnd(t testing.TB, done <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("the run did not end within %s of being stopped", within)
		return nil
	}
}

// RequireClean fails t when a live process mentions tmp (a run's private TMPDIR) in its
// command line, or tmp holds an opfsm-* entry: what a stopped run must not leave behind.
func RequireClean(t testing.TB, tmp string) {
	t.Helper()
	require.Empty(t, Matching(tmp), "a process of the run survived")
	left, err := filepath.Glob(filepath.Join(tmp, "opfsm-*"))
	require.NoError(t, err)
	require.Empty(t, left, "the run's temporary folders were left behind")
}

// Isolate points TMPDIR at a fresh folder for the rest of the test and returns it. The TLC
// scripts put their temporary files below TMPDIR and name them on their processes' command
// lines, so when the test ends (passed or failed) every process whose command line still
// mentions the folder is killed and fails the test, and so does any file left in it. It
// uses t.Setenv, so the test cannot be parallel.
func Isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	t.Cleanup(func() {
		left := Matching(dir)
		for _, pid := range left {
			t.Errorf("process %d was left running", pid)
		}
		Kill(left)
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Errorf("reading %s: %v", dir, err)
		}
		for _, e := range files {
			t.Errorf("%s was left in %s", e.Name(), dir)
		}
	})
	return dir
}
