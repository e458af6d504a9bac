package fsm

import (
	"fmt"
	"strings"
)

// DOT renders the definition as a Graphviz digraph in a stable order: states in declaration
// order (initial state marked by an arrow from a point, terminal states double-circled),
// then permitted edges labelled with their triggers. Ignored triggers are not drawn.
// stateless's own ToGraph carries the same edges but in an order that changes between runs,
// which would make committed diagrams churn.
func (d *Definition) DOT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n", d.name)
	b.WriteString("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  \"__start\" [shape=point, label=\"\"];\n")
	for i, s := range d.states {
		if d.terminal[i] {
			fmt.Fprintf(&b, "  %q [shape=doublecircle, style=\"\"];\n", s)
		} else {
			fmt.Fprintf(&b, "  %q;\n", s)
		}
	}
	fmt.Fprintf(&b, "  \"__start\" -> %q;\n", d.states[d.initial])
	for _, e := range d.edges {
		fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", d.states[e.From], d.states[e.To], d.triggers[e.Trigger])
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the definition as a Mermaid stateDiagram-v2, which GitHub shows as a
// picture inside Markdown.
func (d *Definition) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "  [*] --> %s\n", d.states[d.initial])
	for _, e := range d.edges {
		fmt.Fprintf(&b, "  %s --> %s: %s\n", d.states[e.From], d.states[e.To], d.triggers[e.Trigger])
	}
	for i, s := range d.states {
		if d.terminal[i] {
			fmt.Fprintf(&b, "  %s --> [*]\n", s)
		}
	}
	return b.String()
}

// StatelessGraph returns stateless's own DOT rendering of the shared machine (edge order
// varies between runs); tests use it to confirm that the stateless configuration and the
// Definition's tables agree.
func (d *Definition) StatelessGraph() string { return d.sm.ToGraph() }
