package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/opfsm/opfsm/sim"
)

// runSim is the main job: a seeded fault campaign on the built-in cluster, with progress on
// stderr and a summary on stdout. On a violation it prints the shrunk counterexample as a
// timeline and writes it as a Mermaid sequence diagram; the exit code is then 1.
func runSim(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim", stderr)
	seed := fs.Uint64("seed", 1, "first seed; run i uses seed+i")
	runs := fs.Int("runs", 2000, "random walks")
	steps := fs.Int("steps", 100, "steps per walk")
	faults := fs.String("faults", "all", `"all", "none", or a comma list of crash (maintainer), node, loss, dup`)
	bug := fs.String("bug", "none", "seeded bug to switch on: "+fmt.Sprint(sim.BugNames()))
	mermaid := fs.String("mermaid", "counterexample.mmd", "where to write a counterexample's sequence diagram")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *runs <= 0 || *steps <= 0 {
		return badInput("--runs and --steps must be positive")
	}
	cfg := sim.DefaultConfig()
	if err := applyFaults(&cfg.Limits, *faults); err != nil {
		return err
	}
	bugs, err := sim.ParseBug(*bug)
	if err != nil {
		return badInput("%v", err)
	}
	cfg.Bugs = bugs

	fmt.Fprintf(stdout, "opfsm sim: %d walks of up to %d steps, seeds %d..%d, faults %s, bug %s\n",
		*runs, *steps, *seed, *seed+uint64(*runs)-1, *faults, *bug)
	fmt.Fprintf(stdout, "cluster: nodes %v, tables %v, limits %+v\n", cfg.Nodes, cfg.Tables, cfg.Limits)
	start := time.Now()
	tick := max(*runs/10, 1)
	s, err := sim.Campaign(cfg, *seed, *runs, *steps, func(done int, s sim.Summary) {
		if done%tick == 0 || done == *runs {
			fmt.Fprintf(stderr, "\r%d/%d walks, %d steps, %d violations", done, *runs, s.Steps, s.Violations)
		}
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "walks %d, steps %d, violations %d, %.0f walks/s\n", s.Runs, s.Steps, s.Violations, float64(s.Runs)/el.Seconds())
	if s.First == nil {
		fmt.Fprintln(stdout, "no invariant violated (S1 NoDuplicateActiveDispatcher, S5 NodeBinding, S11 RemoveJournalSound)")
		fmt.Fprintln(stdout, "every walk converged once faults stopped (L1-L5: operators finished, tables covered once, no orphans)")
		return nil
	}
	fmt.Fprintf(stdout, "violations by property: %v\n", s.ByProperty)
	fmt.Fprintf(stdout, "\nfirst violation (seed %d), shrunk to %d steps:\n%s", s.First.Seed, len(s.First.Trace), s.First.Timeline())
	if err := os.WriteFile(*mermaid, []byte(sim.Mermaid(cfg, *s.First)), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", *mermaid, err)
	}
	fmt.Fprintf(stdout, "sequence diagram: %s\n", *mermaid)
	return errViolated
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
			case "crash", "node", "loss", "dup":
				keep[f] = true
			default:
				return badInput("unknown --faults %q (want all, none, or a comma list of crash, node, loss, dup)", spec)
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
	return nil
}
