package operators

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error this package returns wraps one of them (or an fsm sentinel).
var (
	// ErrUnknownType means an operator type that does not exist.
	ErrUnknownType = errors.New("unknown operator type")
	// ErrUnknownMessageKind means a request kind name that does not exist.
	ErrUnknownMessageKind = errors.New("unknown message kind")
	// ErrUnknownComponentState means a dispatcher state name that does not exist.
	ErrUnknownComponentState = errors.New("unknown component state")
	// ErrInvalidRecord means a record whose parameters do not fit its type or state.
	ErrInvalidRecord = errors.New("invalid operator record")
	// ErrWrongChangefeed means a record or request of another changefeed.
	ErrWrongChangefeed = errors.New("record of another changefeed")
	// ErrOperatorExists means the dispatcher id already has an operator.
	ErrOperatorExists = errors.New("dispatcher already has an operator")
	// ErrTaskExists means a task with that id already exists.
	ErrTaskExists = errors.New("task already exists")
	// ErrUnknownTask means no task has that dispatcher id.
	ErrUnknownTask = errors.New("unknown task")
	// ErrTaskUnbound means the task is not bound to a node, so nothing can be removed or moved.
	ErrTaskUnbound = errors.New("task not bound to a node")
	// ErrMergeSources means merge sources that are fewer than two, duplicated, not
	// adjacent, of different tables or on different nodes.
	ErrMergeSources = errors.New("invalid merge sources")
	// ErrSplitSpans means split spans that do not exactly tile the original span.
	ErrSplitSpans = errors.New("invalid split spans")
	// ErrInvalidSpan means an empty or reversed key range.
	ErrInvalidSpan = errors.New("invalid span")
)

// RefusedError says why the controller refused to add an operator.
type RefusedError struct {
	Type Type
	ID   DispatcherID
	Err  error
}

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("operators: %s operator for %s refused: %v", e.Type, e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *RefusedError) Unwrap() error { return e.Err }

func refuse(t Type, id DispatcherID, err error) error {
	return &RefusedError{Type: t, ID: id, Err: err}
}

// ErrTaskState means the task is not in the scheduling state the operator needs (an add
// needs an Absent task; move, split and merge need Replicating ones).
var ErrTaskState = errors.New("task in the wrong scheduling state")
