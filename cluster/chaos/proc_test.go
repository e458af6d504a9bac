package chaos

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster"
)

// startedLine is what a child prints once it serves.
const startedLine = `{"id":"n1.7","grpc":"127.0.0.1:1","http":"127.0.0.1:2"}`

// spawnSh spawns /bin/sh -c script as child name, killed when the test ends.
func spawnSh(t *testing.T, logs, name, script string) (*proc, error) {
	t.Helper()
	p, err := spawn("/bin/sh", logs, name, "node", "-c", script)
	if p != nil {
		t.Cleanup(p.kill)
	}
	return p, err
}

// eventually polls cond every 10ms until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out", "%s within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone reports whether process pid has exited (it is missing or a zombie).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command, which is in parentheses.
	rest := b[bytes.LastIndexByte(b, ')')+1:]
	f := strings.Fields(string(rest))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

// TestSpawnServes proves that spawn returns once the child printed its addresses, with
// those addresses; that the child's stderr goes to its log and its stdout keeps being
// drained after that line; and that kill ends the child's whole process group.
func TestSpawnServes(t *testing.T) {
	logs := t.TempDir()
	// A grandchild in the child's process group, its pid in the log; then a flood of
	// stdout that would block a child whose stdout nobody reads.
	script := `sleep 60 & echo "grandchild $!" >&2; echo '` + startedLine + `'; i=0; while [ $i -lt 3000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo flooded >&2; wait`
	p, err := spawnSh(t, logs, "n1.0", script)
	require.NoError(t, err)
	require.Equal(t, cluster.Started{ID: "n1.7", GRPC: "127.0.0.1:1", HTTP: "127.0.0.1:2"}, p.started)
	require.Equal(t, "n1.0", p.name)
	require.Equal(t, "node", p.role)
	require.True(t, p.alive())

	stderr := filepath.Join(logs, "n1.0.stderr")
	eventually(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(stderr)
		return strings.Contains(string(b), "flooded")
	}, "the child writes past 3000 lines of stdout")
	b, err := os.ReadFile(stderr)
	require.NoError(t, err)
	var grandchild int
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "grandchild "); ok {
			grandchild, err = strconv.Atoi(v)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, grandchild)
	require.False(t, gone(grandchild))

	p.kill()
	require.False(t, p.alive())
	require.EqualError(t, p.err, "signal: killed")
	eventually(t, 5*time.Second, func() bool { return gone(grandchild) }, "the grandchild is killed with its group")
	p.kill() // again: nothing left to kill, it returns
}

// TestSpawnFails proves spawn's errors: a binary that does not exist, a child that exits
// before it serves, one that prints something else than its addresses first, and a log
// directory that does not exist.
func TestSpawnFails(t *testing.T) {
	logs := t.TempDir()
	for _, tc := range []struct {
		name, script string
		want         string
	}{
		{name: "exits", script: `echo failing >&2; exit 3`, want: "child process failed: c.exits exited before it served (see c.exits.stderr)"},
		{name: "says hello", script: `echo hello; exec sleep 60`, want: `child process failed: c.says hello printed "hello", not its addresses`},
		{name: "no http", script: `echo '{"id":"x"}'; exec sleep 60`,
			want: `child process failed: c.no http printed "{\"id\":\"x\"}", not its addresses`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := spawnSh(t, logs, "c."+tc.name, tc.script)
			require.Nil(t, p)
			require.ErrorIs(t, err, ErrProcess)
			require.EqualError(t, err, tc.want)
		})
	}
	b, err := os.ReadFile(filepath.Join(logs, "c.exits.stderr"))
	require.NoError(t, err)
	require.Equal(t, "failing\n", string(b))

	_, err = spawn(filepath.Join(logs, "missing-binary"), logs, "m", "node")
	require.ErrorIs(t, err, ErrProcess)
	_, err = spawn("/bin/sh", filepath.Join(logs, "missing-dir"), "m", "node", "-c", "exit 0")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
