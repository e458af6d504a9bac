package recovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// SnapshotVersion is the version of the snapshot encoding.
const SnapshotVersion = 1

// Dispatcher is one dispatcher as its dispatcher manager reports it at bootstrap. Its JSON
// form names the state (see MarshalJSON).
type Dispatcher struct {
	ID         ops.DispatcherID
	Span       ops.Span
	State      ops.ComponentState
	Removing   bool
	Checkpoint uint64
}

type dispatcherJSON struct {
	ID         ops.DispatcherID `json:"id"`
	Span       *ops.Span        `json:"span"`
	State      string           `json:"state"`
	Removing   bool             `json:"removing,omitempty"`
	Checkpoint uint64           `json:"checkpoint,omitempty"`
}

// MarshalJSON writes the state by name.
func (d Dispatcher) MarshalJSON() ([]byte, error) {
	sp := d.Span
	return json.Marshal(dispatcherJSON{ID: d.ID, Span: &sp, State: d.State.String(), Removing: d.Removing, Checkpoint: d.Checkpoint})
}

// UnmarshalJSON reads a dispatcher strictly: id, span and state are required.
func (d *Dispatcher) UnmarshalJSON(data []byte) error {
	var j dispatcherJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return &fsm.DecodeError{Record: "dispatcher", Err: fmt.Errorf("%w: %v", fsm.ErrMalformed, err)}
	}
	switch {
	case j.ID == "":
		return &fsm.DecodeError{Record: "dispatcher", Field: "id", Err: fsm.ErrMissingField}
	case j.Span == nil:
		return &fsm.DecodeError{Record: "dispatcher", Field: "span", Err: fsm.ErrMissingField}
	case j.State == "":
		return &fsm.DecodeError{Record: "dispatcher", Field: "state", Err: fsm.ErrMissingField}
	}
	st, err := ops.ParseComponentState(j.State)
	if err != nil {
		return &fsm.DecodeError{Record: "dispatcher", Field: "state", Err: err}
	}
	*d = Dispatcher{ID: j.ID, Span: *j.Span, State: st, Removing: j.Removing, Checkpoint: j.Checkpoint}
	return nil
}

// JournalEntry is one in-flight request a dispatcher manager journaled: what it was asked
// to do and the record of the operator that asked.
type JournalEntry struct {
	Action ops.MessageKind
	Record ops.Record
}

type journalJSON struct {
	Action string          `json:"action"`
	Record json.RawMessage `json:"record"`
}

// MarshalJSON writes the action by name.
func (e JournalEntry) MarshalJSON() ([]byte, error) {
	rec, err := json.Marshal(e.Record)
	if err != nil {
		return nil, err
	}
	return json.Marshal(journalJSON{Action: e.Action.String(), Record: rec})
}

// UnmarshalJSON reads an entry strictly; its record is decoded by operators.DecodeRecord.
func (e *JournalEntry) UnmarshalJSON(data []byte) error {
	var j journalJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return &fsm.DecodeError{Record: "journal entry", Err: fmt.Errorf("%w: %v", fsm.ErrMalformed, err)}
	}
	if j.Action == "" {
		return &fsm.DecodeError{Record: "journal entry", Field: "action", Err: fsm.ErrMissingField}
	}
	action, err := ops.ParseMessageKind(j.Action)
	if err != nil {
		return &fsm.DecodeError{Record: "journal entry", Field: "action", Err: fmt.Errorf("%w: %v", fsm.ErrMalformed, err)}
	}
	if len(j.Record) == 0 {
		return &fsm.DecodeError{Record: "journal entry", Field: "record", Err: fsm.ErrMissingField}
	}
	rec, err := ops.DecodeRecord(j.Record)
	if err != nil {
		return err
	}
	*e = JournalEntry{Action: action, Record: rec}
	return nil
}

// Response is one dispatcher manager's bootstrap response.
type Response struct {
	Node       ops.NodeID       `json:"node"`
	Changefeed ops.ChangefeedID `json:"changefeed"`
	// Epoch is the dispatcher manager's owner epoch after it accepted the bootstrap.
	Epoch       ops.Epoch      `json:"epoch"`
	Dispatchers []Dispatcher   `json:"dispatchers"`
	Journal     []JournalEntry `json:"journal"`
	// MergeJournal holds the records of the merge requests the manager has in flight.
	MergeJournal []ops.Record `json:"mergeJournal"`
}

// Snapshot is everything a new maintainer knows when it recovers: its changefeed and epoch,
// the tables alive at its start point, and the responses of every live node.
type Snapshot struct {
	Changefeed ops.ChangefeedID `json:"changefeed"`
	Epoch      ops.Epoch        `json:"epoch"`
	Tables     []ops.TableID    `json:"tables"`
	Responses  []Response       `json:"responses"`
}

// DecodeSnapshot decodes a snapshot strictly: unknown version or fields, missing fields and
// malformed records are *fsm.DecodeError values; nothing is half-decoded.
func DecodeSnapshot(data []byte) (Snapshot, error) {
	var j struct {
		V int `json:"v"`
		Snapshot
	}
	if err := fsm.DecodeStrict(data, "snapshot", SnapshotVersion, &j, "changefeed", "epoch", "tables", "responses"); err != nil {
		var de *fsm.DecodeError
		if errors.As(err, &de) {
			return Snapshot{}, err
		}
		return Snapshot{}, &fsm.DecodeError{Record: "snapshot", Err: err}
	}
	return j.Snapshot, nil
}

// EncodeSnapshot writes a snapshot with its version.
func EncodeSnapshot(s Snapshot) ([]byte, error) {
	return json.Marshal(struct {
		V int `json:"v"`
		Snapshot
	}{V: SnapshotVersion, Snapshot: s})
}
