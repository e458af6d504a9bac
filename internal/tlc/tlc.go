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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opfsm/opfsm/scripts"
)

// ErrNoScript is returned when TLC's script can neither be found in an opfsm repository
// around the working directory nor written to the user cache directory.
var ErrNoScript = errors.New("tlc: no scripts/tlc.sh: not inside the opfsm repository and no user cache directory")

// module is the go.mod line that marks the opfsm repository.
const module = "module github.com/opfsm/opfsm"

// waitDelay bounds how long Run waits for TLC's output to close after its process group
// was killed.
const waitDelay = 5 * time.Second

// Options says which model to check and how.
type Options struct {
	// Dir is the folder that holds the spec; TLC runs there.
	Dir string
	// Spec is the root module's name or file name (with or without ".tla").
	Spec string
	// Config is the .cfg file, relative to Dir; empty means Spec's own .cfg.
	Config string
	// Workers is TLC's worker count; 0 means 1, which keeps BFS counts exact and runs repeatable.
	Workers int
	// Args are extra TLC flags, e.g. "-deadlock" or "-dump", "dot,actionlabels", "FILE".
	Args []string
	// JVM are extra options for TLC's Java VM, e.g. "-Dtlc2.TLC.stopAfter=60" or
	// "-Xmx1g"; the environment's OPFSM_TLC_JAVA_OPTS come after them, so a user's own
	// setting wins.
	JVM []string
	// Quick says the run is expected to stop within seconds, as a seeded bug's search does
	// at its first counterexample: the JVM then compiles with its client compiler only
	// (QuickJVM). Such a run spends about 45% less CPU; an exhaustive search of a larger
	// world runs up to 1.8 times longer that way, so Quick is off by default.
	Quick bool
}

// QuickJVM is the JVM option Options.Quick adds: the client compiler only, whose code is
// ready in milliseconds, instead of the optimizing compiler, which pays back its compile
// time only in runs longer than a few seconds.
const QuickJVM = "-XX:TieredStopAtLevel=1"

// JavaOptsEnv names the environment variable whose JVM options every run adds after its
// own, so a user's settings win.
const JavaOptsEnv = "OPFSM_TLC_JAVA_OPTS"

// PreferQuick makes QuickJVM the default of every later run of this process, exhaustive
// ones included: it puts QuickJVM first in the process's JavaOptsEnv, so a compiler
// setting the variable already holds still wins. A test binary that runs many TLC
// searches side by side on few cores calls it from TestMain: there the optimizing
// compiler's threads only take CPU from the searches (opfsm's `go test ./...` on two cores:
// 800 s of wall time and 1,525 s of CPU, against 532 s and 966 s), while alone on idle
// cores a 44,000-state search finishes sooner on the optimizing compiler (32 s against
// 41 s, for about the same CPU).
func PreferQuick() {
	// Setenv fails only on a malformed name, and JavaOptsEnv is a constant well-formed one.
	_ = os.Setenv(JavaOptsEnv, strings.TrimSpace(QuickJVM+" "+os.Getenv(JavaOptsEnv)))
}

