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

// Sentinel errors a decode or run error wraps, for callers that branch on the kind.
var (
	// ErrSyntax: a line that is not a statement of the format, or a malformed field.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownNode, ErrUnknownTable, ErrUnknownDispatcher: a name the cluster does not have.
	ErrUnknownNode       = errors.New("unknown node")
	ErrUnknownTable      = errors.New("unknown table")
	ErrUnknownDispatcher = errors.New("unknown dispatcher")
	// ErrForbidden: an operation or layout the domain does not allow (overlapping spans, a
	// table not covered exactly once, a split key outside the span, a merge of one span...).
	ErrForbidden = errors.New("forbidden by the domain")
)

// Error is a decode or run error: the file, line and field at fault.
type Error struct {
	File  string
	Line  int
	Field string
	Err   error
}

// Error formats the error as file:line: field: cause.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d: ", e.Line)
	} else if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause (one of the sentinels, possibly wrapped).
func (e *Error) Unwrap() error { return e.Err }

// Placement is one span of the initial layout: dispatcher ID, Working on Node.
type Placement struct {
	ID   ops.DispatcherID
	Span ops.Span
	Node ops.NodeID
	Line int
}

// Step is one statement of the script part of a scenario. Verb is the statement's first
// word; the other fields are set as the verb uses them (docs/scenarios.md).
type Step struct {
	Line int
	Verb string
	// Kind is a block's kind (close, sweep, create, deliver, status), "maintainer" or
	// "node" for kill, "dispatcher" or "absent" for never, "late" or "unseen" for the DDL
	// of drop and create.
	Kind   string
	Nodes  []ops.NodeID // block/release targets (nil: all nodes), add/move destination, killed node
	Epoch  ops.Epoch    // block deliver ... epoch E (0: every epoch)
	ID     ops.DispatcherID
	IDs    []ops.DispatcherID
	Table  ops.TableID
	Key    string
	Label  string // do, run until, kill ... after
	AtStep int    // kill ... at step N
	Steps  int    // run N
}

// Expect is the required end state of one table: the spans its tasks cover, each Working
// on the named node (empty: any live node) and, when ID is set, with that dispatcher id.
// Gone: the table has no task and no dispatcher at all.
type Expect struct {
	Line  int
	Table ops.TableID
	Gone  bool
	Spans []ExpectSpan
}

// ExpectSpan is one span an Expect requires.
type ExpectSpan struct {
	Span ops.Span
	Node ops.NodeID
	ID   ops.DispatcherID
}

// Scenario is a decoded scenario file.
type Scenario struct {
	File    string
	Name    string
	Nodes   []ops.NodeID
	Tables  []ops.TableID
	Spans   []Placement
	Steps   []Step
	Expects []Expect
}

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

// fieldErr is an error about one field; wrap turns it into an *Error.
type fieldErr struct {
	field string
	err   error
}

func (f *fieldErr) Error() string { return f.field + ": " + f.err.Error() }
func (f *fieldErr) Unwrap() error { return f.err }

