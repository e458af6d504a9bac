package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opfsm/opfsm/scenario"
	"github.com/opfsm/opfsm/sim"
)

// runScenario plays scenario files (docs/scenarios.md) on the simulator: exit 0 when every
// file converged with no violation and met its expectations, 1 when one did not, 2 when a
// file is malformed or asks for something the domain forbids (the message names the line
// and field).
func runScenario(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	asJSON := fs.Bool("json", false, "print one JSON report per file instead of the timeline")
	bug := fs.String("bug", "none", "seeded bug to switch on: "+fmt.Sprint(sim.BugNames()))
	quiet := fs.Bool("q", false, "print only the verdict line per file")
	flags, files := splitArgs(args, map[string]bool{"bug": true})
	if err := parseFlags(fs, flags); err != nil {
		return err
	}
	if len(files) == 0 {
		return badInput("want at least one scenario file (see scenarios/)")
	}
	bugs, err := sim.ParseBug(*bug)
	if err != nil {
		return badInput("%v", err)
	}
	failed := false
	for _, file := range files {
		rep, err := playFile(file, bugs)
		if err != nil {
			return badInput("%v", err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(rep); err != nil {
				return err
			}
		} else {
			printReport(stdout, rep, *quiet)
		}
		failed = failed || !rep.Passed
	}
	if failed {
		return errViolated
	}
	return nil
}

func playFile(file string, bugs sim.Bugs) (*scenario.Report, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	s, err := scenario.Decode(fh, file)
	if err != nil {
		return nil, err
	}
	rep, err := scenario.Run(s, scenario.Options{Bugs: bugs})
	var se *scenario.Error
	if errors.As(err, &se) {
		return nil, err
	}
	return rep, err
}

func printReport(w io.Writer, rep *scenario.Report, quiet bool) {
	verdict := "PASS"
	if !rep.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s  %s  (%s, %d steps)\n", verdict, rep.File, rep.Name, rep.Steps)
	if quiet && rep.Passed {
		return
	}
	if !quiet {
		for _, s := range rep.Trace {
			fmt.Fprintf(w, "  %4d  line %-3d %s\n", s.N, s.Line, s.Action)
		}
		fmt.Fprintln(w, "  end state:")
		for _, f := range rep.Final {
			fmt.Fprintln(w, "    "+f)
		}
	}
	if rep.Violation != "" {
		fmt.Fprintln(w, "  violation: "+rep.Violation)
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "  failed: "+f)
	}
}

// splitArgs separates flags from positional arguments anywhere on the line, so that
// "opfsm run FILE --json" works; valued names the flags that take the next word.
func splitArgs(args []string, valued map[string]bool) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(rest, args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if valued[name] && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, rest
}