// Result is what one TLC run reported.
type Result struct {
	// Generated, Distinct and Left are the final "N states generated, M distinct states
	// found, K states left on queue" counts (0 when TLC stopped before printing them).
	Generated, Distinct, Left int64
	// Depth is the depth of the complete state graph search.
	Depth int
	// Checked is the number of states a simulation (-simulate) checked, from its last
	// "Progress: N states checked." line (TLC prints one a minute) or its final count.
	Checked int64
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
	// Witnessed names the liveness properties whose situation the run reached: the spec's
	// Witnesses invariant prints <<"witness", "Name">> the first time a state is in the
	// situation property Name is about (spec/failover/Properties.tla). Sorted, no repeats.
	Witnessed []string
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

// checker is where TLC comes from: the script to run and what to add to its environment.
type checker struct {
	script string
	env    []string
}

// Script returns the path of the script that runs TLC. Inside the opfsm repository (the
// working directory or a parent holds its go.mod) it is the repository's scripts/tlc.sh,
// which caches the jar in the repository's .cache/tlc. Anywhere else it is the copy built
// into the program (package scripts), written to the user cache directory as opfsm/tlc.sh;
// the jar is then cached in opfsm/tlc there, so it is fetched once per user.
func Script() (string, error) {
	c, err := locate()
	return c.script, err
}

func locate() (checker, error) {
	if p, ok := repoScript(); ok {
		return checker{script: p}, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return checker{}, fmt.Errorf("%w: %w", ErrNoScript, err)
	}
	dir := filepath.Join(cache, "opfsm")
	script := filepath.Join(dir, "tlc.sh")
	if err := writeIfChanged(script, []byte(scripts.TLC())); err != nil {
		return checker{}, fmt.Errorf("%w: %w", ErrNoScript, err)
	}
	c := checker{script: script}
	if os.Getenv("OPFSM_TLC_CACHE") == "" {
		c.env = []string{"OPFSM_TLC_CACHE=" + filepath.Join(dir, "tlc")}
	}
	return c, nil
}

// repoScript finds scripts/tlc.sh of the opfsm repository that holds the working directory.
func repoScript() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "scripts", "tlc.sh")
		if _, err := os.Stat(p); err == nil {
			if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isOpfsm(string(mod)) {
				return p, true
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// isOpfsm reports whether gomod (a go.mod's text) is the opfsm module's.
func isOpfsm(gomod string) bool {
	for line := range strings.Lines(gomod) {
		if strings.TrimSpace(line) == module {
			return true
		}
	}
	return false
}

// writeIfChanged writes data to path unless it already holds it; a new file is renamed
// into place, so that concurrent runs never see half of it.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// command is "bash script args..." in its own process group (on unix), which cancelling
// ctx kills whole: TLC's JVM and a Maven fetch die with the script.
func (c checker) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", append([]string{c.script}, args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	ownGroup(cmd)
	cmd.WaitDelay = waitDelay
	return cmd
}

// Jar fetches TLC if needed and returns the path of the verified jar.
func Jar(ctx context.Context) (string, error) {
	c, err := locate()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := c.command(ctx, "--jar")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tlc: fetching the jar: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Run runs TLC on opts and parses its output. The error is non-nil when TLC could not be
// started at all (no script, no java) or ctx ended the run; a violation, deadlock or parse
// error is reported in the Result. When ctx ends, TLC's whole process group is killed and
// its temporary folders are removed before Run returns.
func Run(ctx context.Context, opts Options) (Result, error) {
	c, err := locate()
	if err != nil {
		return Result{}, err
	}
	meta, err := os.MkdirTemp("", "opfsm-tlc-")
	if err != nil {
		return Result{}, fmt.Errorf("tlc: metadir: %w", err)
	}
	defer os.RemoveAll(meta)
	// TLC unpacks its standard modules (Naturals.tla, ...) into java.io.tmpdir; TLC runs
	// side by side sharing /tmp read each other's half-written files. Each run gets its own.
	tmp, err := os.MkdirTemp("", "opfsm-tlc-tmp-")
	if err != nil {
		return Result{}, fmt.Errorf("tlc: tmpdir: %w", err)
	}
	defer os.RemoveAll(tmp)

	workers := opts.Workers
	if workers <= 0 {
		workers = 1
	}
	spec := strings.TrimSuffix(opts.Spec, ".tla")
	args := []string{"-workers", strconv.Itoa(workers), "-metadir", meta, "-cleanup"}
	if opts.Config != "" {
		args = append(args, "-config", opts.Config)
	}
	args = append(args, opts.Args...)
	args = append(args, spec)

	cmd := c.command(ctx, args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(cmd.Env, JavaOptsEnv+"="+javaOptions(opts, tmp, os.Getenv(JavaOptsEnv)))
	res, err := runAndParse(ctx, cmd, c.script)
	if err != nil {
		return res, err
	}
	if res.Temporal && res.Violated == "" {
		cfg := opts.Config
		if cfg == "" {
			cfg = spec + ".cfg"
		}
		res.Violated = temporalName(filepath.Join(opts.Dir, cfg))
	}
	if res.ExitCode != 0 && res.Passed {
		res.Passed = false
	}
	return res, nil
}

// javaOptions are the JVM options of a run of opts whose temporary folder is tmp: tmp,
// opts.JVM, QuickJVM when opts.Quick, then the user's own (user, from OPFSM_TLC_JAVA_OPTS),
// which the JVM lets win because they come last.
func javaOptions(opts Options, tmp, user string) string {
	jvm := append([]string{"-Djava.io.tmpdir=" + tmp}, opts.JVM...)
	if opts.Quick {
		jvm = append(jvm, QuickJVM)
	}
	return strings.TrimSpace(strings.Join(append(jvm, user), " "))
}

// runAndParse runs cmd (script, with its arguments), its output and errors together, and
// parses what it printed. The error is ctx's cause when ctx ended the run, TLC's message
// when the script found no java or mvn (exit 3), or why cmd could not run.
func runAndParse(ctx context.Context, cmd *exec.Cmd, script string) (Result, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	runErr := cmd.Run()
	res := Parse(out.String())
	res.Duration = time.Since(start)
	if ctx.Err() != nil {
		return res, fmt.Errorf("tlc: %w", context.Cause(ctx))
	}
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if res.ExitCode == 3 { // tlc.sh: missing java or mvn
			return res, fmt.Errorf("tlc: %s", strings.TrimSpace(out.String()))
		}
	default:
		return res, fmt.Errorf("tlc: running %s: %w", script, runErr)
	}
	return res, nil
}

var (
	reCounts    = regexp.MustCompile(`(\d+) states generated, (\d+) distinct states found, (\d+) states left on queue`)
	reChecked   = regexp.MustCompile(`^Progress: (\d+) states checked`)
	reSimulated = regexp.MustCompile(`^The number of states generated: (\d+)`)
	reDepth     = regexp.MustCompile(`The depth of the complete state graph search is (\d+)`)
	reInvariant = regexp.MustCompile(`^Error: Invariant (\S+) is violated`)
	// TLC's distributed workers say "Implied-action" where TLC says "Action property".
	reAction  = regexp.MustCompile(`^Error: (?:Action property|Implied-action) (\S+) is violated`)
	reState   = regexp.MustCompile(`^State (\d+):`)
	reBackTo  = regexp.MustCompile(`^Back to state (\d+)`)
	reWitness = regexp.MustCompile(`^<<"witness", "(\w+)">>`)
)

// rerun starts the line scripts/tlc-distributed.sh prints before it runs a model again
// (TLC 2.18's server fails when a worker registers after the model is done): what came
// before it is not the verdict.
const rerun = "tlc-distributed: running again"

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
		if strings.HasPrefix(line, rerun) {
			r, errLines, inError = Result{Output: output}, nil, false
			continue
		}
		switch {
		case reCounts.MatchString(line):
			m := reCounts.FindStringSubmatch(line)
			r.Generated, _ = strconv.ParseInt(m[1], 10, 64)
			r.Distinct, _ = strconv.ParseInt(m[2], 10, 64)
			r.Left, _ = strconv.ParseInt(m[3], 10, 64)
		case reChecked.MatchString(line):
			r.Checked, _ = strconv.ParseInt(reChecked.FindStringSubmatch(line)[1], 10, 64)
		case reSimulated.MatchString(line):
			r.Checked, _ = strconv.ParseInt(reSimulated.FindStringSubmatch(line)[1], 10, 64)
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
		case reWitness.MatchString(line):
			if name := reWitness.FindStringSubmatch(line)[1]; !slices.Contains(r.Witnessed, name) {
				r.Witnessed = append(r.Witnessed, name)
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
	slices.Sort(r.Witnessed)
	return r
}

// temporalName returns the only PROPERTY (or PROPERTIES) name in a config file, or
// "temporal" when there are several or the file cannot be read.
func temporalName(cfgPath string) string {
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return "temporal"
	}
	if names := ConfigNames(string(data), "PROPERTY", "PROPERTIES"); len(names) == 1 {
		return names[0]
	}
	return "temporal"
}

// cfgKeywords are the section keywords of a TLC config file.
var cfgKeywords = []string{"INIT", "NEXT", "SPECIFICATION", "INVARIANT", "INVARIANTS", "PROPERTY", "PROPERTIES",
	"CONSTANT", "CONSTANTS", "CONSTRAINT", "CONSTRAINTS", "ACTION_CONSTRAINT", "ACTION_CONSTRAINTS",
	"SYMMETRY", "VIEW", "CHECK_DEADLOCK", "POSTCONDITION", "ALIAS"}

// ConfigNames returns the names a TLC config text lists in the sections the keywords open
// (e.g. "PROPERTY", "PROPERTIES"), in order; `\*` comments are skipped.
func ConfigNames(cfg string, keywords ...string) []string {
	var names []string
	collecting := false
	for _, line := range strings.Split(cfg, "\n") {
		if i := strings.Index(line, `\*`); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(line) {
			if slices.Contains(cfgKeywords, f) {
				collecting = slices.Contains(keywords, f)
				continue
			}
			if collecting {
				names = append(names, f)
			}
		}
	}
	return names
}
