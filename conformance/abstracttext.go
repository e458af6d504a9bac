package conformance

import (
	"fmt"
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/sim"
)

// The abstract state's text: Abstraction.appendState writes a simulator state as the
// spec's variables, with the records of specvalues.go.

// appendState appends the text of every variable of c's abstract state (after Observe of
// the same state) to b, in SpecVars order, each followed by a newline, and sets ends[i]
// to where the i-th ends: State's texts without a map or a string per value, so that the
// explorer can hash a state's text from one buffer. The text is canonical (fixed orders
// everywhere, the one set sorted): equal abstract states print equally. cr is c's
// controller as readController reads it.
func (a *Abstraction) appendState(b []byte, c *sim.Cluster, cr *ctrlRecords, ends []int) ([]byte, error) {
	var nodeBuf [4]ops.NodeID
	nodes := c.AppendNodes(nodeBuf[:0])
	// A spec world has a few nodes: their rows live on the stack.
	var rowBuf [4]dmRowSet
	var mergeBuf [4]uint64
	rows, mergeJ := rowBuf[:0], mergeBuf[:0]
	if len(nodes) > len(rowBuf) {
		rows, mergeJ = make([]dmRowSet, 0, len(nodes)), make([]uint64, 0, len(nodes))
	}
	rows, mergeJ = rows[:len(nodes)], mergeJ[:len(nodes)]
	for i, n := range nodes {
		if !c.Alive(n) {
			continue
		}
		m := c.Node(n)
		var dup error
		var seen [len(dmRowSet{})]bool
		m.EachDispatcher(func(d protocol.Dispatcher) {
			k, err := a.specIndex(d.Span)
			switch {
			case err != nil:
				dup = cmpErr(dup, err)
			case seen[k]:
				dup = cmpErr(dup, fmt.Errorf("conformance: %w: two dispatchers of span %s on node %s", ErrNotAbstract, d.Span, n))
			default:
				seen[k] = true
				rows[i][k].state, rows[i][k].removing = d.State.String(), d.Removing
			}
		})
		if dup != nil {
			return nil, dup
		}
		var bad error
		m.EachRemove(func(r ops.Record) {
			if k, err := a.specIndex(r.Span); err != nil {
				bad = cmpErr(bad, err)
			} else {
				rows[i][k].journal = journalOf(r)
			}
		})
		if bad != nil {
			return nil, bad
		}
		m.EachMerge(func(r ops.Record) { mergeJ[i] = uint64(r.Epoch) })
	}
	v := 0
	end := func() {
		ends[v] = len(b)
		b = append(b, '\n')
		v++
	}
	// alive
	b = append(b, '{')
	sep := ""
	for i, n := range nodes {
		if c.Alive(n) {
			b = append(b, sep...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			sep = ", "
		}
	}
	b = append(b, '}')
	end()
	// disp, rem, opJ, mergeJ, owner
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendDisp(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendRem(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendOpJ(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return strconv.AppendUint(b, mergeJ[i], 10) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		return strconv.AppendUint(b, uint64(c.Node(nodes[i]).Owner()), 10)
	})
	end()
	// req: per node, one stream per epoch
	var err error
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		return appendTuple(b, a.maxEpoch, func(b []byte, e int) []byte {
			s, n := sim.Stream{Node: nodes[i], Epoch: ops.Epoch(e + 1)}, 0
			if c.Alive(nodes[i]) {
				n = c.Network().Len(s)
			}
			return appendTuple(b, n, func(b []byte, k int) []byte {
				r, _ := c.Network().Request(s, k)
				b, rerr := a.appendRequest(b, r)
				err = cmpErr(err, rerr)
				return b
			})
		})
	})
	if err != nil {
		return nil, err
	}
	end()
	// stq
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		var q []sim.Report
		if c.Alive(nodes[i]) {
			q = c.Network().Statuses(nodes[i])
		}
		return appendTuple(b, len(q), func(b []byte, k int) []byte {
			id, ierr := a.idOf(q[k].Status.ID)
			err = cmpErr(err, ierr)
			return appendStatus(b, id, q[k].Status.State.String(), uint64(q[k].Epoch))
		})
	})
	if err != nil {
		return nil, err
	}
	end()
	b = strconv.AppendUint(b, uint64(c.Epoch()), 10)
	end()
	if c.Booting() {
		b = append(b, `"boot"`...)
	} else {
		b = append(b, `"run"`...)
	}
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		b, rerr := a.appendResponse(b, c, nodes[i])
		err = cmpErr(err, rerr)
		return b
	})
	if err != nil {
		return nil, err
	}
	end()
	// sched, node, ops
	var ctrlRows [len(dmRowSet{})]ctrlEntry
	if cr != nil {
		at := func(sp ops.Span) (*ctrlEntry, error) {
			k, err := a.specIndex(sp)
			if err != nil {
				return nil, err
			}
			return &ctrlRows[k], nil
		}
		if err := controllerRows(cr, at); err != nil {
			return nil, err
		}
	}
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendSched(b) })
	end()
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendNode(b) })
	end()
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendOp(b) })
	end()
	b = strconv.AppendUint(b, uint64(c.DropEpoch(a.table)), 10)
	end()
	b = strconv.AppendInt(b, int64(c.Budget()), 10)
	end()
	loss, dup, crash, fail := c.Faults()
	b = append(b, "[loss |-> "...)
	b = strconv.AppendInt(b, int64(loss), 10)
	b = append(b, ", dup |-> "...)
	b = strconv.AppendInt(b, int64(dup), 10)
	b = append(b, ", crash |-> "...)
	b = strconv.AppendInt(b, int64(crash), 10)
	b = append(b, ", fail |-> "...)
	b = strconv.AppendInt(b, int64(fail), 10)
	b = append(b, ']')
	end()
	if v != len(ends) {
		return nil, fmt.Errorf("conformance: abstract state of %d variables, the spec has %d", v, len(ends))
	}
	return b, nil
}

