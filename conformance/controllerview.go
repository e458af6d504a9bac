package conformance

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/sim"
)

// A maintainer controller as the spec's sched, node and ops entries, by spec id: for the
// abstraction of a simulator state and for package recovery's result.

// ctrlEntry is the maintainer's entry for one spec id: its task and its operator.
type ctrlEntry struct {
	task, op     bool
	sched        string // the task's scheduling state
	node         int    // the task's node
	opType, opSt string
	origin, dest int
}

// appendSched appends the sched entry: the task's scheduling state, "none" without one.
func (e *ctrlEntry) appendSched(b []byte) []byte {
	if !e.task {
		return append(b, `"none"`...)
	}
	return appendQuoted(b, e.sched)
}

// appendNode appends the node entry: the task's node, 0 without one.
func (e *ctrlEntry) appendNode(b []byte) []byte { return strconv.AppendInt(b, int64(e.node), 10) }

// appendOp appends the ops entry: the operator, noOp without one.
func (e *ctrlEntry) appendOp(b []byte) []byte {
	if !e.op {
		return append(b, noOp...)
	}
	return appendOp(b, e.opType, e.opSt, e.origin, e.dest)
}

// ctrlRecords are a controller's tasks and operators, read once for everything a state's
// abstraction needs of them.
type ctrlRecords struct {
	tasks []ops.Task
	ops   []ops.Record
}

// readController reads the tasks (by id) and operators of c's running maintainer into
// into, reusing its slices, and returns it (nil while the maintainer boots). The records'
// slices are the controller's (Controller.EachOperator): read them before c changes.
func readController(c *sim.Cluster, into *ctrlRecords) *ctrlRecords {
	ctrl := c.Controller()
	if ctrl == nil {
		return nil
	}
	into.tasks, into.ops = into.tasks[:0], into.ops[:0]
	ctrl.EachTask(func(t ops.Task) { into.tasks = append(into.tasks, t) })
	slices.SortFunc(into.tasks, func(a, b ops.Task) int { return cmp.Compare(a.ID, b.ID) })
	ctrl.EachOperator(func(r ops.Record) { into.ops = append(into.ops, r) })
	return into
}

// controllerRows sets the entry of every spec id (at maps a span to it) from the
// maintainer controller's tasks and operators: two tasks of one span are an error.
func controllerRows(cr *ctrlRecords, at func(ops.Span) (*ctrlEntry, error)) error {
	for _, t := range cr.tasks {
		e, err := at(t.Span)
		if err != nil {
			return err
		}
		if e.task {
			return fmt.Errorf("conformance: %w: two tasks of span %s", ErrNotAbstract, t.Span)
		}
		e.task, e.sched, e.node = true, t.Sched.String(), nodeNum(t.Node)
	}
	for _, r := range cr.ops {
		e, err := at(r.Span)
		if err != nil {
			return err
		}
		e.op, e.opType, e.opSt, e.origin, e.dest = true, r.Type.String(), r.StateName(), nodeNum(r.Origin), nodeNum(r.Dest)
	}
	return nil
}

// controllerView prints a maintainer controller's tasks and operators as the spec's
// sched, node and ops entries, by spec id (specID maps a span to it); an id missing from
// a map has no task or operator.
func controllerView(ctrl *ops.Controller, specID func(ops.Span) (string, error)) (sched, node, opsV map[string]string, err error) {
	rows := map[string]*ctrlEntry{}
	at := func(sp ops.Span) (*ctrlEntry, error) {
		d, err := specID(sp)
		if err != nil {
			return nil, err
		}
		if rows[d] == nil {
			rows[d] = &ctrlEntry{}
		}
		return rows[d], nil
	}
	if err := controllerRows(&ctrlRecords{tasks: ctrl.Tasks(), ops: ctrl.Operators()}, at); err != nil {
		return nil, nil, nil, err
	}
	sched, node, opsV = map[string]string{}, map[string]string{}, map[string]string{}
	for d, e := range rows {
		if e.task {
			sched[d], node[d] = string(e.appendSched(nil)), string(e.appendNode(nil))
		}
		if e.op {
			opsV[d] = string(e.appendOp(nil))
		}
	}
	return sched, node, opsV, nil
}