func bad(field string, sentinel error, format string, args ...any) error {
	return &fieldErr{field: field, err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

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
	st := Step{Line: line, Verb: verb}
	var err error
	switch verb {
	case "block", "release":
		err = d.block(&st, f)
	case "add", "move":
		err = d.addMove(&st, f)
	case "split":
		err = d.split(&st, f)
	case "merge":
		err = d.merge(&st, f)
	case "remove":
		err = d.arity(f, 2, "remove ID")
		if err == nil {
			st.ID, err = d.id("id", f[1])
		}
	case "drop":
		if len(f) != 2 && (len(f) != 3 || (f[2] != "late" && f[2] != "unseen")) {
			return bad("drop", ErrSyntax, "want: drop TABLE [late|unseen]")
		}
		if len(f) == 3 {
			st.Kind = f[2]
		}
		st.Table, err = d.table("table", f[1])
	case "create":
		err = d.create(&st, f)
	case "do":
		if len(f) < 2 {
			return bad("do", ErrSyntax, "want: do ACTION-LABEL, e.g. do Lose(B, 1, 0)")
		}
		st.Label, err = label(f[1:])
	case "run":
		err = d.run(&st, f)
	case "kill":
		err = d.kill(&st, f)
	case "never":
		err = d.never(&st, f)
	default:
		return bad("statement", ErrSyntax, "unknown statement %q (want name, nodes, table, span, block, release, add, move, split, merge, remove, drop, create, do, run, kill, never, expect)", verb)
	}
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

// nodes parses a node or "all" (nil).
func (d *decoder) nodes(field, s string) ([]ops.NodeID, error) {
	if s == "all" {
		return nil, nil
	}
	n, err := d.node(field, s)
	return []ops.NodeID{n}, err
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

var blockKinds = []string{"close", "sweep", "create", "deliver", "status"}

// block KIND on NODE|all [epoch E]; release KIND on NODE|all [epoch E]; release all
func (d *decoder) block(st *Step, f []string) error {
	if st.Verb == "release" && len(f) == 2 && f[1] == "all" {
		st.Kind = "all"
		return nil
	}
	if len(f) != 4 && !(len(f) == 6 && f[4] == "epoch") || f[2] != "on" {
		return bad(st.Verb, ErrSyntax, "want: %s close|sweep|create|deliver|status on NODE|all [epoch E]", st.Verb)
	}
	if !slices.Contains(blockKinds, f[1]) {
		return bad("kind", ErrSyntax, "block kind %q (want one of %v)", f[1], blockKinds)
	}
	st.Kind = f[1]
	var err error
	if st.Nodes, err = d.nodes("node", f[3]); err != nil {
		return err
	}
	if len(f) == 6 {
		if st.Kind != "deliver" {
			return bad("epoch", ErrSyntax, "only deliver blocks take an epoch")
		}
		e, err := strconv.ParseUint(f[5], 10, 64)
		if err != nil || e == 0 {
			return bad("epoch", ErrSyntax, "epoch %q is not a positive integer", f[5])
		}
		st.Epoch = ops.Epoch(e)
	}
	return nil
}

// add ID to NODE; move ID to NODE
func (d *decoder) addMove(st *Step, f []string) error {
	if len(f) != 4 || f[2] != "to" {
		return bad(st.Verb, ErrSyntax, "want: %s ID to NODE", st.Verb)
	}
	var err error
	if st.ID, err = d.id("id", f[1]); err != nil {
		return err
	}
	n, err := d.node("node", f[3])
	st.Nodes = []ops.NodeID{n}
	return err
}

// split ID at KEY
func (d *decoder) split(st *Step, f []string) error {
	if len(f) != 4 || f[2] != "at" {
		return bad("split", ErrSyntax, "want: split ID at KEY")
	}
	var err error
	if st.ID, err = d.id("id", f[1]); err != nil {
		return err
	}
	sp := d.ids[st.ID]
	st.Key = f[3]
	if st.Key <= sp.Start || (sp.End != "" && st.Key >= sp.End) {
		return bad("key", ErrForbidden, "split key %q is not strictly inside %s's span %s", st.Key, st.ID, sp)
	}
	return nil
}

// merge ID ID... as ID
func (d *decoder) merge(st *Step, f []string) error {
	if len(f) < 5 || f[len(f)-2] != "as" {
		return bad("merge", ErrSyntax, "want: merge ID ID... as MERGED-ID")
	}
	var spans []ops.Span
	for _, s := range f[1 : len(f)-2] {
		id, err := d.id("id", s)
		if err != nil {
			return err
		}
		if slices.Contains(st.IDs, id) {
			return bad("id", ErrForbidden, "%s is listed twice", id)
		}
		st.IDs = append(st.IDs, id)
		spans = append(spans, d.ids[id])
	}
	slices.SortFunc(spans, func(a, b ops.Span) int { return strings.Compare(a.Start, b.Start) })
	for i := 1; i < len(spans); i++ {
		if !spans[i-1].Adjacent(spans[i]) {
			return bad("id", ErrForbidden, "merge sources must be adjacent spans of one table: %s and %s are not", spans[i-1], spans[i])
		}
	}
	st.ID = ops.DispatcherID(f[len(f)-1])
	if _, dup := d.ids[st.ID]; dup {
		return bad("as", ErrForbidden, "merged id %s is already in use", st.ID)
	}
	d.ids[st.ID] = ops.Span{Table: spans[0].Table, Start: spans[0].Start, End: spans[len(spans)-1].End}
	return nil
}

// create TABLE as ID
func (d *decoder) create(st *Step, f []string) error {
	if (len(f) != 4 && (len(f) != 5 || f[4] != "late")) || f[2] != "as" {
		return bad("create", ErrSyntax, "want: create TABLE as ID [late]")
	}
	if len(f) == 5 {
		st.Kind = "late"
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || id <= 0 {
		return bad("table", ErrSyntax, "table id %q is not a positive integer", f[1])
	}
	if slices.Contains(d.s.Tables, ops.TableID(id)) {
		return bad("table", ErrForbidden, "table %d already exists", id)
	}
	st.Table, st.ID = ops.TableID(id), ops.DispatcherID(f[3])
	if _, dup := d.ids[st.ID]; dup {
		return bad("as", ErrForbidden, "dispatcher id %s is already in use", st.ID)
	}
	d.s.Tables = append(d.s.Tables, st.Table) // from here on the table can be named
	d.ids[st.ID] = ops.Span{Table: st.Table}
	return nil
}

// run [N]; run until LABEL
func (d *decoder) run(st *Step, f []string) error {
	switch {
	case len(f) == 1:
		return nil
	case len(f) == 2:
		n, err := strconv.Atoi(f[1])
		if err != nil || n <= 0 {
			return bad("run", ErrSyntax, "step count %q is not a positive integer", f[1])
		}
		st.Steps = n
		return nil
	case f[1] == "until" && len(f) > 2:
		var err error
		st.Label, err = label(f[2:])
		return err
	}
	return bad("run", ErrSyntax, "want: run [N] or run until ACTION-LABEL")
}

// kill maintainer|node NODE [after LABEL | at step N]
func (d *decoder) kill(st *Step, f []string) error {
	rest := f[1:]
	switch {
	case len(rest) >= 1 && rest[0] == "maintainer":
		st.Kind, rest = "maintainer", rest[1:]
	case len(rest) >= 2 && rest[0] == "node":
		n, err := d.node("node", rest[1])
		if err != nil {
			return err
		}
		st.Kind, st.Nodes, rest = "node", []ops.NodeID{n}, rest[2:]
	default:
		return bad("kill", ErrSyntax, "want: kill maintainer|node NODE [after ACTION-LABEL | at step N]")
	}
	switch {
	case len(rest) == 0:
		return nil
	case rest[0] == "after" && len(rest) > 1:
		var err error
		st.Label, err = label(rest[1:])
		return err
	case len(rest) == 3 && rest[0] == "at" && rest[1] == "step":
		n, err := strconv.Atoi(rest[2])
		if err != nil || n <= 0 {
			return bad("step", ErrSyntax, "step %q is not a positive integer", rest[2])
		}
		st.AtStep = n
		return nil
	}
	return bad("kill", ErrSyntax, "want: kill maintainer|node NODE [after ACTION-LABEL | at step N]")
}

// never dispatcher ID; never absent TABLE
func (d *decoder) never(st *Step, f []string) error {
	if len(f) != 3 {
		return bad("never", ErrSyntax, "want: never dispatcher ID, or never absent TABLE")
	}
	st.Kind = f[1]
	switch f[1] {
	case "dispatcher":
		st.ID = ops.DispatcherID(f[2]) // any id: the point is that it never exists
		return nil
	case "absent":
		var err error
		st.Table, err = d.table("table", f[2])
		return err
	}
	return bad("never", ErrSyntax, "%q: want dispatcher or absent", f[1])
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

func expectSpans(e Expect) []ops.Span {
	out := make([]ops.Span, len(e.Spans))
	for i, s := range e.Spans {
		out[i] = s.Span
	}
	return out
}

// tiles checks that spans cover table tb's whole key range exactly once.
func tiles(tb ops.TableID, spans []ops.Span) error {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, ops.CompareSpans)
	if err := ops.Tiles(ops.Span{Table: tb}, spans); err != nil {
		return bad("span", ErrForbidden, "table %d is not covered exactly once: %v", tb, err)
	}
	return nil
}

// finish checks what needs the whole file: nodes given, each initial table tiled.
func (d *decoder) finish() error {
	if len(d.s.Nodes) == 0 {
		return bad("nodes", ErrSyntax, "the file declares no nodes")
	}
	created := map[ops.TableID]bool{}
	for _, st := range d.s.Steps {
		if st.Verb == "create" {
			created[st.Table] = true
		}
	}
	for _, tb := range d.s.Tables {
		if created[tb] {
			continue
		}
		var spans []ops.Span
		for _, p := range d.s.Spans {
			if p.Span.Table == tb {
				spans = append(spans, p.Span)
			}
		}
		if err := tiles(tb, spans); err != nil {
			return err
		}
	}
	return nil
}

// label normalises an action label: the words joined without spaces, so "DMDeliver(B, 1)"
// and "DMDeliver(B,1)" name the same action; it must look like Name or Name(args).
func label(words []string) (string, error) {
	l := strings.Join(words, "")
	name, args, paren := strings.Cut(l, "(")
	ok := name != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) < 0
	if paren {
		ok = ok && strings.HasSuffix(args, ")") && !strings.ContainsAny(strings.TrimSuffix(args, ")"), "()")
	}
	if !ok {
		return "", bad("label", ErrSyntax, "%q is not an action label like DMDeliver(B, 1)", strings.Join(words, " "))
	}
	return l, nil
}

// normLabel is how the runner compares an applied action with a label.
func normLabel(s string) string { return strings.ReplaceAll(s, " ", "") }
