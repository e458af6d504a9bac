package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/opfsm/opfsm/conformance"
	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/recovery"
	"github.com/opfsm/opfsm/sim"
	"github.com/opfsm/opfsm/spec"
)

// conformMemoryLimit is the Go runtime's soft memory limit in `opfsm conform` (unless
// GOMEMLIMIT is set): the comparison holds about half a gigabyte live at its peak (both
// graphs of MergeAbort's world, 702,073 states and a few million edges each), and without a
// limit the collector lets the heap grow to twice that before it runs. With it the
// process stays near 1 GiB while TLC's JVM (capped at a 1 GB heap) runs beside it.
const conformMemoryLimit = 1 << 30

// exploreGCPercent is the Go collector's GOGC in `opfsm explore` (unless GOGC or
// GOMEMLIMIT is set), with a soft memory limit of three quarters of --max-memory: the
// explorer allocates a clone per edge and keeps little of it, so with the default 100 the
// collector took about 40% of its time. MergeAbort on 2 cores: 33,110 states/s at 2.1 GB
// with 100, 46,561 at 5.3 GB with 400, 51,776 at 6.1 GB with 800.
const exploreGCPercent = 800

// conformConfigs are the worlds `opfsm conform` and `opfsm explore` use by default.
var conformConfigs = conformance.CIConfigs

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

var _ flag.Value = (*stringList)(nil)

// worldFlags reads --spec, --config (repeatable) and --bug, shared by conform and explore.
type worldFlags struct {
	spec    *string
	configs stringList
	bug     *string
}

func addWorldFlags(fs *flag.FlagSet) *worldFlags {
	w := &worldFlags{
		spec: fs.String("spec", "", "folder of the TLA+ spec (default: the spec/failover built into opfsm)"),
		bug:  fs.String("bug", "none", "seeded bug to switch on in the simulator: "+fmt.Sprint(sim.BugNames())),
	}
	fs.Var(&w.configs, "config", "a TLC config (in --spec) whose constants give the world; repeatable (default: "+strings.Join(conformConfigs, ", ")+")")
	return w
}

// specDir is the spec's folder: --spec, or the built-in spec/failover unpacked into a
// temporary folder, which remove removes.
func (f *worldFlags) specDir() (dir string, remove func(), err error) {
	if *f.spec != "" {
		return *f.spec, func() {}, nil
	}
	root, err := spec.Unpack()
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(root, "failover"), func() { os.RemoveAll(root) }, nil
}

// worlds resolves the chosen configs of the spec in dir to worlds with the seeded bug
// switched on.
func (f *worldFlags) worlds(dir string) ([]string, []conformance.World, error) {
	bugs, err := sim.ParseBug(*f.bug)
	if err != nil {
		return nil, nil, badInput("%v", err)
	}
	names := []string(f.configs)
	if len(names) == 0 {
		names = conformConfigs
	}
	var ws []conformance.World
	for _, n := range names {
		w, err := conformance.WorldFromConfig(filepath.Join(dir, n))
		if err != nil {
			return nil, nil, badInput("%v", err)
		}
		w.Bugs = bugs
		ws = append(ws, w)
	}
	return names, ws, nil
}

