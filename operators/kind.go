package operators

import (
	"fmt"

	"github.com/opfsm/opfsm/fsm"
)

// Type is an operator type.
type Type uint8

// The operator types. Occupy reserves a merge source while its merge runs.
const (
	TypeAdd Type = iota
	TypeRemove
	TypeMove
	TypeSplit
	TypeMerge
	TypeOccupy
)

var typeNames = [...]string{"add", "remove", "move", "split", "merge", "occupy"}

// String returns the type's name as records and the TLA+ spec spell it.
func (t Type) String() string { return enumName(typeNames[:], t, "Type") }

// ParseType maps a name back to its type.
func ParseType(name string) (Type, error) {
	return parseEnum[Type](typeNames[:], name, "operator type", ErrUnknownType)
}

// kind is everything one operator type does beyond the registry the controller keeps: how a
// status and the loss of a node map to its machine's triggers, the request it sends in
// each state, what entering a state does to its task, what it leaves behind when it
// finishes, and which record fields it needs. Each type has one file holding its machine,
// its start function and its kind: add.go, remove.go, move.go, split.go, merge.go,
// occupy.go.
type kind interface {
	// statusTrigger maps a status of the operator's dispatcher from node from (domain.md
	// section 1, the Check rows); noTrigger when it means nothing to the operator.
	statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger
	// nodeLostTrigger maps the loss of node n (the OnNodeRemove rows).
	nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger
	// taskRemovedTrigger is fired when the operator's task goes (DROP TABLE).
	taskRemovedTrigger() fsm.Trigger
	// message is the request the operator sends in its current state, if any.
	message(o *Operator) (NodeID, MessageKind, bool)
	// entered applies what entering the operator's new state does to the registry.
	entered(c *Controller, o *Operator)
	// finish applies the operator's PostFinish once it reached a terminal state; task is
	// its task (nil if gone), valid until the task is deleted.
	finish(c *Controller, o *Operator, task *Task)
	// checkRecord returns the first problem with the record fields the type needs (a
	// *fsm.DecodeError); uses says which optional fields it may have at all.
	checkRecord(r Record) error
	uses() field
}

// field is a set of a record's type-specific optional fields.
type field uint8

const (
	fieldSplit   field = 1 << iota // SplitSpans and SplitTargets
	fieldSources                   // Sources
	fieldHook                      // Hook
)

var kinds = [...]kind{TypeAdd: addKind{}, TypeRemove: removeKind{}, TypeMove: moveKind{}, TypeSplit: splitKind{},
	TypeMerge: mergeKind{}, TypeOccupy: occupyKind{}}

var defs = [...]*fsm.Definition{TypeAdd: addDef, TypeRemove: removeDef, TypeMove: moveDef, TypeSplit: splitDef,
	TypeMerge: mergeDef, TypeOccupy: occupyDef}

// Definitions returns the operator machines in type order: add, remove, move, split,
// merge, occupy.
func Definitions() []*fsm.Definition { return append([]*fsm.Definition(nil), defs[:]...) }

// Definition returns the machine of operator type t.
func Definition(t Type) (*fsm.Definition, error) {
	if int(t) >= len(defs) {
		return nil, fmt.Errorf("%v: %w", t, ErrUnknownType)
	}
	return defs[t], nil
}

// noEffect is the entered of the types whose states change nothing in the registry.
type noEffect struct{}

func (noEffect) entered(*Controller, *Operator) {}

// when returns t if cond holds, else noTrigger.
// workingAtOrigin maps a status from o's origin to onWorking when it says Working and to
// onOther otherwise; a status from another node means nothing to o (split and merge).
func workingAtOrigin(o *Operator, from NodeID, st ComponentState, onWorking, onOther fsm.Trigger) fsm.Trigger {
	if from != o.origin {
		return noTrigger
	}
	if st == Working {
		return onWorking
	}
	return onOther
}

func when(cond bool, t fsm.Trigger) fsm.Trigger {
	if cond {
		return t
	}
	return noTrigger
}

// markAbsent unbinds task t, if any, for a scheduler to place again.
func markAbsent(t *Task) {
	if t != nil {
		t.Sched, t.Node = Absent, ""
	}
}

// markReplicating marks task t, if any, served where it is bound.
func markReplicating(t *Task) {
	if t != nil {
		t.Sched = Replicating
	}
}
