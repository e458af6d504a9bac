package tlc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrDistributedUnsupported is returned by RunDistributed for a model or flag that TLC's
// distributed mode cannot check: temporal (liveness) properties, which its server skips
// while still reporting success, and -dump, -simulate, -coverage. The error carries the
// script's explanation.
var ErrDistributedUnsupported = errors.New("tlc: not supported by distributed TLC")

// distributedWait bounds how long RunDistributed waits, after asking the script to stop,
// for it to stop its server and workers and remove its folder.
const distributedWait = 30 * time.Second

// RunDistributed checks opts with TLC's distributed mode through the repository's
// scripts/tlc-distributed.sh: a TLCServer and opts.Workers (default 2) TLCWorker processes
// on this machine, on free ports, all stopped and their files removed when it returns. Like
// Run, it reports a violation, deadlock or parse error in the Result; Violated is the
// invariant or action property the worker that found it named, and TraceLength is 2
// because the server prints only the violating step. Models with temporal properties fail
// with ErrDistributedUnsupported.
func RunDistributed(ctx context.Context, opts Options) (Result, error) {
	script, ok := repoFile("tlc-distributed.sh")
	if !ok {
		return Result{}, fmt.Errorf("%w: scripts/tlc-distributed.sh (distributed TLC runs from the repository)", ErrNoScript)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 2
	}
	args := []string{script, "--workers", strconv.Itoa(workers), "--"}
	if opts.Config != "" {
		args = append(args, "-config", opts.Config)
	}
	args = append(args, opts.Args...)
	args = append(args, strings.TrimSuffix(opts.Spec, ".tla"))
	cmd := exec.CommandContext(ctx, "bash", args...)
	cmd.Dir = opts.Dir
	// The script traps SIGTERM to stop its server and workers and remove its folder; it
	// is sent to the whole group, so a JVM the trap misses stops too.
	askToStop(cmd)
	cmd.WaitDelay = distributedWait
	res, err := runAndParse(ctx, cmd, script)
	if err != nil {
		return res, err
	}
	if res.ExitCode == 2 {
		return res, fmt.Errorf("%w: %s", ErrDistributedUnsupported, strings.TrimSpace(res.Output))
	}
	if res.ExitCode != 0 && res.Passed {
		res.Passed = false
	}
	return res, nil
}

// repoFile finds scripts/name in the opfsm repository that holds the working directory.
func repoFile(name string) (string, bool) {
	tlc, ok := repoScript()
	if !ok {
		return "", false
	}
	p := filepath.Join(filepath.Dir(tlc), name)
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}