// runConform compares the simulator with the TLA+ spec in both directions: for each world,
// TLC's full state graph against the simulator's (every state, every labelled edge), then
// random simulator runs validated by TLC as traces. Exit 0 when they agree, 1 when not.
func runConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conform", stderr)
	wf := addWorldFlags(fs)
	traces := fs.Int("traces", 20, "random simulator runs to validate as TLA+ traces (0: none)")
	steps := fs.Int("steps", 300, "random steps per run before the fair settling")
	seed := fs.Uint64("seed", 1, "first seed of the trace runs")
	logs := fs.String("logs", "", "instead: check that the logs in this folder (opfsm cluster chaos --spec) are a behaviour of the spec")
	var recoveryCfgs stringList
	fs.Var(&recoveryCfgs, "recovery", "instead: compare package recovery with the spec's Recover on every snapshot of this RecoveryKeys config (in --spec), e.g. RecoveryKeys.cfg; repeatable")
	workers := fs.Int("workers", 1, "with --recovery: TLC workers recovering the snapshots (0: one per core; the snapshots are the same for any number)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *logs != "" {
		return conformLogs(ctx, wf, *logs, stdout)
	}
	if len(recoveryCfgs) > 0 {
		if *workers < 0 {
			return badInput("--workers must be >= 0")
		}
		return conformRecovery(ctx, wf, recoveryCfgs, *workers, stdout)
	}
	if *traces < 0 || *steps <= 0 {
		return badInput("--traces must be >= 0 and --steps positive")
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(conformMemoryLimit))
	}
	dir, remove, err := wf.specDir()
	if err != nil {
		return err
	}
	defer remove()
	names, worlds, err := wf.worlds(dir)
	if err != nil {
		return err
	}
	failed := false
	for i, w := range worlds {
		cmp, err := conformance.CompareWorld(ctx, dir, w)
		if errors.Is(err, conformance.ErrNotAbstract) {
			failed = true
			fmt.Fprintf(stdout, "%s: the simulator reached a state the spec cannot express: %v\n", names[i], err)
			continue
		}
		if err != nil {
			return err
		}
		d, ex := cmp.Diff, cmp.Sim
		fmt.Fprintf(stdout, "%s: TLC %d states, %d edges (%s); simulator %d states (%d concrete), %d edges (%s, %.0f states/s)\n",
			names[i], d.States, cmp.SpecEdges, cmp.TLC.Duration.Round(1e7), ex.Abstract, ex.States, cmp.SimEdges, ex.Elapsed.Round(1e7), ex.StatesPerSecond())
		switch {
		case ex.Violation != nil:
			failed = true
			fmt.Fprintf(stdout, "  invariant violated in the simulator: %v\n  after %v\n", ex.Violation.Err, ex.Violation.Trace)
		case d.Equal():
			fmt.Fprintf(stdout, "  equal: every state and every labelled edge\n")
		default:
			failed = true
			fmt.Fprintf(stdout, "  DIFFERENT: %d states and %d edges only in the spec, %d states and %d edges only in the simulator\n  first: %s\n",
				d.OnlySpecStates, d.OnlySpecEdges, d.OnlySimStates, d.OnlySimEdges, d.First)
		}
	}
	if *traces > 0 {
		w := conformance.World{N: 3, Layout: "halves", MaxReq: 40, OpKinds: []string{"move", "split", "merge"},
			Limits: sim.Limits{MaxEpoch: 4, MaxLoss: 3, MaxDup: 3, MaxCrash: 1, MaxFail: 1, MaxOps: 8}, Bugs: worlds[0].Bugs}
		var runs []conformance.TraceRun
		for s := *seed; s < *seed+uint64(*traces); s++ {
			r, err := conformance.RecordWalk(w, s, *steps)
			if err != nil {
				failed = true
				fmt.Fprintf(stdout, "trace seed %d: %v\n", s, err)
				continue
			}
			runs = append(runs, r)
		}
		rep, err := conformance.ValidateTraces(ctx, dir, w, runs)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "traces: %d runs, %d steps (3 nodes, 3 failovers, node crash, losses, duplicates, 8 operations) checked by TLC in %s\n",
			rep.Traces, rep.Steps, rep.TLC.Duration.Round(1e7))
		for _, f := range rep.Failures {
			failed = true
			fmt.Fprintln(stdout, "  "+f.String())
		}
		if len(rep.Failures) == 0 {
			fmt.Fprintln(stdout, "  every step of every run is a step of the spec")
		}
	}
	if failed {
		return errViolated
	}
	return nil
}

