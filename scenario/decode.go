package scenario

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
)

// Decode reads a scenario from r; file names it in errors. Every error is an *Error naming
// the line and field, wrapping ErrSyntax, ErrUnknownNode, ErrUnknownTable,
// ErrUnknownDispatcher or ErrForbidden.
func Decode(r io.Reader, file string) (*Scenario, error) {
	d := &decoder{s: &Scenario{File: file}, ids: map[ops.DispatcherID]ops.Span{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if err := d.statement(line, fields); err != nil {
			return nil, d.wrap(line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: file, Line: line + 1, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	if err := d.finish(); err != nil {
		return nil, d.wrap(0, err)
	}
	return d.s, nil
}

// decoder holds what the lines so far declared; the script's statements are parsed in
// script.go, the checks that need the whole file are in checks.go.
type decoder struct {
	s      *Scenario
	ids    map[ops.DispatcherID]ops.Span // every id the script can name, with its span
	inStep bool                          // a step was seen: no more cluster statements
}

func (d *decoder) wrap(line int, err error) error {
	var f *fieldErr
	if errors.As(err, &f) {
		return &Error{File: d.s.File, Line: line, Field: f.field, Err: f.err}
	}
	return &Error{File: d.s.File, Line: line, Err: err}
}

// statement decodes one line's words f.
func (d *decoder) statement(line int, f []string) error {
	verb := f[0]
	switch verb {
	case "name", "nodes", "table", "span":
		if d.inStep {
			return bad(verb, ErrSyntax, "cluster statements (name, nodes, table, span) come before the first step")
		}
		return d.cluster(line, f)
	case "expect":
		return d.expect(line, f)
	}
	d.inStep = true
	st, err := d.step(Pos{Line: line}, f)
	if err != nil {
		return err
	}
	d.s.Steps = append(d.s.Steps, st)
	return nil
}

func (d *decoder) arity(f []string, n int, usage string) error {
	if len(f) != n {
		return bad(f[0], ErrSyntax, "want: %s", usage)
	}
	return nil
}

func (d *decoder) cluster(line int, f []string) error {
	switch f[0] {
	case "name":
		if len(f) < 2 || d.s.Name != "" {
			return bad("name", ErrSyntax, "want one line: name TEXT")
		}
		d.s.Name = strings.Join(f[1:], " ")
	case "nodes":
		if len(f) < 2 || d.s.Nodes != nil {
			return bad("nodes", ErrSyntax, "want one line: nodes NAME...")
		}
		for _, n := range f[1:] {
			if n == "all" || n == "any" || slices.Contains(d.s.Nodes, ops.NodeID(n)) {
				return bad("nodes", ErrSyntax, "node name %q is reserved or repeated", n)
			}
			d.s.Nodes = append(d.s.Nodes, ops.NodeID(n))
		}
	case "table":
		if err := d.arity(f, 2, "table ID"); err != nil {
			return err
		}
		id, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || id <= 0 {
			return bad("table", ErrSyntax, "table id %q is not a positive integer", f[1])
		}
		if slices.Contains(d.s.Tables, ops.TableID(id)) {
			return bad("table", ErrSyntax, "table %d declared twice", id)
		}
		d.s.Tables = append(d.s.Tables, ops.TableID(id))
	case "span":
		// span ID TABLE START..END on NODE
		if len(f) != 6 || f[4] != "on" {
			return bad("span", ErrSyntax, "want: span ID TABLE START..END on NODE")
		}
		id := ops.DispatcherID(f[1])
		if _, dup := d.ids[id]; dup {
			return bad("span", ErrSyntax, "dispatcher %s declared twice", id)
		}
		tb, err := d.table("table", f[2])
		if err != nil {
			return err
		}
		sp, err := span(tb, f[3])
		if err != nil {
			return err
		}
		n, err := d.node("node", f[5])
		if err != nil {
			return err
		}
		d.ids[id] = sp
		d.s.Spans = append(d.s.Spans, Placement{ID: id, Span: sp, Node: n, Line: line})
	}
	return nil
}

// expect table TABLE gone | expect table TABLE SPAN on NODE|any [as ID], ...
func (d *decoder) expect(line int, f []string) error {
	if len(f) < 4 || f[1] != "table" {
		return bad("expect", ErrSyntax, "want: expect table TABLE gone, or expect table TABLE SPAN on NODE|any [as ID], ...")
	}
	tb, err := d.table("table", f[2])
	if err != nil {
		return err
	}
	if slices.ContainsFunc(d.s.Expects, func(e Expect) bool { return e.Table == tb }) {
		return bad("table", ErrSyntax, "table %d has two expect lines", tb)
	}
	e := Expect{Line: line, Table: tb}
	if len(f) == 4 && f[3] == "gone" {
		e.Gone = true
		d.s.Expects = append(d.s.Expects, e)
		return nil
	}
	for _, item := range strings.Split(strings.Join(f[3:], " "), ",") {
		w := strings.Fields(item)
		if (len(w) != 3 && len(w) != 5) || w[1] != "on" || (len(w) == 5 && w[3] != "as") {
			return bad("expect", ErrSyntax, "item %q: want SPAN on NODE|any [as ID]", strings.TrimSpace(item))
		}
		sp, err := span(tb, w[0])
		if err != nil {
			return err
		}
		es := ExpectSpan{Span: sp}
		if w[2] != "any" {
			if es.Node, err = d.node("node", w[2]); err != nil {
				return err
			}
		}
		if len(w) == 5 {
			es.ID = ops.DispatcherID(w[4])
		}
		e.Spans = append(e.Spans, es)
	}
	if err := tiles(tb, expectSpans(e)); err != nil {
		return err
	}
	d.s.Expects = append(d.s.Expects, e)
	return nil
}

// span parses START..END, "-" standing for the table's start or end.
func span(tb ops.TableID, s string) (ops.Span, error) {
	start, end, ok := strings.Cut(s, "..")
	if !ok || start == "" || end == "" {
		return ops.Span{}, bad("span", ErrSyntax, "span %q: want START..END, '-' for the table's start or end", s)
	}
	sp := ops.Span{Table: tb, Start: strings.TrimPrefix(start, "-"), End: strings.TrimPrefix(end, "-")}
	if (start == "-") != (sp.Start == "") || (end == "-") != (sp.End == "") {
		return ops.Span{}, bad("span", ErrSyntax, "span %q: a key cannot start with '-'", s)
	}
	if !sp.Valid() {
		return ops.Span{}, bad("span", ErrForbidden, "span %q is empty (start not below end)", s)
	}
	return sp, nil
}

func (d *decoder) node(field, s string) (ops.NodeID, error) {
	if !slices.Contains(d.s.Nodes, ops.NodeID(s)) {
		return "", bad(field, ErrUnknownNode, "%q (nodes are %v)", s, d.s.Nodes)
	}
	return ops.NodeID(s), nil
}

// nodes parses a node or "all" ("").
func (d *decoder) nodes(field, s string) (ops.NodeID, error) {
	if s == "all" {
		return "", nil
	}
	return d.node(field, s)
}

func (d *decoder) table(field, s string) (ops.TableID, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !slices.Contains(d.s.Tables, ops.TableID(id)) {
		return 0, bad(field, ErrUnknownTable, "%q (tables are %v)", s, d.s.Tables)
	}
	return ops.TableID(id), nil
}

func (d *decoder) id(field, s string) (ops.DispatcherID, error) {
	if _, ok := d.ids[ops.DispatcherID(s)]; !ok {
		return "", bad(field, ErrUnknownDispatcher, "%q is neither a declared span nor a merge or create target", s)
	}
	return ops.DispatcherID(s), nil
}
