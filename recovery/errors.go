package recovery

import (
	"errors"
	"fmt"

	ops "github.com/opfsm/opfsm/operators"
)

// Sentinel errors; every rejection wraps one.
var (
	// ErrInvalidSnapshot means the snapshot itself is unusable (no changefeed, epoch 0).
	ErrInvalidSnapshot = errors.New("invalid snapshot")
	// ErrWrongChangefeed means a response of another changefeed.
	ErrWrongChangefeed = errors.New("response of another changefeed")
	// ErrStaleEpoch means a response stamped with an epoch other than the new maintainer's.
	ErrStaleEpoch = errors.New("response of another maintainer epoch")
	// ErrConflictingResponses means one node answered twice with different contents.
	ErrConflictingResponses = errors.New("conflicting responses from one node")
	// ErrMalformedSpan means a reported dispatcher with an empty or reversed span.
	ErrMalformedSpan = errors.New("malformed span")
	// ErrDuplicateDispatcher means one node reported the same dispatcher id twice.
	ErrDuplicateDispatcher = errors.New("dispatcher reported twice by one node")
	// ErrBadJournal means a journal entry that cannot be restored (another changefeed, an
	// invalid record, an action that does not fit the operator).
	ErrBadJournal = errors.New("unusable journal entry")
)

// Rejection is one part of the snapshot that recovery did not use, and why. The rest of
// the snapshot is used as if the rejected part were absent.
type Rejection struct {
	Node ops.NodeID
	// What names the rejected part: "response", "dispatcher d1", "journal d1", "merge journal dm".
	What string
	Err  error
}

// Error implements error.
func (r *Rejection) Error() string {
	return fmt.Sprintf("recovery: node %s: %s rejected: %v", r.Node, r.What, r.Err)
}

// Unwrap returns the cause.
func (r *Rejection) Unwrap() error { return r.Err }
