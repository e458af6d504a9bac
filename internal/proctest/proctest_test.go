package proctest_test

import (
	"os/exec"
	"testing"

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
	require.Equal(t, []int{cmd.Process.Pid}, proctest.Matching(dir))
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Empty(t, proctest.Matching(dir))
}
