package tlc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	// ErrNoScript is returned when scripts/tlc.sh (or scripts/tlc-distributed.sh) cannot be
	// found above the working directory.
	ErrNoScript = errors.New("tlc: script not found in any parent folder")
	// ErrDistributedUnsupported is returned by RunDistributed for a model or flag that TLC's
	// distributed mode cannot check: temporal (liveness) properties, which its server skips
	// while still reporting success, and -dump, -simulate, -coverage. The error carries the
	// script's explanation.
	ErrDistributedUnsupported = errors.New("tlc: not supported by distributed TLC")
)

// Options says which model to check and how.
type Options struct {
	// Dir is the folder that holds the spec; TLC runs there.
	Dir string
	// Spec is the root module's name or file name (with or without ".tla").
	Spec string
	// Config is the .cfg file, relative to Dir; empty means Spec's own .cfg.
	Config string
	// Workers is TLC's worker count; 0 means 1, which keeps BFS counts exact and runs repeatable.
	// For RunDistributed it is the number of TLCWorker processes on this machine (one thread
	// each); 0 means 2.
	Workers int
	// Args are extra TLC flags, e.g. "-deadlock" or "-dump", "dot,actionlabels", "FILE".
	Args []string
}

// Result is what one TLC run reported.
type Result struct {
	// Generated, Distinct and Left are the final "N states generated, M distinct states
	// found, K states left on queue" counts (0 when TLC stopped before printing them).
	Generated, Distinct, Left int64
	// Depth is the depth of the complete state graph search.
	Depth int
	// Violated names the violated invariant or action property. For a temporal property TLC
	// 2.18 does not print the name: Violated is then the config's only PROPERTY, or
	// "temporal" when the config lists several.
	Violated string
	// Temporal is true when a temporal (liveness) property was violated.
	Temporal bool
	// Deadlock is true when TLC reached a deadlock.
	Deadlock bool
	// Error is TLC's own error text for anything that is not a property violation or a
	// deadlock (parse or semantic errors, a missing config, an evaluation error).
	Error string
	// TraceLength is the number of states in the counterexample (0 when there is none).
	TraceLength int
	// Passed is true when TLC completed model checking and found no error.
	Passed bool
	// ExitCode is TLC's exit code (0 passed, 11 deadlock, 12 safety, 13 liveness,
	// 150 and above parse and configuration errors).
	ExitCode int
	// Duration is the wall time of the run.
	Duration time.Duration
	// Output is everything TLC printed.
	Output string
}

// Summary is a one-line description of r for logs and test messages.
func (r Result) Summary() string {
	status := "passed"
	switch {
	case r.Error != "":
		status = "error: " + r.Error
	case r.Deadlock:
		status = "deadlock"
	case r.Violated != "":
		status = "violated " + r.Violated
	case !r.Passed:
		status = "incomplete"
	}
	return fmt.Sprintf("%s (%d generated, %d distinct, depth %d, trace %d, %s)",
		status, r.Generated, r.Distinct, r.Depth, r.TraceLength, r.Duration.Round(time.Millisecond))
}

// Script returns the path of scripts/tlc.sh, searching from the working directory upwards.
func Script() (string, error) { return findScript("tlc.sh") }

func findScript(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("tlc: working directory: %w", err)
	}
	for {
		p := filepath.Join(dir, "scripts", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: scripts/%s", ErrNoScript, name)
		}
		dir = parent
	}
}

// Jar fetches TLC if needed and returns the path of the verified jar.
func Jar(ctx context.Context) (string, error) {
	script, err := Script()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script, "--jar")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tlc: fetching the jar: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Run runs TLC on opts and parses its output. The error is non-nil only when TLC could not
