package conformance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The snapshots of RecoveryKeys.tla's states, decoded into the library's protocol
// snapshots: spec ids as spans (keyGeometry), TLC values read field by field.

// keyGeometry maps the spec's ids to spans of table recoveryTable: letter k is key k, "m"
// the whole table. Key k's range is [k, k+1), the first starting at the table's start and
// the last ending at its end.
type keyGeometry struct{ keys int }

const recoveryTable ops.TableID = 1

// geometryOf is the geometry of a world with these ids: one key per one-letter id.
func geometryOf(ids []string) keyGeometry {
	g := keyGeometry{}
	for _, id := range ids {
		if len(id) == 1 && id != "m" {
			g.keys++
		}
	}
	return g
}

func (g keyGeometry) span(id string) (ops.Span, error) {
	if id == "m" {
		return ops.Span{Table: recoveryTable}, nil
	}
	lo, hi := -1, -1
	for i, c := range id {
		k := int(c - 'a')
		if k < 0 || k >= g.keys || (i > 0 && k != hi+1) {
			return ops.Span{}, fmt.Errorf("conformance: %w: id %q is not a run of keys", ErrNotAbstract, id)
		}
		if i == 0 {
			lo = k
		}
		hi = k
	}
	if lo < 0 {
		return ops.Span{}, fmt.Errorf("conformance: %w: empty id", ErrNotAbstract)
	}
	sp := ops.Span{Table: recoveryTable}
	if lo > 0 {
		sp.Start = strconv.Itoa(lo)
	}
	if hi < g.keys-1 {
		sp.End = strconv.Itoa(hi + 1)
	}
	return sp, nil
}

// id is span's spec id: the whole table is "m", any other run of keys its letters.
func (g keyGeometry) id(sp ops.Span) (string, error) {
	if sp.Table != recoveryTable {
		return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
	}
	lo, hi := 0, g.keys-1
	var err error
	if sp.Start != "" {
		if lo, err = strconv.Atoi(sp.Start); err != nil {
			return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
		}
	}
	if sp.End != "" {
		e, err := strconv.Atoi(sp.End)
		if err != nil {
			return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
		}
		hi = e - 1
	}
	if lo < 0 || hi >= g.keys || lo > hi {
		return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
	}
	if lo == 0 && hi == g.keys-1 {
		return "m", nil
	}
	var b strings.Builder
	for k := lo; k <= hi; k++ {
		b.WriteByte(byte('a' + k))
	}
	return b.String(), nil
}

func valueText(v tla.Value) string {
	if v == nil {
		return "<missing>"
	}
	return string(tla.AppendCanonical(nil, v))
}

// multiset prints values as a sorted list of their canonical texts.
func multiset(vs []tla.Value) string {
	txt := make([]string, len(vs))
	for i, v := range vs {
		txt[i] = valueText(v)
	}
	slices.Sort(txt)
	return "{" + strings.Join(txt, ", ") + "}"
}

