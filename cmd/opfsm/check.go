package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opfsm/opfsm/internal/tlc"
	"github.com/opfsm/opfsm/spec"
)

// exitUncaught is check --bug's answer when a seeded bug was NOT caught as expected: the
// checker itself is broken, which must not look like the expected failure (exit 1).
const exitUncaught = 3

// errUncaught reports a seeded bug that TLC did not catch with the expected property.
var errUncaught = errors.New("seeded bug not caught")

// runCheck model-checks the models of the manifest: every CI config (which must pass with
// its recorded state count), or with --bug the seeded variant of that name, which must fail
// on its property; that expected failure exits 1 and names the property. Without
// --manifest it checks the spec built into opfsm, unpacked into a temporary folder.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	manifest := fs.String("manifest", "", "model list, its model folders beside it (default: the spec/configs.tsv built into opfsm)")
	bug := fs.String("bug", "", "run the seeded-bug variant with this name instead of the CI configs")
	config := fs.String("config", "", "run only the chosen models with this config file, e.g. Liveness.cfg")
	workers := fs.Int("workers", 1, "TLC workers (1 keeps state counts exact)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	path, name := *manifest, *manifest
	if path == "" {
		dir, err := spec.Unpack()
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path, name = filepath.Join(dir, "configs.tsv"), "the built-in spec/configs.tsv"
	}
	models, err := spec.LoadModels(path)
	if err != nil {
		return badInput("%v", err)
	}
	var chosen []spec.Model
	var bugs, configs []string
	for _, m := range models {
		if m.Bug != "" {
			bugs = append(bugs, m.Bug)
		}
		if m.Bug == *bug {
			configs = append(configs, m.Config)
			if *config == "" || m.Config == *config {
				chosen = append(chosen, m)
			}
		}
	}
	switch {
	case len(configs) == 0:
		return badInput("no seeded bug %q in %s (have %v)", *bug, name, bugs)
	case len(chosen) == 0:
		return badInput("no model with --config %q in %s (have %v)", *config, name, configs)
	}
	root := filepath.Dir(path)
	failed, caught := false, false
	for _, m := range chosen {
		res, err := tlc.Run(ctx, m.Options(root, *workers))
		if err != nil {
			return err
		}
		vacuous, err := m.Vacuous(root, res.Witnessed)
		if err != nil {
			return err
		}
		switch {
		case res.Error != "":
			fmt.Fprintf(stdout, "FAIL %s: TLC error: %s\n", m.Name(), res.Error)
			failed = true
		case m.Bug == "" && res.Passed && len(vacuous) > 0:
			fmt.Fprintf(stdout, "FAIL %s: %s, but %v hold vacuously: no state reached what they are about (Witnesses in Properties.tla)\n", m.Name(), res.Summary(), vacuous)
			failed = true
		case m.Bug == "" && res.Passed && (*workers > 1 || res.Distinct == m.Distinct):
			fmt.Fprintf(stdout, "ok   %s: %d distinct states, depth %d, %s\n", m.Name(), res.Distinct, res.Depth, res.Duration.Round(1e6))
		case m.Bug == "":
			fmt.Fprintf(stdout, "FAIL %s: %s (want %d distinct states)\n", m.Name(), res.Summary(), m.Distinct)
			failed = true
		case res.Violated == m.Violates:
			fmt.Fprintf(stdout, "%s (%s) violates: %s (counterexample of %d states, %s)\n", m.Name(), m.Bug, res.Violated, res.TraceLength, res.Duration.Round(1e6))
			caught = true
		default:
			fmt.Fprintf(stdout, "FAIL %s (%s): %s, want a violation of %s\n", m.Name(), m.Bug, res.Summary(), m.Violates)
			return errUncaught
		}
	}
	if failed {
		return errViolated
	}
	if caught {
		return errViolated // the expected failure of a seeded bug
	}
	return nil
}