// be started at all (no script, no java); a violation, deadlock or parse error is reported
// in the Result.
func Run(ctx context.Context, opts Options) (Result, error) {
	script, err := Script()
	if err != nil {
		return Result{}, err
	}
	meta, err := os.MkdirTemp("", "opfsm-tlc-")
	if err != nil {
		return Result{}, fmt.Errorf("tlc: metadir: %w", err)
	}
	defer os.RemoveAll(meta)

	workers := opts.Workers
	if workers <= 0 {
		workers = 1
	}
	spec := strings.TrimSuffix(opts.Spec, ".tla")
	args := []string{script, "-workers", strconv.Itoa(workers), "-metadir", meta, "-cleanup"}
	if opts.Config != "" {
		args = append(args, "-config", opts.Config)
	}
	args = append(args, opts.Args...)
	args = append(args, spec)

	// TLC unpacks its standard modules (Naturals.tla, ...) into java.io.tmpdir; TLC runs
	// side by side sharing /tmp read each other's half-written files. Each run gets its own.
	tmp, err := os.MkdirTemp("", "opfsm-tlc-tmp-")
	if err != nil {
		return Result{}, fmt.Errorf("tlc: tmpdir: %w", err)
	}
	defer os.RemoveAll(tmp)
	env := append(os.Environ(), "OPFSM_TLC_JAVA_OPTS="+strings.TrimSpace(os.Getenv("OPFSM_TLC_JAVA_OPTS")+" -Djava.io.tmpdir="+tmp))
	res, err := runScript(ctx, opts, args, env)
	if err != nil {
		return res, err
	}
	if res.ExitCode == 3 { // tlc.sh: missing java or mvn
		return res, fmt.Errorf("tlc: %s", strings.TrimSpace(res.Output))
	}
	return res, nil
}

// RunDistributed checks opts with TLC's distributed mode through scripts/tlc-distributed.sh:
// a TLCServer and opts.Workers TLCWorker processes on this machine, on free ports, all
// stopped and their files removed when it returns. Like Run, it reports a violation,
// deadlock or parse error in the Result; Violated is the invariant or action property the
// worker that found it named, and TraceLength is 2 because the server prints only the
// violating step. Models with temporal properties fail with ErrDistributedUnsupported.
func RunDistributed(ctx context.Context, opts Options) (Result, error) {
	script, err := findScript("tlc-distributed.sh")
	if err != nil {
		return Result{}, err
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
	res, err := runScript(ctx, opts, args, os.Environ())
	if err != nil {
		return res, err
	}
	switch res.ExitCode {
	case 2:
		return res, fmt.Errorf("%w: %s", ErrDistributedUnsupported, strings.TrimSpace(res.Output))
	case 3: // tlc.sh: missing java or mvn
		return res, fmt.Errorf("tlc: %s", strings.TrimSpace(res.Output))
	}
	return res, nil
}

// runScript runs bash with args in opts.Dir and parses what it prints. Cancelling ctx sends
// SIGTERM, so that a script's trap can stop what it started, and SIGKILL 30 s later.
func runScript(ctx context.Context, opts Options, args []string, env []string) (Result, error) {
	cmd := exec.CommandContext(ctx, "bash", args...)
	cmd.Dir = opts.Dir
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	runErr := cmd.Run()
	res := Parse(out.String())
	res.Duration = time.Since(start)
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("tlc: running %s: %w", args[0], runErr)
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("tlc: %w", ctx.Err())
	}
	if res.Temporal && res.Violated == "" {
		cfg := opts.Config
		if cfg == "" {
			cfg = strings.TrimSuffix(opts.Spec, ".tla") + ".cfg"
		}
		res.Violated = temporalName(filepath.Join(opts.Dir, cfg))
	}
	if res.ExitCode != 0 && res.Passed {
		res.Passed = false
	}
	return res, nil
}

var (
	reCounts    = regexp.MustCompile(`(\d+) states generated, (\d+) distinct states found, (\d+) states left on queue`)
	reDepth     = regexp.MustCompile(`The depth of the complete state graph search is (\d+)`)
	reInvariant = regexp.MustCompile(`^Error: Invariant (\S+) is violated`)
	// TLC's distributed workers say "Implied-action" where TLC says "Action property".
	reAction = regexp.MustCompile(`^Error: (?:Action property|Implied-action) (\S+) is violated`)
	reState  = regexp.MustCompile(`^State (\d+):`)
	reBackTo = regexp.MustCompile(`^Back to state (\d+)`)
)

