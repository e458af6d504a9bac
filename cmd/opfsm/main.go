package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
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

// stopGrace is how long a verb that runs TLC or holds temporary folders gets, after a
// signal, to kill TLC and remove its folders before opfsm exits without it.
const stopGrace = 10 * time.Second

type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	// cleansUp: the verb starts processes or makes temporary folders, and stops and
	// removes them when ctx ends; a signal waits for that (stopGrace at most). A verb
	// without is abandoned at once.
	cleansUp bool
}

func verbs() []verb {
	return []verb{
		{"sim", "run a seeded fault campaign on the built-in cluster (the main job)", runSim, false},
		{"run", "play scenario files (docs/scenarios.md) and report; exit 0 pass, 1 fail, 2 bad input", runScenario, false},
		{"graph", "print each operator's state machine (DOT or Mermaid)", runGraph, false},
		{"check", "run TLC on the CI models of spec/configs.tsv, or a seeded-bug variant with --bug", runCheck, true},
		{"conform", "compare the simulator with the TLA+ spec: state graphs of CI worlds, and TLC-validated traces", runConform, true},
		{"explore", "explore the simulator exhaustively on a CI world and compare counts and speed with TLC", runExplore, true},
		{"node", "run one node process (a dispatcher manager over gRPC, registered in etcd)", runNode, true},
		{"maintainer", "run one maintainer candidate process (elected through etcd, drives the nodes over gRPC)", runMaintainer, true},
		{"cluster", "cluster up|chaos|logs: etcd, node and maintainer processes; chaos SIGKILLs maintainers and checks convergence", runCluster, true},
	}
}

func main() {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalled is the cause of a context that a signal ended; it is a context.Canceled.
type signalled struct{ sig os.Signal }

func (s signalled) Error() string        { return "signal " + s.sig.String() }
func (s signalled) Is(target error) bool { return target == context.Canceled }

// exitCode is the shell's code for a process the signal killed: 128 + its number (130 for
// SIGINT, 143 for SIGTERM).
func (s signalled) exitCode() int {
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitViolated
}

// notifyContext is signal.NotifyContext for SIGINT and SIGTERM whose cause (signalled)
// tells which signal ended it, for the exit code. After the first signal the default
// action is back: a second one kills opfsm at once.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(signalled{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel(nil)
	}
}

// run runs the verb args name and returns opfsm's exit code. When ctx ends (a signal), a
// verb that cleans up is waited for, and the code is the signal's (130 SIGINT, 143 SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitBadInput
		}
		return exitOK
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			err := runVerb(ctx, v, args[1:], stdout, stderr)
			var ue *usageError
			var sig signalled
			switch {
			case errors.As(context.Cause(ctx), &sig) && ctx.Err() != nil:
				fmt.Fprintf(stderr, "opfsm %s: stopped by %v\n", v.name, sig)
				return sig.exitCode()
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

// runVerb runs v until it returns or, once ctx ends, until it has cleaned up (a verb
// without cleanup, or one that takes longer than stopGrace, is abandoned).
func runVerb(ctx context.Context, v verb, args []string, stdout, stderr io.Writer) error {
	done := make(chan error, 1)
	go func() { done <- v.run(ctx, args, stdout, stderr) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	if !v.cleansUp {
		return context.Cause(ctx)
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
		fmt.Fprintf(stderr, "opfsm %s: still stopping after %s; exiting\n", v.name, stopGrace)
		return context.Cause(ctx)
	}
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