// journalOf is the schedule-journal entry of record r.
func journalOf(r ops.Record) journalEntry {
	return journalEntry{op: r.Type.String(), epoch: uint64(r.Epoch), dest: nodeNum(r.Dest)}
}

// appendRequest appends request r as the spec writes it.
func (a *Abstraction) appendRequest(b []byte, r protocol.Request) ([]byte, error) {
	switch r.Kind {
	case protocol.Bootstrap:
		return append(b, bootstrapReq...), nil
	case protocol.Merge:
		return append(b, mergeReq...), nil
	}
	k, err := a.specIndex(r.Record.Span)
	if err != nil {
		return b, err
	}
	return appendReq(b, reqTypes[r.Kind], specIDs[k], r.Record.Type.String(), reqDest(r.Record)), nil
}

var reqTypes = map[protocol.Kind]string{protocol.Create: "create", protocol.Remove: "remove", protocol.Merge: "merge", protocol.Bootstrap: "bootstrap"}

// appendResponse appends node n's bootstrap answer as the maintainer holds it (ok FALSE
// without one).
func (a *Abstraction) appendResponse(b []byte, c *sim.Cluster, n ops.NodeID) ([]byte, error) {
	var rows dmRowSet
	var mj uint64
	r, ok := c.Response(n)
	if ok {
		for _, d := range r.Dispatchers {
			k, err := a.specIndex(d.Span)
			if err != nil {
				return b, err
			}
			rows[k].state, rows[k].removing = d.State.String(), d.Removing
		}
		for _, j := range r.Removes {
			k, err := a.specIndex(j.Span)
			if err != nil {
				return b, err
			}
			rows[k].journal = journalOf(j)
		}
		for _, m := range r.Merges {
			mj = uint64(m.Epoch)
		}
	}
	b = append(b, "[ok |-> "...)
	b = appendBool(b, ok)
	b = append(b, ", disp |-> "...)
	b = rows.appendDisp(b)
	b = append(b, ", rem |-> "...)
	b = rows.appendRem(b)
	b = append(b, ", opJ |-> "...)
	b = rows.appendOpJ(b)
	b = append(b, ", mergeJ |-> "...)
	b = strconv.AppendUint(b, mj, 10)
	return append(b, ']'), nil
}
