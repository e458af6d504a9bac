// Package operators is the code a maintainer links in to change span placement: the add,
// remove, move, split and merge operators (and occupy, which reserves merge sources) as
// explicit state machines, their serialisable records, and the operator controller.
//
// Each operator type is one shared fsm.Definition (Definitions lists them; the TLA+ spec
// uses the same state names). An Operator holds only its state and parameters, and its
// whole state is a Record: every request the controller emits carries the record, dispatcher
// managers journal it, and recovery turns it back into the same operator in the same state
// with Controller.Restore, so a move keeps its destination and a split its boundaries across
// a maintainer failover (TiCDC loses both: domain.md 4.1 G4).
//
// The Controller is deterministic and does no I/O: the caller feeds it status reports,
// node removals and table drops, and sends what Pending returns. Finished operators apply
// their PostFinish effect to the task registry exactly once and are deleted.
//
// Files: one per operator type, holding its machine, its start function and everything it
// does (add.go, remove.go, move.go, split.go, merge.go, occupy.go; kind.go says what each
// provides); controller.go the registry, lifecycle.go starting, firing and finishing
// operators, statuses.go and messages.go what comes in and goes out, record.go the
// serialisable record, span.go the span algebra every package uses.
package operators
