package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/operators"
)

// runGraph prints the operator state machines: all of them, or the ones named.
func runGraph(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("graph", stderr)
	format := fs.String("format", "mermaid", "output format: mermaid or dot")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	render := map[string]func(*fsm.Definition) string{
		"mermaid": (*fsm.Definition).Mermaid,
		"dot":     (*fsm.Definition).DOT,
	}[*format]
	if render == nil {
		return badInput("unknown --format %q (want mermaid or dot)", *format)
	}
	defs := operators.Definitions()
	byName := make(map[string]*fsm.Definition, len(defs))
	names := make([]string, 0, len(defs))
	for _, d := range defs {
		byName[d.Name()] = d
		names = append(names, d.Name())
	}
	chosen := defs
	if fs.NArg() > 0 {
		chosen = nil
		for _, n := range fs.Args() {
			d, ok := byName[n]
			if !ok {
				return badInput("unknown operator %q (have %s)", n, strings.Join(names, ", "))
			}
			chosen = append(chosen, d)
		}
	}
	for i, d := range chosen {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if *format == "mermaid" {
			fmt.Fprintf(stdout, "%%%% operator %s: %d states, %d transitions\n", d.Name(), len(d.States()), len(d.Edges()))
		}
		fmt.Fprint(stdout, render(d))
	}
	return nil
}
