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

// fieldErr is an error about one field; the decoder's wrap turns it into an *Error.
type fieldErr struct {
	field string
	err   error
}

func (f *fieldErr) Error() string { return f.field + ": " + f.err.Error() }
func (f *fieldErr) Unwrap() error { return f.err }

// bad is an error about field: sentinel, then the formatted detail.
func bad(field string, sentinel error, format string, args ...any) error {
	return &fieldErr{field: field, err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
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

// Placement is one span of the initial layout: dispatcher ID, Working on Node.
type Placement struct {
	ID   ops.DispatcherID
	Span ops.Span
	Node ops.NodeID
	Line int
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

// created lists the tables the script creates: they do not exist when the cluster starts.
func (s *Scenario) created() map[ops.TableID]bool {
	out := map[ops.TableID]bool{}
	for _, st := range s.Steps {
		if c, ok := st.(CreateStep); ok {
			out[c.Table] = true
		}
	}
	return out
}

// Step is one statement of the script part of a scenario (docs/scenarios.md): an operation
// (AddStep, MoveStep, SplitStep, MergeStep, RemoveStep, DropStep, CreateStep), a block or
// its release (BlockStep, ReleaseStep), time and faults (RunStep, KillStep, DoStep), or a
// monitor (NeverDispatcherStep, NeverAbsentStep). Every step type embeds Pos.
type Step interface {
	// StepLine is the line of the file the statement is on.
	StepLine() int
}

// Pos is where a statement is in its file.
type Pos struct {
	Line int
}

// StepLine returns the statement's line.
func (p Pos) StepLine() int { return p.Line }

// AddStep is `add ID to NODE`: an add operator for the Absent task ID.
type AddStep struct {
	Pos
	ID   ops.DispatcherID
	Node ops.NodeID
}

// MoveStep is `move ID to NODE`: move the Replicating task ID to Node.
type MoveStep struct {
	Pos
	ID   ops.DispatcherID
	Node ops.NodeID
}

// SplitStep is `split ID at KEY`: split task ID at Key, strictly inside its span.
type SplitStep struct {
	Pos
	ID  ops.DispatcherID
	Key string
}

// MergeStep is `merge ID ID... as MERGED`: merge the adjacent spans IDs into As.
type MergeStep struct {
	Pos
	IDs []ops.DispatcherID
	As  ops.DispatcherID
}

// RemoveStep is `remove ID`: a standalone remove of task ID.
type RemoveStep struct {
	Pos
	ID ops.DispatcherID
}

// DropStep is `drop TABLE [late|unseen]`: DROP TABLE, timed by DDL.
type DropStep struct {
	Pos
	Table ops.TableID
	DDL   DDL
}

// CreateStep is `create TABLE as ID [late]`: CREATE TABLE, an Absent task ID for the new
// table's whole key range, timed by DDL.
type CreateStep struct {
	Pos
	Table ops.TableID
	ID    ops.DispatcherID
	DDL   DDL
}

// DDL times a drop or create against the next maintainer's start checkpoint; the zero
// value is in time: the next maintainer's snapshot agrees with the DDL.
type DDL string

const (
	// DDLLate: the DDL commits after the next maintainer's start, so its snapshot does not
	// show it and it replays the DDL right after recovery.
	DDLLate DDL = "late"
	// DDLUnseen (drop only): the drop committed before the next maintainer's start, but
	// this maintainer never processes it.
	DDLUnseen DDL = "unseen"
)

// BlockStep is `block KIND on NODE|all [epoch E]`: the block holds until released.
type BlockStep struct {
	Pos
	Block
}

// ReleaseStep is `release KIND on NODE|all [epoch E]`, lifting the matching block, or
// `release all` (All), lifting every block.
type ReleaseStep struct {
	Pos
	Block
	All bool
}

// Block is one block: what Kind holds back on Node ("" for every node); a deliver block
// with an Epoch holds back only that maintainer epoch's requests (0: every epoch).
type Block struct {
	Kind  BlockKind
	Node  ops.NodeID
	Epoch ops.Epoch
}

// BlockKind is what a block holds back; each stands for one of TiCDC's failpoints.
type BlockKind string

// The kinds of block.
const (
	// BlockClose: the node cannot close dispatchers (no sweep, no merge commit).
	BlockClose BlockKind = "close"
	// BlockSweep: only the sweep; a merge can commit but its closed sources stay.
	BlockSweep BlockKind = "sweep"
	// BlockCreate: a Create at the head of a stream to the node is not handled.
	BlockCreate BlockKind = "create"
	// BlockDeliver: no request (of the block's epoch) reaches the node.
	BlockDeliver BlockKind = "deliver"
	// BlockStatus: the maintainer reads no status from the node.
	BlockStatus BlockKind = "status"
)

// blockKinds lists every BlockKind, in the order error messages give them.
var blockKinds = []BlockKind{BlockClose, BlockSweep, BlockCreate, BlockDeliver, BlockStatus}

// RunStep is `run [N]` (Steps: at most N fair steps, 0 for the default) or `run until
// LABEL` (Until: fair steps until the action labelled so was applied).
type RunStep struct {
	Pos
	Steps int
	Until string
}

// KillStep is `kill maintainer` or `kill node NODE` (Node set): at once, once the action
// labelled After was applied, or as the run's step number AtStep.
type KillStep struct {
	Pos
	Node   ops.NodeID
	After  string
	AtStep int
}

// DoStep is `do LABEL`: apply the enabled action Label now.
type DoStep struct {
	Pos
	Label string
}

// NeverDispatcherStep is `never dispatcher ID`: from here on no live node has dispatcher ID.
type NeverDispatcherStep struct {
	Pos
	ID ops.DispatcherID
}

// NeverAbsentStep is `never absent TABLE`: from here on no task of Table is Absent.
type NeverAbsentStep struct {
	Pos
	Table ops.TableID
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

// decoder holds what the lines so far declared.
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

// step parses one statement of the script, at, from its words f.
func (d *decoder) step(at Pos, f []string) (Step, error) {
	switch f[0] {
	case "block":
		b, err := d.block(f)
		return BlockStep{Pos: at, Block: b}, err
	case "release":
		if len(f) == 2 && f[1] == "all" {
			return ReleaseStep{Pos: at, All: true}, nil
		}
		b, err := d.block(f)
		return ReleaseStep{Pos: at, Block: b}, err
	case "add":
		id, n, err := d.target(f)
		return AddStep{Pos: at, ID: id, Node: n}, err
	case "move":
		id, n, err := d.target(f)
		return MoveStep{Pos: at, ID: id, Node: n}, err
	case "split":
		return d.split(at, f)
	case "merge":
		return d.merge(at, f)
	case "remove":
		if err := d.arity(f, 2, "remove ID"); err != nil {
			return nil, err
		}
		id, err := d.id("id", f[1])
		return RemoveStep{Pos: at, ID: id}, err
	case "drop":
		if len(f) != 2 && (len(f) != 3 || (f[2] != string(DDLLate) && f[2] != string(DDLUnseen))) {
			return nil, bad("drop", ErrSyntax, "want: drop TABLE [late|unseen]")
		}
		st := DropStep{Pos: at}
		if len(f) == 3 {
			st.DDL = DDL(f[2])
		}
		var err error
		st.Table, err = d.table("table", f[1])
		return st, err
	case "create":
		return d.create(at, f)
	case "do":
		if len(f) < 2 {
			return nil, bad("do", ErrSyntax, "want: do ACTION-LABEL, e.g. do Lose(B, 1, 0)")
		}
		l, err := label(f[1:])
		return DoStep{Pos: at, Label: l}, err
	case "run":
		return d.run(at, f)
	case "kill":
		return d.kill(at, f)
	case "never":
		return d.never(at, f)
	}
	return nil, bad("statement", ErrSyntax, "unknown statement %q (want name, nodes, table, span, block, release, add, move, split, merge, remove, drop, create, do, run, kill, never, expect)", f[0])
}

// block KIND on NODE|all [epoch E]; release KIND on NODE|all [epoch E]
func (d *decoder) block(f []string) (Block, error) {
	verb := f[0]
	if len(f) != 4 && !(len(f) == 6 && f[4] == "epoch") || f[2] != "on" {
		return Block{}, bad(verb, ErrSyntax, "want: %s close|sweep|create|deliver|status on NODE|all [epoch E]", verb)
	}
	b := Block{Kind: BlockKind(f[1])}
	if !slices.Contains(blockKinds, b.Kind) {
		return Block{}, bad("kind", ErrSyntax, "block kind %q (want one of %v)", f[1], blockKinds)
	}
	var err error
	if b.Node, err = d.nodes("node", f[3]); err != nil {
		return Block{}, err
	}
	if len(f) == 6 {
		if b.Kind != BlockDeliver {
			return Block{}, bad("epoch", ErrSyntax, "only deliver blocks take an epoch")
		}
		e, err := strconv.ParseUint(f[5], 10, 64)
		if err != nil || e == 0 {
			return Block{}, bad("epoch", ErrSyntax, "epoch %q is not a positive integer", f[5])
		}
		b.Epoch = ops.Epoch(e)
	}
	return b, nil
}

// add ID to NODE; move ID to NODE
func (d *decoder) target(f []string) (ops.DispatcherID, ops.NodeID, error) {
	if len(f) != 4 || f[2] != "to" {
		return "", "", bad(f[0], ErrSyntax, "want: %s ID to NODE", f[0])
	}
	id, err := d.id("id", f[1])
	if err != nil {
		return "", "", err
	}
	n, err := d.node("node", f[3])
	return id, n, err
}

// split ID at KEY
func (d *decoder) split(at Pos, f []string) (Step, error) {
	if len(f) != 4 || f[2] != "at" {
		return nil, bad("split", ErrSyntax, "want: split ID at KEY")
	}
	id, err := d.id("id", f[1])
	if err != nil {
		return nil, err
	}
	sp, key := d.ids[id], f[3]
	if key <= sp.Start || (sp.End != "" && key >= sp.End) {
		return nil, bad("key", ErrForbidden, "split key %q is not strictly inside %s's span %s", key, id, sp)
	}
	return SplitStep{Pos: at, ID: id, Key: key}, nil
}

// merge ID ID... as ID
func (d *decoder) merge(at Pos, f []string) (Step, error) {
	if len(f) < 5 || f[len(f)-2] != "as" {
		return nil, bad("merge", ErrSyntax, "want: merge ID ID... as MERGED-ID")
	}
	st := MergeStep{Pos: at}
	var spans []ops.Span
	for _, s := range f[1 : len(f)-2] {
		id, err := d.id("id", s)
		if err != nil {
			return nil, err
		}
		if slices.Contains(st.IDs, id) {
			return nil, bad("id", ErrForbidden, "%s is listed twice", id)
		}
		st.IDs = append(st.IDs, id)
		spans = append(spans, d.ids[id])
	}
	slices.SortFunc(spans, func(a, b ops.Span) int { return strings.Compare(a.Start, b.Start) })
	for i := 1; i < len(spans); i++ {
		if !spans[i-1].Adjacent(spans[i]) {
			return nil, bad("id", ErrForbidden, "merge sources must be adjacent spans of one table: %s and %s are not", spans[i-1], spans[i])
		}
	}
	st.As = ops.DispatcherID(f[len(f)-1])
	if _, dup := d.ids[st.As]; dup {
		return nil, bad("as", ErrForbidden, "merged id %s is already in use", st.As)
	}
	d.ids[st.As] = ops.Span{Table: spans[0].Table, Start: spans[0].Start, End: spans[len(spans)-1].End}
	return st, nil
}

// create TABLE as ID [late]
func (d *decoder) create(at Pos, f []string) (Step, error) {
	if (len(f) != 4 && (len(f) != 5 || f[4] != string(DDLLate))) || f[2] != "as" {
		return nil, bad("create", ErrSyntax, "want: create TABLE as ID [late]")
	}
	st := CreateStep{Pos: at}
	if len(f) == 5 {
		st.DDL = DDLLate
	}
	id, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || id <= 0 {
		return nil, bad("table", ErrSyntax, "table id %q is not a positive integer", f[1])
	}
	if slices.Contains(d.s.Tables, ops.TableID(id)) {
		return nil, bad("table", ErrForbidden, "table %d already exists", id)
	}
	st.Table, st.ID = ops.TableID(id), ops.DispatcherID(f[3])
	if _, dup := d.ids[st.ID]; dup {
		return nil, bad("as", ErrForbidden, "dispatcher id %s is already in use", st.ID)
	}
	d.s.Tables = append(d.s.Tables, st.Table) // from here on the table can be named
	d.ids[st.ID] = ops.Span{Table: st.Table}
	return st, nil
}

// run [N]; run until LABEL
func (d *decoder) run(at Pos, f []string) (Step, error) {
	st := RunStep{Pos: at}
	switch {
	case len(f) == 1:
		return st, nil
	case len(f) == 2:
		n, err := strconv.Atoi(f[1])
		if err != nil || n <= 0 {
			return nil, bad("run", ErrSyntax, "step count %q is not a positive integer", f[1])
		}
		st.Steps = n
		return st, nil
	case f[1] == "until" && len(f) > 2:
		var err error
		st.Until, err = label(f[2:])
		return st, err
	}
	return nil, bad("run", ErrSyntax, "want: run [N] or run until ACTION-LABEL")
}

// kill maintainer|node NODE [after LABEL | at step N]
func (d *decoder) kill(at Pos, f []string) (Step, error) {
	st := KillStep{Pos: at}
	rest := f[1:]
	switch {
	case len(rest) >= 1 && rest[0] == "maintainer":
		rest = rest[1:]
	case len(rest) >= 2 && rest[0] == "node":
		n, err := d.node("node", rest[1])
		if err != nil {
			return nil, err
		}
		st.Node, rest = n, rest[2:]
	default:
		return nil, bad("kill", ErrSyntax, "want: kill maintainer|node NODE [after ACTION-LABEL | at step N]")
	}
	switch {
	case len(rest) == 0:
		return st, nil
	case rest[0] == "after" && len(rest) > 1:
		var err error
		st.After, err = label(rest[1:])
		return st, err
	case len(rest) == 3 && rest[0] == "at" && rest[1] == "step":
		n, err := strconv.Atoi(rest[2])
		if err != nil || n <= 0 {
			return nil, bad("step", ErrSyntax, "step %q is not a positive integer", rest[2])
		}
		st.AtStep = n
		return st, nil
	}
	return nil, bad("kill", ErrSyntax, "want: kill maintainer|node NODE [after ACTION-LABEL | at step N]")
}

// never dispatcher ID; never absent TABLE
func (d *decoder) never(at Pos, f []string) (Step, error) {
	if len(f) != 3 {
		return nil, bad("never", ErrSyntax, "want: never dispatcher ID, or never absent TABLE")
	}
	switch f[1] {
	case "dispatcher":
		// any id: the point is that it never exists
		return NeverDispatcherStep{Pos: at, ID: ops.DispatcherID(f[2])}, nil
	case "absent":
		tb, err := d.table("table", f[2])
		return NeverAbsentStep{Pos: at, Table: tb}, err
	}
	return nil, bad("never", ErrSyntax, "%q: want dispatcher or absent", f[1])
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

// finish checks what needs the whole file: nodes given, each initial table tiled.
func (d *decoder) finish() error {
	if len(d.s.Nodes) == 0 {
		return bad("nodes", ErrSyntax, "the file declares no nodes")
	}
	created := d.s.created()
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

// tiles checks that spans cover table tb's whole key range exactly once.
func tiles(tb ops.TableID, spans []ops.Span) error {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, ops.CompareSpans)
	if err := ops.Tiles(ops.Span{Table: tb}, spans); err != nil {
		return bad("span", ErrForbidden, "table %d is not covered exactly once: %v", tb, err)
	}
	return nil
}

func expectSpans(e Expect) []ops.Span {
	out := make([]ops.Span, len(e.Spans))
	for i, s := range e.Spans {
		out[i] = s.Span
	}
	return out
}
