package proctest_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/proctest"
)

// TestMatchingFindsALeftover: a process that names the folder on its command line is found
// until it is gone, which is what Isolate relies on to catch a script that leaks a worker.
func TestMatchingFindsALeftover(t *testing.T) {
	dir := t.TempDir()
	// A builtin that waits on an open pipe: no child process, the folder in its arguments.
	cmd := exec.Command("bash", "-c", "read -r _", dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = stdin.Close() })
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	// Start returns once the exec began; the kernel fills in the new command line a little
	// later, so a loaded machine may show it empty for a moment.
	require.Eventually(t, func() bool { return len(proctest.Matching(dir)) > 0 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []int{cmd.Process.Pid}, proctest.Matching(dir))
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Empty(t, proctest.Matching(dir))
}
