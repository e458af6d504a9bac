package chaos

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opfsm/opfsm/cluster"
)

// proc is one child process: a node or a maintainer candidate.
type proc struct {
	name    string
	role    string // "node" or "maintainer"
	cmd     *exec.Cmd
	started cluster.Started
	exited  chan struct{}
	err     error // set before exited closes
}

// ErrProcess means a child process that could not start or did not report in time.
var ErrProcess = errors.New("child process failed")

// spawn starts bin with args, its stderr to logs/<name>.stderr, and waits for the one JSON
// line (cluster.Started) it prints on stdout once it serves. The child is in its own
// process group and is killed if this process dies (Pdeathsig).
func spawn(bin, logs, name, role string, args ...string) (*proc, error) {
	errf, err := os.Create(filepath.Join(logs, name+".stderr"))
	if err != nil {
		return nil, err
	}
	defer errf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stderr = errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrProcess, name, err)
	}
	p := &proc{name: name, role: role, cmd: cmd, exited: make(chan struct{})}
	line := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- append([]byte(nil), sc.Bytes()...)
		}
		close(line)
		for sc.Scan() { // drain: the child must never block on stdout
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case b, ok := <-line:
		if !ok {
			p.kill()
			return nil, fmt.Errorf("%w: %s exited before it served (see %s.stderr)", ErrProcess, name, name)
		}
		if err := json.Unmarshal(b, &p.started); err != nil || p.started.HTTP == "" {
			p.kill()
			return nil, fmt.Errorf("%w: %s printed %q, not its addresses", ErrProcess, name, b)
		}
		return p, nil
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, fmt.Errorf("%w: %s did not serve within 30s (see %s.stderr)", ErrProcess, name, name)
	}
}

// kill sends SIGKILL to the child's process group and waits for it to exit.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// alive reports whether the child still runs.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}
