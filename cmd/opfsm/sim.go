package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/opfsm/opfsm/sim"
)

// runSim is the main job: a seeded fault campaign on the built-in cluster (or, with --deep,
// the deep campaign's), its walks on --workers cores, with progress on stderr and a summary
// on stdout. On a violation it prints the shrunk counterexample as a timeline and writes it
// as a Mermaid sequence diagram; the exit code is then 1.
func runSim(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim", stderr)
	seed := fs.Uint64("seed", 1, "first seed; run i uses seed+i")
	runs := fs.Int("runs", 2000, "random walks")
	steps := fs.Int("steps", 0, "steps per walk (0: the campaign's, 100 or with --deep 400)")
	deep := fs.Bool("deep", false, "the deep campaign: 5 nodes, 10 tables, 3 failovers, 2 node crashes, 3 losses, 3 duplicates, 6 operations of every kind")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "walks run at once (the report is the same for every number)")
	faults := fs.String("faults", "all", `"all", "none", or a comma list of crash (maintainer), node, loss, dup, fail (a merged dispatcher before its commit)`)
	bug := fs.String("bug", "none", "seeded bug to switch on: "+fmt.Sprint(sim.BugNames()))
	mermaid := fs.String("mermaid", "counterexample.mmd", "where to write a counterexample's sequence diagram")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *runs <= 0 || *steps < 0 || *workers <= 0 {
		return badInput("--runs and --workers must be positive, --steps not negative")
	}
	camp := sim.DefaultCampaign()
	if *deep {
		camp = sim.DeepCampaign()
	}
	camp.Seed, camp.Walks, camp.Workers = *seed, *runs, *workers
	if *steps > 0 {
		camp.Steps = *steps
	}
	cfg := &camp.Config
	if err := applyFaults(&cfg.Limits, *faults); err != nil {
		return err
	}
	bugs, err := sim.ParseBug(*bug)
	if err != nil {
		return badInput("%v", err)
	}
	cfg.Bugs = bugs

	fmt.Fprintf(stdout, "opfsm sim: %d walks of up to %d steps, seeds %d..%d, faults %s, bug %s, %d workers\n",
		camp.Walks, camp.Steps, camp.Seed, camp.Seed+uint64(camp.Walks)-1, *faults, *bug, camp.Workers)
	fmt.Fprintf(stdout, "cluster: nodes %v, tables %v, limits %+v\n", cfg.Nodes, cfg.Tables, cfg.Limits)
	if cfg.OpKinds != nil {
		fmt.Fprintf(stdout, "operations: %s, new tables %v\n", strings.Join(cfg.OpKinds, ", "), cfg.NewTables)
	}
	// A walk's garbage dies with it and the live heap stays a few megabytes: collecting
	// less often spends the cores on walks.
	defer debug.SetGCPercent(debug.SetGCPercent(campaignGCPercent))
	start := time.Now()
	s, err := camp.Run(progressLine(stderr, camp.Walks, start))
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "walks %d, steps %d, violations %d, %.0f walks/s, %s\n", s.Runs, s.Steps, s.Violations,
		float64(s.Runs)/el.Seconds(), el.Round(100*time.Millisecond))
	if s.First == nil {
		fmt.Fprintln(stdout, "no invariant violated (S1 NoDuplicateActiveDispatcher, S5 NodeBinding, S11 RemoveJournalSound and MergesJournaled)")
		fmt.Fprintln(stdout, "every walk converged once faults stopped (L1-L5: operators finished, tables covered once, no orphans)")
		return nil
	}
	fmt.Fprintln(stdout, "violations by property:")
	width := len("property")
	for _, p := range s.Properties() {
		width = max(width, len(p.Property))
	}
	fmt.Fprintf(stdout, "  %-*s  %8s  %7s\n", width, "property", "walks", "share")
	for _, p := range s.Properties() {
		fmt.Fprintf(stdout, "  %-*s  %8d  %6.2f%%\n", width, p.Property, p.Walks, 100*float64(p.Walks)/float64(s.Runs))
	}
	fmt.Fprintf(stdout, "\nfirst violation (seed %d), shrunk to %d steps:\n%s", s.First.Seed, len(s.First.Trace), s.First.Timeline())
	if err := os.WriteFile(*mermaid, []byte(sim.Mermaid(*cfg, *s.First)), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *mermaid, err)
	}
	fmt.Fprintf(stdout, "sequence diagram: %s\n", *mermaid)
	return errViolated
}

// campaignGCPercent is the garbage collector's target (GOGC) while a campaign runs.
const campaignGCPercent = 400

// progressEvery is how often the campaign's progress line is redrawn.
const progressEvery = 500 * time.Millisecond

// progressLine returns a campaign progress callback that redraws one line on w, at most
// every progressEvery and once at the end: walks done, steps, violations, walks per
// second and the time left at that rate.
func progressLine(w io.Writer, total int, start time.Time) func(int, sim.Summary) {
	last := start
	return func(done int, s sim.Summary) {
		now := time.Now()
		if now.Sub(last) < progressEvery && done < total {
			return
		}
		last = now
		rate := float64(done) / max(now.Sub(start).Seconds(), 1e-9)
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(w, "\r%d/%d walks, %d steps, %d violations, %.0f walks/s, ETA %s   ",
			done, total, s.Steps, s.Violations, rate, eta.Round(time.Second))
	}
}

// applyFaults keeps the faults named in spec (a comma list, "all" or "none") and switches
// the others off.
func applyFaults(l *sim.Limits, spec string) error {
	if spec == "all" {
		return nil
	}
	keep := map[string]bool{}
	if spec != "none" {
		for _, f := range strings.Split(spec, ",") {
			switch f {
			case "crash", "node", "loss", "dup", "fail":
				keep[f] = true
			default:
				return badInput("unknown --faults %q (want all, none, or a comma list of crash, node, loss, dup, fail)", spec)
			}
		}
	}
	if !keep["crash"] {
		l.MaxEpoch = 1
	}
	if !keep["node"] {
		l.MaxCrash = 0
	}
	if !keep["loss"] {
		l.MaxLoss = 0
	}
	if !keep["dup"] {
		l.MaxDup = 0
	}
	if !keep["fail"] {
		l.MaxFail = 0
	}
	return nil
}
