package scenario

import (
	"slices"
	"strconv"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
)

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
		if n > MaxRunSteps {
			return nil, bad("run", ErrSyntax, "step count %d is more than %d", n, MaxRunSteps)
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