// conformRecovery compares package recovery with the spec's Recover on every snapshot of
// each RecoveryKeys config (with --bug's seeded recovery bug, if any): exit 0 when they
// agree on all, 1 when not.
func conformRecovery(ctx context.Context, wf *worldFlags, cfgs []string, workers int, stdout io.Writer) error {
	bugs, err := sim.ParseBug(*wf.bug)
	if err != nil {
		return badInput("%v", err)
	}
	var opts []recovery.Option
	if bugs.Recovery != "" {
		opts = append(opts, seeded.RecoveryBug(bugs.Recovery).(recovery.Option))
	} else if bugs != (sim.Bugs{}) {
		return badInput("--bug %s is not a bug of package recovery", *wf.bug)
	}
	dir, remove, err := wf.specDir()
	if err != nil {
		return err
	}
	defer remove()
	failed := false
	for _, cfg := range cfgs {
		if _, err := os.Stat(filepath.Join(dir, cfg)); err != nil {
			return badInput("%v", err)
		}
		start := time.Now()
		snaps, err := conformance.LoadRecoverySnapshots(ctx, dir, cfg, workers)
		if err != nil {
			return err
		}
		rep, err := snaps.Compare(opts...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d snapshots, TLC %s, compared in %s\n", cfg, rep.Snapshots,
			rep.TLC.Duration.Round(time.Millisecond), (time.Since(start) - rep.TLC.Duration).Round(time.Millisecond))
		if rep.Differing == 0 {
			fmt.Fprintln(stdout, "  equal: package recovery recovers every snapshot as the spec's Recover does")
			continue
		}
		failed = true
		fmt.Fprintf(stdout, "  DIFFERENT on %d snapshots; by the rules package recovery applied:\n", rep.Differing)
		rules := make([]string, 0, len(rep.ByRules))
		for r := range rep.ByRules {
			rules = append(rules, r)
		}
		slices.SortFunc(rules, func(a, b string) int { return cmp.Or(cmp.Compare(rep.ByRules[b], rep.ByRules[a]), cmp.Compare(a, b)) })
		for _, r := range rules {
			fmt.Fprintf(stdout, "  %6d  %s\n", rep.ByRules[r], r)
		}
		for _, e := range rep.Examples {
			fmt.Fprintf(stdout, "  %s\n", strings.ReplaceAll(e.String(), "\n", "\n  "))
		}
	}
	if failed {
		return errViolated
	}
	return nil
}

// conformLogs has TLC check that a cluster run's logs are a behaviour of the spec: exit 0
// if they are, 1 (with the first entry the spec does not allow) if not, 2 if the logs
// cannot be read or lie outside the spec's world.
func conformLogs(ctx context.Context, wf *worldFlags, logs string, stdout io.Writer) error {
	start := time.Now()
	run, err := conformance.ReadLogs(logs)
	if err != nil {
		return badInput("%v", err)
	}
	read := time.Since(start)
	dir, remove, err := wf.specDir()
	if err != nil {
		return err
	}
	defer remove()
	rep, err := conformance.ValidateLogs(ctx, dir, run)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "logs: %d events of %d nodes and %d maintainers (epochs %v), %d protocol steps, read and merged in %s\n",
		run.Events, len(run.Nodes), len(run.Epochs), run.Epochs, rep.Entries, read.Round(time.Millisecond))
	fmt.Fprintf(stdout, "TLC: %d of %d steps matched, %d states, %s\n", rep.Matched, rep.Entries, rep.TLC.Distinct, rep.TLC.Duration.Round(time.Millisecond))
	switch {
	case rep.Passed:
		fmt.Fprintln(stdout, "the run is a behaviour of the spec")
		return nil
	case rep.Violated != "":
		fmt.Fprintf(stdout, "a state of the run violates %s after step %d\n", rep.Violated, rep.Matched)
	case rep.Failure != nil:
		fmt.Fprintln(stdout, rep.Failure.String())
	}
	return errViolated
}

