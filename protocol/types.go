package protocol

import (
	"errors"
	"fmt"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// Version is the version of every message encoding of this package; decoders accept
// exactly this version.
const Version = 1

// Sentinel errors of this package; decoders and Validate wrap them in *fsm.DecodeError.
var (
	// ErrUnknownKind means a request kind that does not exist.
	ErrUnknownKind = errors.New("unknown request kind")
	// ErrEpochMismatch means a request whose operator record carries another epoch or
	// changefeed than its envelope.
	ErrEpochMismatch = errors.New("record does not match its envelope")
	// ErrInvalidMessage means a message whose fields contradict each other or its kind.
	ErrInvalidMessage = errors.New("invalid message")
)

// Kind is what a request asks a dispatcher manager to do.
type Kind uint8

// The request kinds. Create, Remove and Merge have the values of the operators package's
// message kinds, so Kind(m.Kind) converts an operators.Message's kind.
const (
	// Create asks for a dispatcher for the record's span (an add, or a move's destination).
	Create = Kind(ops.Create)
	// Remove asks to close the record's dispatcher (a remove, a move's origin, a split).
	Remove = Kind(ops.Remove)
	// Merge asks to merge the record's sources into its dispatcher.
	Merge = Kind(ops.Merge)
	// Bootstrap asks a node to obey the sender and answer with everything it has.
	Bootstrap Kind = 3
)

var kindNames = [...]string{"Create", "Remove", "Merge", "Bootstrap"}

// String returns the kind's name, as the JSON form writes it.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind maps a name back to its kind.
func ParseKind(name string) (Kind, error) {
	for i, n := range kindNames {
		if n == name {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("request kind %q: %w", name, ErrUnknownKind)
}

// Request is the envelope of every maintainer-to-node message.
type Request struct {
	Changefeed ops.ChangefeedID
	// Epoch is the sending maintainer's epoch. A node applies a Create, Remove or Merge
	// only when Epoch equals the epoch it obeys, and a Bootstrap only when Epoch is at
	// least that epoch (then it obeys Epoch from then on).
	Epoch ops.Epoch
	Kind  Kind
	// Record is the whole record of the operator that asks (zero for a Bootstrap). Its
	// Changefeed and Epoch equal the envelope's: a maintainer stamps its epoch on every
	// operator it runs.
	Record ops.Record
}

// Identity is what a node acts on in a request: two requests with equal identities ask the
// same of it (the second is a resend), whatever else their records say: a checkpoint that
// moved on, or the operator's state (a move's RemoveOrigin and AbortRemoveOrigin send the
// same Remove).
type Identity struct {
	Epoch ops.Epoch
	Kind  Kind
	ID    ops.DispatcherID
	Type  ops.Type
	Dest  ops.NodeID
}

// Identity returns the request's identity.
func (r Request) Identity() Identity {
	return Identity{Epoch: r.Epoch, Kind: r.Kind, ID: r.Record.ID, Type: r.Record.Type, Dest: r.Record.Dest}
}

// Validate checks what a receiver can check without state: a known kind, a changefeed
// and an epoch, a record that is valid and matches the envelope (for Create, Remove and
// Merge), and none for a Bootstrap. Errors are *fsm.DecodeError values.
func (r Request) Validate() error {
	bad := func(field string, err error) error {
		return &fsm.DecodeError{Record: "request", Field: field, Err: err}
	}
	switch {
	case r.Kind > Bootstrap:
		return bad("kind", fmt.Errorf("%w: %d", ErrUnknownKind, r.Kind))
	case r.Changefeed == "":
		return bad("changefeed", fsm.ErrMissingField)
	case r.Epoch == 0:
		return bad("epoch", fmt.Errorf("%w: epoch 0", ErrInvalidMessage))
	case r.Kind == Bootstrap:
		if r.Record.ID != "" || r.Record.Changefeed != "" {
			return bad("record", fmt.Errorf("%w: a bootstrap carries no record", ErrInvalidMessage))
		}
		return nil
	}
	if err := r.Record.Validate(); err != nil {
		return err
	}
	switch {
	case r.Record.Changefeed != r.Changefeed:
		return bad("record", fmt.Errorf("%w: record of changefeed %q in a request of %q", ErrEpochMismatch, r.Record.Changefeed, r.Changefeed))
	case r.Record.Epoch != r.Epoch:
		return bad("record", fmt.Errorf("%w: record of epoch %d in a request of epoch %d", ErrEpochMismatch, r.Record.Epoch, r.Epoch))
	case r.Kind == Merge && r.Record.Type != ops.TypeMerge, r.Kind != Merge && r.Record.Type == ops.TypeMerge:
		return bad("record", fmt.Errorf("%w: %s request with a %s record", ErrInvalidMessage, r.Kind, r.Record.Type))
	case r.Kind == Create && r.Record.Dest == "":
		return bad("record", fmt.Errorf("%w: a create needs a destination", ErrInvalidMessage))
	case r.Kind == Remove && r.Record.Origin == "":
		return bad("record", fmt.Errorf("%w: a remove needs an origin", ErrInvalidMessage))
	}
	return nil
}

// StatusReport carries dispatcher statuses from a node to the maintainer it obeys.
type StatusReport struct {
	Changefeed ops.ChangefeedID
	Node       ops.NodeID
	// Epoch is the owner epoch the node obeyed when it sent the statuses; a maintainer of
	// another epoch drops the report.
	Epoch    ops.Epoch
	Statuses []ops.Status
}

// Validate checks a report's envelope and that every status names a dispatcher with a
// known state. Errors are *fsm.DecodeError values.
func (s StatusReport) Validate() error {
	bad := func(field string, err error) error {
		return &fsm.DecodeError{Record: "status report", Field: field, Err: err}
	}
	switch {
	case s.Changefeed == "":
		return bad("changefeed", fsm.ErrMissingField)
	case s.Node == "":
		return bad("node", fsm.ErrMissingField)
	}
	for _, st := range s.Statuses {
		switch {
		case st.ID == "":
			return bad("statuses", fmt.Errorf("%w: a status without dispatcher id", ErrInvalidMessage))
		case st.State > ops.Removed:
			return bad("statuses", fmt.Errorf("%w: %d", ops.ErrUnknownComponentState, st.State))
		}
	}
	return nil
}

// Dispatcher is one dispatcher as its node reports it in a bootstrap answer.
type Dispatcher struct {
	ID    ops.DispatcherID
	Span  ops.Span
	State ops.ComponentState
	// Removing: the node accepted a Remove (or committed a merge that closes it) and the
	// dispatcher is closing.
	Removing   bool
	Checkpoint uint64
}

// BootstrapAnswer is a node's answer to a new maintainer's bootstrap request: everything
// the maintainer needs to rebuild the node's part of the changefeed.
type BootstrapAnswer struct {
	Node       ops.NodeID
	Changefeed ops.ChangefeedID
	// Epoch is the node's owner epoch after it accepted the bootstrap: the new
	// maintainer's, which drops answers of any other.
	Epoch ops.Epoch
	// Dispatchers are every dispatcher the node hosts, whatever its state.
	Dispatchers []Dispatcher
	// Removes is the remove journal: the record of every Remove the node accepted whose
	// dispatcher it still hosts.
	Removes []ops.Record
	// Merges is the merge journal: the record of every merge the node accepted that has
	// not been cleaned up.
	Merges []ops.Record
}

// Validate checks an answer's envelope and that every dispatcher has an id and a known
// state. Spans and journal contents are recovery's to judge (it rejects bad parts one by
// one and keeps the rest), so they are not checked here. Errors are *fsm.DecodeError
// values.
func (a BootstrapAnswer) Validate() error {
	bad := func(field string, err error) error {
		return &fsm.DecodeError{Record: "bootstrap answer", Field: field, Err: err}
	}
	switch {
	case a.Changefeed == "":
		return bad("changefeed", fsm.ErrMissingField)
	case a.Node == "":
		return bad("node", fsm.ErrMissingField)
	}
	for _, d := range a.Dispatchers {
		switch {
		case d.ID == "":
			return bad("dispatchers", fmt.Errorf("%w: a dispatcher without id", ErrInvalidMessage))
		case d.State > ops.Removed:
			return bad("dispatchers", fmt.Errorf("%w: %d", ops.ErrUnknownComponentState, d.State))
		}
	}
	return nil
}

// Snapshot is everything a new maintainer knows when it recovers: its changefeed and
// epoch, the changefeed checkpoint it starts from, the tables alive at that checkpoint,
// and the answers of every live node.
type Snapshot struct {
	Changefeed ops.ChangefeedID
	Epoch      ops.Epoch
	// Checkpoint is the changefeed checkpoint the maintainer starts from: every key's data
	// up to it has been written. A span recovery has to start anew starts there.
	Checkpoint uint64
	Tables     []ops.TableID
	Answers    []BootstrapAnswer
}
