package node

import (
	"errors"
	"fmt"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Sentinel errors; every error the node returns wraps one of them (a refused request also
// its cause: a *fsm.DecodeError for an invalid one).
var (
	// ErrWrongChangefeed means a request of another changefeed.
	ErrWrongChangefeed = errors.New("request of another changefeed")
	// ErrFenced means a request from a maintainer the node does not obey: a Create, Remove
	// or Merge of another epoch than the node's owner epoch, or a Bootstrap of an older one.
	ErrFenced = errors.New("fenced: not from the maintainer the node obeys")
	// ErrOverlap means a Create whose span overlaps a dispatcher that is not closing,
	// which would put two dispatchers on one key.
	ErrOverlap = errors.New("span overlaps a dispatcher that is not closing")
	// ErrBadMerge means a merge whose sources are not adjacent, of one table, and tiling
	// the merged span exactly.
	ErrBadMerge = errors.New("merge sources do not tile the merged span")
	// ErrNotEnabled means a local event or check whose precondition does not hold (a
	// dispatcher that is missing or in another state).
	ErrNotEnabled = errors.New("not enabled")
	// ErrInvalidDispatcher means a dispatcher Preload cannot take: no id, an empty span, a
	// terminal state, an id it already has, or an overlap.
	ErrInvalidDispatcher = errors.New("invalid dispatcher")
)

// RefusedError is a request the node refused; the node changed nothing.
type RefusedError struct {
	Node  ops.NodeID
	Kind  protocol.Kind
	ID    ops.DispatcherID
	Epoch ops.Epoch
	Err   error
}

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("node %s: %s of %q from epoch %d refused: %v", e.Node, e.Kind, e.ID, e.Epoch, e.Err)
}

// Unwrap returns the cause.
func (e *RefusedError) Unwrap() error { return e.Err }

// fencedError is the cause of a request refused by the epoch fence. Its text is built
// only when read: stale requests are routine after a failover, and a model checker
// delivers them by the million.
type fencedError struct {
	bootstrap    bool
	epoch, owner ops.Epoch
}

// Error implements error.
func (e *fencedError) Error() string {
	what := "epoch"
	if e.bootstrap {
		what = "bootstrap of epoch"
	}
	return fmt.Sprintf("%v: %s %d, the node obeys %d", ErrFenced, what, e.epoch, e.owner)
}

// Unwrap returns ErrFenced.
func (e *fencedError) Unwrap() error { return ErrFenced }