// Parse reads TLC's plain (non -tool) output. It never fails: what it cannot recognise is
// left at its zero value, and Output keeps the full text.
func Parse(output string) Result {
	r := Result{Output: output}
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var errLines []string
	inError := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case reCounts.MatchString(line):
			m := reCounts.FindStringSubmatch(line)
			r.Generated, _ = strconv.ParseInt(m[1], 10, 64)
			r.Distinct, _ = strconv.ParseInt(m[2], 10, 64)
			r.Left, _ = strconv.ParseInt(m[3], 10, 64)
		case reDepth.MatchString(line):
			r.Depth, _ = strconv.Atoi(reDepth.FindStringSubmatch(line)[1])
		case reInvariant.MatchString(line):
			r.Violated = reInvariant.FindStringSubmatch(line)[1]
		case reAction.MatchString(line):
			r.Violated = reAction.FindStringSubmatch(line)[1]
		case strings.HasPrefix(line, "Error: Temporal properties were violated"):
			r.Temporal = true
		case strings.HasPrefix(line, "Error: Deadlock reached"),
			strings.HasPrefix(line, "Error: deadlock reached"): // the second is a distributed worker's
			r.Deadlock = true
		case strings.HasPrefix(line, "Model checking completed. No error has been found"):
			r.Passed = true
		case reState.MatchString(line):
			if n, _ := strconv.Atoi(reState.FindStringSubmatch(line)[1]); n > r.TraceLength {
				r.TraceLength = n
			}
		case reBackTo.MatchString(line):
			// A lasso: the loop closes on an earlier state; the length stays the prefix count.
		case strings.HasPrefix(line, "Error: The behavior up to this point is"),
			strings.HasPrefix(line, "Error: The following behavior constitutes a counter-example"),
			strings.HasPrefix(line, "Error: The error occurred when TLC was evaluating"):
			inError = false
		case strings.HasPrefix(line, "Error: "),
			strings.Contains(line, "***Parse Error***"),
			strings.HasPrefix(line, "Semantic errors:"),
			strings.HasPrefix(line, "The exception was a "):
			if r.Violated == "" && !r.Temporal && !r.Deadlock {
				errLines = append(errLines, strings.TrimPrefix(line, "Error: "))
				inError = true
			}
		case inError && strings.TrimSpace(line) != "" && len(errLines) < 12:
			if strings.HasPrefix(line, "Finished in") || strings.HasPrefix(line, "Starting...") {
				inError = false
				break
			}
			errLines = append(errLines, strings.TrimSpace(line))
		}
	}
	if len(errLines) > 0 && r.Violated == "" && !r.Temporal && !r.Deadlock {
		r.Error = strings.Join(errLines, " ")
		r.Passed = false
	}
	if r.Violated != "" || r.Temporal || r.Deadlock {
		r.Passed = false
	}
	return r
}

// temporalName returns the only PROPERTY (or PROPERTIES) name in a config file, or
// "temporal" when there are several or the file cannot be read.
func temporalName(cfgPath string) string {
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return "temporal"
	}
	var names []string
	collecting := false
	for _, f := range strings.Fields(string(data)) {
		switch f {
		case "PROPERTY", "PROPERTIES":
			collecting = true
			continue
		case "INIT", "NEXT", "SPECIFICATION", "INVARIANT", "INVARIANTS", "CONSTANT", "CONSTANTS",
			"CONSTRAINT", "CONSTRAINTS", "ACTION_CONSTRAINT", "ACTION_CONSTRAINTS", "SYMMETRY", "VIEW",
			"CHECK_DEADLOCK":
			collecting = false
			continue
		}
		if collecting {
			names = append(names, f)
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return "temporal"
}
