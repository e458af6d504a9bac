package conformance

import (
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
)

// The spec's records as TLA+ text, written once for the simulator's abstraction and the
// cluster-log reader: requests, schedule-journal entries, operators, statuses and a
// dispatcher manager's rows. Each is an append function, which the explorer's hot path
// calls on one buffer per state, and, where other readers want a string, a string form
// built on it.

const (
	noRec        = `[op |-> "", epoch |-> 0, dest |-> 0]`
	noOp         = `[type |-> "", st |-> "", origin |-> 0, dest |-> 0]`
	bootstrapReq = `[type |-> "bootstrap", id |-> "m", op |-> "", dest |-> 0]`
	mergeReq     = `[type |-> "merge", id |-> "m", op |-> "merge", dest |-> 0]`
)

// appendQuoted appends s as a TLA+ string. The spec's strings are plain identifiers
// (states, operation kinds, ids), which it copies between quotes; anything else goes
// through strconv.AppendQuote's escaping.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendReq appends a create or remove request (Network.tla's CreateReq, RemoveReq).
func appendReq(b []byte, typ, id, op string, dest int) []byte {
	b = append(b, `[type |-> `...)
	b = appendQuoted(b, typ)
	b = append(b, `, id |-> `...)
	b = appendQuoted(b, id)
	b = append(b, `, op |-> `...)
	b = appendQuoted(b, op)
	b = append(b, `, dest |-> `...)
	b = strconv.AppendInt(b, int64(dest), 10)
	return append(b, ']')
}

// reqDest is the dest field of a request carrying record r: a move's destination node,
// 0 for every other operator.
func reqDest(r ops.Record) int {
	if r.Type == ops.TypeMove {
		return nodeNum(r.Dest)
	}
	return 0
}

// reqText is appendReq's text.
func reqText(typ, id, op string, dest int) string { return string(appendReq(nil, typ, id, op, dest)) }

// appendJrec appends a schedule-journal entry (Schema.tla's JournalEntries).
func appendJrec(b []byte, op string, epoch uint64, dest int) []byte {
	b = append(b, `[op |-> `...)
	b = appendQuoted(b, op)
	b = append(b, `, epoch |-> `...)
	b = strconv.AppendUint(b, epoch, 10)
	b = append(b, `, dest |-> `...)
	b = strconv.AppendInt(b, int64(dest), 10)
	return append(b, ']')
}

// appendOp appends an operator (Schema.tla's Op).
func appendOp(b []byte, typ, st string, origin, dest int) []byte {
	b = append(b, `[type |-> `...)
	b = appendQuoted(b, typ)
	b = append(b, `, st |-> `...)
	b = appendQuoted(b, st)
	b = append(b, `, origin |-> `...)
	b = strconv.AppendInt(b, int64(origin), 10)
	b = append(b, `, dest |-> `...)
	b = strconv.AppendInt(b, int64(dest), 10)
	return append(b, ']')
}

// opText is appendOp's text.
func opText(typ, st string, origin, dest int) string {
	return string(appendOp(nil, typ, st, origin, dest))
}

// appendStatus appends a status report (Network.tla's Report).
func appendStatus(b []byte, id, st string, epoch uint64) []byte {
	b = append(b, `[id |-> `...)
	b = appendQuoted(b, id)
	b = append(b, `, st |-> `...)
	b = appendQuoted(b, st)
	b = append(b, `, epoch |-> `...)
	b = strconv.AppendUint(b, epoch, 10)
	return append(b, ']')
}

// statusText is appendStatus's text.
func statusText(id, st string, epoch uint64) string { return string(appendStatus(nil, id, st, epoch)) }

// appendIDFunc appends a function over the spec's ids, [m |-> .., a |-> .., b |-> ..],
// the value of the i-th id (specIDs order) appended by val.
func appendIDFunc(b []byte, val func(b []byte, i int) []byte) []byte {
	b = append(b, '[')
	for i, d := range specIDs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, d...)
		b = append(b, " |-> "...)
		b = val(b, i)
	}
	return append(b, ']')
}

// idFunc prints a function over the spec's ids as a record [m |-> .., a |-> .., b |-> ..].
func idFunc(val func(d string) string) string {
	return string(appendIDFunc(nil, func(b []byte, i int) []byte { return append(b, val(specIDs[i])...) }))
}

// journalEntry is a schedule-journal entry of a dispatcher manager's row; op "" is none.
type journalEntry struct {
	op    string
	epoch uint64
	dest  int
}

// dmEntry is what a dispatcher manager holds for one spec id: its dispatcher's state ("":
// none), whether that dispatcher is removing, and its journal entry.
type dmEntry struct {
	state    string
	removing bool
	journal  journalEntry
}

// dmRowSet is a dispatcher manager's entries, by spec id (specIDs order).
type dmRowSet [3]dmEntry

// appendDisp appends the disp row: each id's dispatcher state, "none" without one.
func (r *dmRowSet) appendDisp(b []byte) []byte {
	return appendIDFunc(b, func(b []byte, i int) []byte {
		if r[i].state == "" {
			return append(b, `"none"`...)
		}
		return appendQuoted(b, r[i].state)
	})
}

// appendRem appends the rem row: whether each id's dispatcher is removing.
func (r *dmRowSet) appendRem(b []byte) []byte {
	return appendIDFunc(b, func(b []byte, i int) []byte { return appendBool(b, r[i].removing) })
}

// appendOpJ appends the opJ row: each id's journal entry, noRec without one.
func (r *dmRowSet) appendOpJ(b []byte) []byte {
	return appendIDFunc(b, func(b []byte, i int) []byte {
		j := r[i].journal
		if j.op == "" {
			return append(b, noRec...)
		}
		return appendJrec(b, j.op, j.epoch, j.dest)
	})
}

// dmRows are a dispatcher manager's disp, rem and opJ rows.
func (r *dmRowSet) dmRows() (disp, rem, opJ string) {
	return string(r.appendDisp(nil)), string(r.appendRem(nil)), string(r.appendOpJ(nil))
}

// specIndex is the position of spec id d in specIDs, or -1.
func specIndex(d string) int {
	for i, s := range specIDs {
		if s == d {
			return i
		}
	}
	return -1
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "TRUE"...)
	}
	return append(b, "FALSE"...)
}

// appendTuple appends the tuple of n elements, the i-th appended by elem.
func appendTuple(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	b = append(b, "<<"...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = elem(b, i)
	}
	return append(b, ">>"...)
}

// orText is s, or def when s is empty.
func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// boolText is appendBool's text.
func boolText(v bool) string { return string(appendBool(nil, v)) }
