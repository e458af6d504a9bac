package tlc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
)

// MaxDotLine is the longest line ParseDot accepts. A dot line holds one whole state; the
// failover model's largest is about 120 KB.
const MaxDotLine = 64 << 20

// Graph is the state graph TLC 2.18 writes with "-dump dot,actionlabels FILE".
type Graph struct {
	// States maps each state's id (TLC's 64-bit fingerprint, as the file prints it) to the
	// state.
	States map[int64]tla.State
	// Order lists the state ids in the order the file defines them (TLC's discovery order).
	Order []int64
	// Init lists the initial states (the nodes drawn with style = filled), in file order.
	Init []int64
	// Edges are the transitions in file order. TLC writes one per (state, successor) pair
	// it generated, including successors it had already seen; a self-loop is a stuttering
	// step of the next-state relation.
	Edges []Edge
	// Legend maps each action name to its colour, when the dump used "colorize".
	Legend map[string]string
}

// Edge is one transition of the graph.
type Edge struct {
	From, To int64
	// Action is the edge's label: the name of the action (without its parameters) with
	// "actionlabels", else empty.
	Action string
}

// DotError is an error in a dot file: Line is the 1-based line, Msg what was wrong, and
// Err the cause (tla.ErrSyntax, or the *tla.ParseError of a state label, whose Offset is
// then in the label's unescaped text).
type DotError struct {
	Line int
	Msg  string
	Err  error
}