func seqOf(v tla.Value) ([]tla.Value, error) {
	switch s := v.(type) {
	case tla.Seq:
		return s.Elems(), nil
	case tla.Func: // an empty sequence may print as a function
		if s.Len() == 0 {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("conformance: %w: want a sequence, have %s", ErrNotAbstract, valueText(v))
}

func field(v tla.Value, name string) (tla.Value, error) {
	switch r := v.(type) {
	case tla.Record:
		if f, ok := r.Get(name); ok {
			return f, nil
		}
	case tla.Func:
		if f, ok := r.Get(tla.Str(name)); ok {
			return f, nil
		}
	}
	return nil, fmt.Errorf("conformance: %w: no field %q in %s", ErrNotAbstract, name, valueText(v))
}

// fieldsOf lists a record's (or a string-keyed function's) fields and values.
func fieldsOf(v tla.Value) ([]string, []tla.Value, error) {
	switch r := v.(type) {
	case tla.Record:
		var names []string
		var vals []tla.Value
		for _, f := range r.Fields() {
			names, vals = append(names, f.Name), append(vals, f.Value)
		}
		return names, vals, nil
	case tla.Func:
		var names []string
		var vals []tla.Value
		for _, p := range r.Pairs() {
			s, ok := p.Key.(tla.Str)
			if !ok {
				return nil, nil, fmt.Errorf("conformance: %w: want ids as keys, have %s", ErrNotAbstract, valueText(v))
			}
			names, vals = append(names, string(s)), append(vals, p.Value)
		}
		return names, vals, nil
	}
	return nil, nil, fmt.Errorf("conformance: %w: want a record, have %s", ErrNotAbstract, valueText(v))
}

func strOf(v tla.Value) (string, error) {
	if s, ok := v.(tla.Str); ok {
		return string(s), nil
	}
	return "", fmt.Errorf("conformance: %w: want a string, have %s", ErrNotAbstract, valueText(v))
}

func intOf(v tla.Value) (int, error) {
	if i, ok := v.(tla.Int); ok {
		return int(i), nil
	}
	return 0, fmt.Errorf("conformance: %w: want a number, have %s", ErrNotAbstract, valueText(v))
}

func nodesOf(st tla.State) []tla.Value {
	rs, _ := seqOf(st["resp"])
	return rs
}

// recoverySnapshot builds the snapshot that state st's bootstrap answers make: one per
// node whose answer is in (ok), every reported dispatcher with its span, schedule-journal
// records of epoch st's journal entries, and the merge journal's record of "m" from its
// sources. It also returns a one-line description, the number of reported dispatchers and
// the ids of the world.
func recoverySnapshot(st tla.State) (protocol.Snapshot, string, int, []string, error) {
	fail := func(err error) (protocol.Snapshot, string, int, []string, error) {
		return protocol.Snapshot{}, "", 0, nil, fmt.Errorf("conformance: a snapshot of the recovery model: %w", err)
	}
	drop, err := intOf(st["dropEpoch"])
	if err != nil {
		return fail(err)
	}
	epoch, err := intOf(st["epoch"])
	if err != nil {
		return fail(err)
	}
	snap := protocol.Snapshot{Changefeed: "cf", Epoch: ops.Epoch(epoch)}
	if drop == 0 {
		snap.Tables = []ops.TableID{recoveryTable}
	}
	desc := []string{fmt.Sprintf("alive %s, dropEpoch %d", valueText(st["alive"]), drop)}
	size := 0
	var ids []string
	for i, r := range nodesOf(st) {
		ok, err := field(r, "ok")
		if err != nil {
			return fail(err)
		}
		if ok != tla.Bool(true) {
			continue
		}
		n := ops.NodeID(strconv.Itoa(i + 1))
		a, line, k, idList, err := answerOf(n, r, ops.Epoch(epoch))
		if err != nil {
			return fail(err)
		}
		ids = idList
		snap.Answers = append(snap.Answers, a)
		desc = append(desc, line)
		size += k
	}
	if ids == nil { // no answer: read the ids from the recovered tasks' domain
		names, _, err := fieldsOf(st["sched"])
		if err != nil {
			return fail(err)
		}
		ids = names
	}
	return snap, strings.Join(desc, "\n    "), size, ids, nil
}

// answerOf is node n's bootstrap answer from its spec response r.
func answerOf(n ops.NodeID, r tla.Value, epoch ops.Epoch) (protocol.BootstrapAnswer, string, int, []string, error) {
	a := protocol.BootstrapAnswer{Node: n, Changefeed: "cf", Epoch: epoch}
	get := func(name string) ([]string, []tla.Value, error) {
		v, err := field(r, name)
		if err != nil {
			return nil, nil, err
		}
		return fieldsOf(v)
	}
	ids, states, err := get("disp")
	if err != nil {
		return a, "", 0, nil, err
	}
	_, rems, err := get("rem")
	if err != nil {
		return a, "", 0, nil, err
	}
	_, journal, err := get("opJ")
	if err != nil {
		return a, "", 0, nil, err
	}
	if len(rems) != len(ids) || len(journal) != len(ids) {
		return a, "", 0, nil, fmt.Errorf("%w: disp, rem and opJ over different ids", ErrNotAbstract)
	}
	g := geometryOf(ids)
	var parts []string
	for i, id := range ids {
		st, err := strOf(states[i])
		if err != nil {
			return a, "", 0, nil, err
		}
		if st == "none" {
			continue
		}
		cs, err := ops.ParseComponentState(st)
		if err != nil {
			return a, "", 0, nil, fmt.Errorf("%w: dispatcher %s: %w", ErrNotAbstract, id, err)
		}
		sp, err := g.span(id)
		if err != nil {
			return a, "", 0, nil, err
		}
		removing := rems[i] == tla.Bool(true)
		a.Dispatchers = append(a.Dispatchers, protocol.Dispatcher{ID: ops.DispatcherID(id), Span: sp, State: cs, Removing: removing})
		part := id + " " + st
		if removing {
			part += " closing"
		}
		if rec, ok := journal[i].(tla.Record); ok {
			op, _ := rec.Get("op")
			if s, _ := strOf(op); s != "" {
				jr, err := journalRecord(g, n, ops.DispatcherID(id), sp, rec)
				if err != nil {
					return a, "", 0, nil, err
				}
				a.Removes = append(a.Removes, jr)
				part += " (journal " + jr.Type.String()
				if jr.Type == ops.TypeMove {
					part += " to " + string(jr.Dest)
				}
				part += ")"
			}
		}
		parts = append(parts, part)
	}
	mj, err := field(r, "mergeJ")
	if err != nil {
		return a, "", 0, nil, err
	}
	if e, err := intOf(mj); err != nil {
		return a, "", 0, nil, err
	} else if e != 0 {
		var sources []ops.DispatcherID
		for k := range g.keys {
			sources = append(sources, ops.DispatcherID(string(rune('a'+k))))
		}
		a.Merges = append(a.Merges, ops.Record{Changefeed: "cf", ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning,
			Epoch: ops.Epoch(e), Span: ops.Span{Table: recoveryTable}, Origin: n, Sources: sources})
		parts = append(parts, fmt.Sprintf("merge journal of epoch %d", e))
	}
	return a, "node " + string(n) + ": " + strings.Join(parts, ", "), len(a.Dispatchers), ids, nil
}

// journalRecord is the Remove record a spec journal entry [op, epoch, dest] stands for,
// journaled at origin n for dispatcher id of span sp.
func journalRecord(g keyGeometry, n ops.NodeID, id ops.DispatcherID, sp ops.Span, rec tla.Record) (ops.Record, error) {
	opV, _ := rec.Get("op")
	epochV, _ := rec.Get("epoch")
	destV, _ := rec.Get("dest")
	op, err := strOf(opV)
	if err != nil {
		return ops.Record{}, err
	}
	e, err := intOf(epochV)
	if err != nil {
		return ops.Record{}, err
	}
	dest, err := intOf(destV)
	if err != nil {
		return ops.Record{}, err
	}
	r := ops.Record{Changefeed: "cf", ID: id, Epoch: ops.Epoch(e), Span: sp, Origin: n}
	switch op {
	case "remove":
		r.Type, r.State = ops.TypeRemove, ops.RemoveRunning
	case "move":
		r.Type, r.State, r.Dest = ops.TypeMove, ops.MoveRemoveOrigin, ops.NodeID(strconv.Itoa(dest))
	case "split":
		r.Type, r.State = ops.TypeSplit, ops.SplitRunning
		for _, c := range string(id) {
			if string(id) == "m" {
				break
			}
			half, _ := g.span(string(c))
			r.SplitSpans = append(r.SplitSpans, half)
		}
		if id == "m" {
			for k := range g.keys {
				half, _ := g.span(string(rune('a' + k)))
				r.SplitSpans = append(r.SplitSpans, half)
			}
		}
	default:
		return ops.Record{}, fmt.Errorf("%w: journal entry of %q", ErrNotAbstract, op)
	}
	return r, nil
}
