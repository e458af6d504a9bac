package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes shared by every verb.
const (
	exitOK       = 0
	exitViolated = 1
	exitBadInput = 2
)

// usageError is bad input from the user: exit 2 with its message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badInput(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errViolated reports a failed check whose details were already printed: exit 1.
var errViolated = errors.New("check failed")

type verb struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func verbs() []verb {
	return []verb{
		{"sim", "run a seeded fault campaign on the built-in cluster (the main job)", runSim},
		{"run", "play scenario files (docs/scenarios.md) and report; exit 0 pass, 1 fail, 2 bad input", runScenario},
		{"graph", "print each operator's state machine (DOT or Mermaid)", runGraph},
		{"check", "run TLC on the CI models of spec/configs.tsv, or a seeded-bug variant with --bug", runCheck},
		{"conform", "compare the simulator with the TLA+ spec: state graphs of CI worlds, and TLC-validated traces", runConform},
		{"explore", "explore the simulator exhaustively on a CI world and compare counts and speed with TLC", runExplore},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitBadInput
		}
		return exitOK
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			err := v.run(args[1:], stdout, stderr)
			var ue *usageError
			switch {
			case err == nil:
				return exitOK
			case errors.Is(err, flag.ErrHelp):
				return exitOK
			case errors.As(err, &ue):
				fmt.Fprintf(stderr, "opfsm %s: %v\n", v.name, err)
				return exitBadInput
			case errors.Is(err, errUncaught):
				return exitUncaught
			case errors.Is(err, errViolated):
				return exitViolated
			default:
				fmt.Fprintf(stderr, "opfsm %s: %v\n", v.name, err)
				return exitViolated
			}
		}
	}
	fmt.Fprintf(stderr, "opfsm: unknown verb %q\n", args[0])
	usage(stderr)
	return exitBadInput
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: opfsm VERB [flags]")
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-8s %s\n", v.name, v.summary)
	}
}

// newFlags returns a flag set whose parse errors become usage errors.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("opfsm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return badInput("%v", err)
	}
	return nil
}