// Error returns the message with its line.
func (e *DotError) Error() string {
	s := fmt.Sprintf("tlc: dot line %d: %s", e.Line, e.Msg)
	if e.Err != nil && e.Err != tla.ErrSyntax {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *DotError) Unwrap() error { return e.Err }

// dot parser phases: which part of TLC's layout the next line belongs to.
const (
	phStart  = iota // before "strict digraph DiskGraph {"
	phHeader        // graph attributes, until "subgraph cluster_graph {"
	phGraph         // states, edges and ranks, until "}"
	phAfter         // after the state cluster: the legend or the final "}"
	phLegend        // inside "subgraph cluster_legend {"
	phDone          // after the final "}"
)

// ParseDot reads the file TLC writes with "-dump dot,actionlabels FILE" (FILE.dot; the
// "colorize" and plain "dot" variants too). The layout, one item a line:
//
//	strict digraph DiskGraph {
//	edge [colorscheme="paired12"]                  (colorize only)
//	nodesep=0.35;
//	subgraph cluster_graph {
//	color="white";
//	ID [label="STATE",style = filled]              an initial state
//	ID [label="STATE"];                            any other state
//	ID -> ID [label="ACTION",color="black",fontcolor="black"];
//	{rank = same; ID;ID;...}
//	}
//	subgraph cluster_legend {graph[style=bold];label = "Next State Actions" style="solid"
//	node [ labeljust="l",colorscheme="paired12",style=filled,shape=record ]
//	ACTION [label="ACTION",fillcolor=N]
//	}}                                            (the legend is colorize only; else "}")
//
// ID is a signed 64-bit fingerprint; STATE is the state as tla.ParseState reads it, with dot
// escapes (\" \\ and \n for a line break). An edge may name its successor before the
// successor's own line. Every line is checked: an unknown line, a state defined twice, an
// edge to a state the file never defines, or a truncated file is a *DotError.
func ParseDot(r io.Reader) (*Graph, error) {
	g := &Graph{States: map[int64]tla.State{}}
	err := ScanDot(r, DotVisitor{
		State: func(id int64, st tla.State, init bool) error {
			g.States[id] = st
			g.Order = append(g.Order, id)
			if init {
				g.Init = append(g.Init, id)
			}
			return nil
		},
		Edge: func(e Edge) error {
			g.Edges = append(g.Edges, e)
			return nil
		},
		Legend: func(action, colour string) error {
			if g.Legend == nil {
				g.Legend = map[string]string{}
			}
			g.Legend[action] = colour
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DotVisitor receives what ScanDot reads, in file order.
type DotVisitor struct {
	// State sees each state once, as it is defined; init marks an initial state.
	State func(id int64, st tla.State, init bool) error
	// Edge sees each edge; its states may be defined later in the file.
	Edge func(e Edge) error
	// Legend, if set, sees each legend entry (colorize dumps): an action and its colour.
	Legend func(action, colour string) error
}

// ScanDot reads a dump as ParseDot does, with the same checks, but hands each state and
// edge to v instead of keeping them, so a caller can keep a compact form of a large graph.
// The legend (colorize) is checked and dropped. An error from v stops the scan and is
// returned as is.
func ScanDot(r io.Reader, v DotVisitor) error {
	d := dotParser{
		v:       v,
		defined: map[int64]struct{}{},
		pending: map[int64]int{},
		vals:    tla.NewParser(),
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), MaxDotLine)
	for sc.Scan() {
		d.line++
		line := sc.Bytes()
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if err := d.parseLine(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &DotError{Line: d.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", MaxDotLine), Err: err}
		}
		return fmt.Errorf("tlc: reading dot: %w", err)
	}
	if d.phase != phDone {
		return d.errorf(d.line+1, "unexpected end of file: the graph is not closed")
	}
	if len(d.pending) > 0 {
		id, line := int64(0), 0
		for k, l := range d.pending {
			if line == 0 || l < line {
				id, line = k, l
			}
		}
		return d.errorf(line, "edge to state %d, which the file never defines", id)
	}
	return nil
}

type dotParser struct {
	v DotVisitor
	// defined holds the ids of the states defined so far.
	defined map[int64]struct{}
	line    int
	phase   int
	// pending maps a state id that an edge named before its definition to that edge's line.
	pending map[int64]int
	vals    *tla.Parser
	buf     []byte
}

func (d *dotParser) errorf(line int, format string, args ...any) *DotError {
	return &DotError{Line: line, Msg: fmt.Sprintf(format, args...), Err: tla.ErrSyntax}
}

func (d *dotParser) parseLine(b []byte) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	switch d.phase {
	case phStart:
		if string(b) != "strict digraph DiskGraph {" {
			return d.errorf(d.line, "want \"strict digraph DiskGraph {\", found %s", clip(b))
		}
		d.phase = phHeader
	case phHeader:
		switch {
		case string(b) == "subgraph cluster_graph {":
			d.phase = phGraph
		case isGraphAttr(b):
		default:
			return d.errorf(d.line, "want a graph attribute or \"subgraph cluster_graph {\", found %s", clip(b))
		}
	case phGraph:
		return d.graphLine(b)
	case phAfter:
		switch {
		case string(b) == "}":
			d.phase = phDone
		case strings.HasPrefix(string(b), "subgraph cluster_legend {"):
			d.phase = phLegend
		default:
			return d.errorf(d.line, "want \"}\" or the legend after the states, found %s", clip(b))
		}
	case phLegend:
		return d.legendLine(b)
	case phDone:
		return d.errorf(d.line, "text after the end of the graph: %s", clip(b))
	}
	return nil
}

// isGraphAttr accepts "name=value;" and "name [attrs]" header lines.
func isGraphAttr(b []byte) bool {
	s := string(b)
	if i := strings.IndexByte(s, '='); i > 0 && strings.HasSuffix(s, ";") && tla.IsIdent(s[:i]) {
		return true
	}
	if i := strings.Index(s, " ["); i > 0 && strings.HasSuffix(s, "]") && tla.IsIdent(s[:i]) {
		return true
	}
	return false
}

func (d *dotParser) graphLine(b []byte) error {
	s := string(b) // one copy per line; label values are unescaped from it
	switch {
	case s == "}":
		d.phase = phAfter
		return nil
	case s == `color="white";`:
		return nil
	case strings.HasPrefix(s, "{rank = same;"):
		return d.rankLine(s)
	}
	id, rest, ok := leadingID(s)
	if !ok {
		return d.errorf(d.line, "want a state, an edge or a rank, found %s", clip(b))
	}
	if strings.HasPrefix(rest, " -> ") {
		return d.edgeLine(id, rest[len(" -> "):])
	}
	if !strings.HasPrefix(rest, " [") {
		return d.errorf(d.line, "want \" [\" or \" -> \" after state id %d, found %s", id, clip([]byte(rest)))
	}
	attrs, tail, err := d.attrs(rest[1:])
	if err != nil {
		return err
	}
	if tail != "" && tail != ";" {
		return d.errorf(d.line, "unexpected %s after the state's attributes", clip([]byte(tail)))
	}
	label, ok := attrs["label"]
	if !ok {
		return d.errorf(d.line, "state %d has no label", id)
	}
	if _, dup := d.defined[id]; dup {
		return d.errorf(d.line, "state %d defined twice", id)
	}
	st, err := d.vals.ParseState(label)
	if err != nil {
		return &DotError{Line: d.line, Msg: fmt.Sprintf("state %d", id), Err: err}
	}
	d.defined[id] = struct{}{}
	delete(d.pending, id)
	return d.v.State(id, st, attrs["style"] == "filled")
}

func (d *dotParser) edgeLine(from int64, rest string) error {
	to, rest, ok := leadingID(rest)
	if !ok {
		return d.errorf(d.line, "want the successor's id after \"->\", found %s", clip([]byte(rest)))
	}
	action := ""
	if strings.HasPrefix(rest, " [") {
		attrs, tail, err := d.attrs(rest[1:])
		if err != nil {
			return err
		}
		action = d.vals.Intern(attrs["label"])
		rest = tail
	}
	if rest != ";" {
		return d.errorf(d.line, "want \";\" at the end of the edge, found %s", clip([]byte(rest)))
	}
	for _, id := range [2]int64{from, to} {
		if _, ok := d.defined[id]; !ok {
			if _, ok := d.pending[id]; !ok {
				d.pending[id] = d.line
			}
		}
	}
	return d.v.Edge(Edge{From: from, To: to, Action: action})
}

// rankLine checks "{rank = same; ID;ID;...}".
func (d *dotParser) rankLine(s string) error {
	body, ok := strings.CutSuffix(strings.TrimPrefix(s, "{rank = same;"), "}")
	if !ok {
		return d.errorf(d.line, "rank line does not end with \"}\"")
	}
	for f := range strings.SplitSeq(strings.TrimSuffix(strings.TrimSpace(body), ";"), ";") {
		if _, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err != nil {
			return d.errorf(d.line, "bad state id %q in a rank line", f)
		}
	}
	return nil
}

func (d *dotParser) legendLine(b []byte) error {
	s := string(b)
	switch {
	case s == "}}":
		d.phase = phDone
		return nil
	case s == "}":
		d.phase = phAfter
		return nil
	case strings.HasPrefix(s, "node [") && strings.HasSuffix(s, "]"):
		return nil
	}
	i := strings.Index(s, " [")
	if i <= 0 || !isIdentLike(s[:i]) {
		return d.errorf(d.line, "want a legend entry \"Action [label=...]\", found %s", clip(b))
	}
	attrs, tail, err := d.attrs(s[i+1:])
	if err != nil {
		return err
	}
	if tail != "" {
		return d.errorf(d.line, "unexpected %s after the legend entry", clip([]byte(tail)))
	}
	if d.v.Legend != nil {
		return d.v.Legend(attrs["label"], attrs["fillcolor"])
	}
	return nil
}