// runExplore explores the simulator exhaustively on each world with the parallel explorer
// (invariants checked in every state) and then has TLC give its view of the same world:
// with --tlc count (the default) TLC counts the world's distinct states, which the
// explorer's abstract count must equal, and the last line is the ratio of the rates over
// all worlds, the explorer's abstract states per second against TLC's; with --tlc
// simulate TLC checks random behaviours of the world for as long as the explorer took (at
// least minSimulation), the second opinion on a world too large for TLC to finish; with
// --tlc none TLC does not run.
func runExplore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explore", stderr)
	wf := addWorldFlags(fs)
	maxStates := fs.Int("max", 0, "stop after this many simulator states (0: exhaustive)")
	workers := fs.Int("workers", 0, "explorer goroutines (0: one per core)")
	tlcMode := fs.String("tlc", "count", "what TLC does after the explorer: count, simulate or none")
	tlcWorkers := fs.Int("tlc-workers", 1, "TLC worker threads")
	maxMemory := fs.Float64("max-memory", 8, "stop the explorer when it holds more than this many GB (the collector aims at 3/4 of it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *workers < 0 || *tlcWorkers < 1 || *maxStates < 0 || *maxMemory <= 0 {
		return badInput("--workers must be >= 0, --tlc-workers >= 1, --max >= 0 and --max-memory > 0")
	}
	if *tlcMode != "count" && *tlcMode != "simulate" && *tlcMode != "none" {
		return badInput("--tlc %q: want count, simulate or none", *tlcMode)
	}
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(exploreGCPercent))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(*maxMemory * 1e9 * 3 / 4)))
	}
	dir, remove, err := wf.specDir()
	if err != nil {
		return err
	}
	defer remove()
	names, worlds, err := wf.worlds(dir)
	if err != nil {
		return err
	}
	failed := false
	var rates rateSum
	for i, w := range worlds {
		ex, err := conformance.Explore(ctx, w.Config(), conformance.ExploreOptions{
			MaxStates: *maxStates, MaxStream: w.MaxReq, Workers: *workers, AbstractCount: *tlcMode == "count",
			MaxMemory: uint64(*maxMemory * 1e9)})
		if errors.Is(err, conformance.ErrNotAbstract) {
			failed = true
			fmt.Fprintf(stdout, "%s: the simulator reached a state the spec cannot express: %v\n", names[i], err)
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: explorer %d states, %d edges, depth %d (states, as TLC counts), %s on %d workers, %.0f states/s, %.1f bytes per visited state, peak memory %.2f GB\n",
			names[i], ex.States, ex.Edges, ex.Depth+1, ex.Elapsed.Round(1e7), ex.Workers, ex.StatesPerSecond(),
			float64(ex.VisitedBytes)/float64(max(ex.States, 1)), float64(ex.PeakMemory)/1e9)
		switch {
		case ex.Violation != nil:
			failed = true
			fmt.Fprintf(stdout, "  %v\n  shortest trace (%d steps):\n", ex.Violation.Err, len(ex.Violation.Trace))
			for j, a := range ex.Violation.Trace {
				fmt.Fprintf(stdout, "  %3d  %s\n", j+1, a)
			}
		case ex.Truncated:
			fmt.Fprintf(stdout, "  stopped at --max %d: not exhaustive\n", *maxStates)
		default:
			fmt.Fprintf(stdout, "  no invariant violated in any state\n")
		}
		switch *tlcMode {
		case "count":
			res, err := conformance.TLCCount(ctx, dir, w, *tlcWorkers)
			if err != nil {
				return err
			}
			exRate := float64(ex.Abstract) / ex.Elapsed.Seconds()
			tlcRate := float64(res.Distinct) / res.Duration.Seconds()
			rates.add(ex.Abstract, ex.Elapsed.Seconds(), res.Distinct, res.Duration.Seconds())
			fmt.Fprintf(stdout, "  TLC %d states, depth %d, %s on %d workers, %.0f states/s; explorer %d abstract states, %.0f/s: rate %.2f\n",
				res.Distinct, res.Depth, res.Duration.Round(1e7), *tlcWorkers, tlcRate, ex.Abstract, exRate, exRate/tlcRate)
			if ex.Violation == nil && !ex.Truncated && int64(ex.Abstract) != res.Distinct {
				failed = true
				fmt.Fprintf(stdout, "  DIFFERENT state counts (run opfsm conform for the first differing state)\n")
			} else if ex.Violation == nil && !ex.Truncated {
				fmt.Fprintf(stdout, "  same number of distinct states\n")
			}
		case "simulate":
			res, err := conformance.TLCSimulate(ctx, dir, names[i], *tlcWorkers, max(ex.Elapsed, minSimulation))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  TLC -simulate for %s on %d workers: %d states checked (%.0f/s), %s\n",
				res.Duration.Round(1e7), *tlcWorkers, res.Checked, float64(res.Checked)/res.Duration.Seconds(), res.Summary())
			if !res.Passed {
				failed = true
			}
		}
	}
	if line := rates.line(); line != "" {
		fmt.Fprintln(stdout, line)
	}
	if failed {
		return errViolated
	}
	return nil
}

// minSimulation is the shortest TLC simulation explore runs: TLC's start takes seconds.
const minSimulation = 10 * time.Second

// rateSum adds up the explorer's and TLC's states and seconds over the worlds of a run.
type rateSum struct {
	exStates, tlcStates int64
	exTime, tlcTime     float64
}

func (r *rateSum) add(exStates int, exTime float64, tlcStates int64, tlcTime float64) {
	r.exStates, r.exTime = r.exStates+int64(exStates), r.exTime+exTime
	r.tlcStates, r.tlcTime = r.tlcStates+tlcStates, r.tlcTime+tlcTime
}

// line is the run's last line, or "" when TLC counted nothing.
func (r *rateSum) line() string {
	if r.exTime <= 0 || r.tlcTime <= 0 || r.tlcStates <= 0 {
		return ""
	}
	return fmt.Sprintf("explorer/TLC states per second: %.2f", (float64(r.exStates)/r.exTime)/(float64(r.tlcStates)/r.tlcTime))
}
