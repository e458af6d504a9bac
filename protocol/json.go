package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// The JSON forms. Every top-level message carries "v"; enums are written by name; records
// are operators.Record's own strict JSON. Decoders refuse unknown and missing fields, a
// version other than Version and trailing data, and then run the message's Validate.

type requestJSON struct {
	V          int              `json:"v"`
	Changefeed ops.ChangefeedID `json:"changefeed"`
	Epoch      ops.Epoch        `json:"epoch"`
	Kind       string           `json:"kind"`
	Record     *ops.Record      `json:"record,omitempty"`
}

// MarshalJSON writes the request with its version and kind name.
func (r Request) MarshalJSON() ([]byte, error) {
	j := requestJSON{V: Version, Changefeed: r.Changefeed, Epoch: r.Epoch, Kind: r.Kind.String()}
	if r.Kind != Bootstrap {
		j.Record = &r.Record
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a request strictly and validates it.
func (r *Request) UnmarshalJSON(data []byte) error {
	var j requestJSON
	if err := decodeStrict(data, "request", &j, "changefeed", "epoch", "kind"); err != nil {
		return err
	}
	k, err := ParseKind(j.Kind)
	if err != nil {
		return &fsm.DecodeError{Record: "request", Field: "kind", Err: err}
	}
	req := Request{Changefeed: j.Changefeed, Epoch: j.Epoch, Kind: k}
	if j.Record != nil {
		req.Record = *j.Record
	} else if k != Bootstrap {
		return &fsm.DecodeError{Record: "request", Field: "record", Err: fsm.ErrMissingField}
	}
	if err := req.Validate(); err != nil {
		return err
	}
	*r = req
	return nil
}

type statusJSON struct {
	ID         ops.DispatcherID `json:"id"`
	State      string           `json:"state"`
	Checkpoint uint64           `json:"checkpoint,omitempty"`
}

type statusReportJSON struct {
	V          int              `json:"v"`
	Changefeed ops.ChangefeedID `json:"changefeed"`
	Node       ops.NodeID       `json:"node"`
	Epoch      ops.Epoch        `json:"epoch"`
	Statuses   []statusJSON     `json:"statuses"`
}

// MarshalJSON writes the report with its version and the states by name.
func (s StatusReport) MarshalJSON() ([]byte, error) {
	j := statusReportJSON{V: Version, Changefeed: s.Changefeed, Node: s.Node, Epoch: s.Epoch, Statuses: make([]statusJSON, len(s.Statuses))}
	for i, st := range s.Statuses {
		j.Statuses[i] = statusJSON{ID: st.ID, State: st.State.String(), Checkpoint: st.Checkpoint}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a report strictly and validates it.
func (s *StatusReport) UnmarshalJSON(data []byte) error {
	var j statusReportJSON
	if err := decodeStrict(data, "status report", &j, "changefeed", "node", "epoch", "statuses"); err != nil {
		return err
	}
	rep := StatusReport{Changefeed: j.Changefeed, Node: j.Node, Epoch: j.Epoch}
	if len(j.Statuses) > 0 {
		rep.Statuses = make([]ops.Status, len(j.Statuses))
	}
	for i, st := range j.Statuses {
		state, err := ops.ParseComponentState(st.State)
		if err != nil {
			return &fsm.DecodeError{Record: "status report", Field: "state", Err: err}
		}
		rep.Statuses[i] = ops.Status{ID: st.ID, State: state, Checkpoint: st.Checkpoint}
	}
	if err := rep.Validate(); err != nil {
		return err
	}
	*s = rep
	return nil
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

type answerJSON struct {
	V           int              `json:"v"`
	Node        ops.NodeID       `json:"node"`
	Changefeed  ops.ChangefeedID `json:"changefeed"`
	Epoch       ops.Epoch        `json:"epoch"`
	Dispatchers []Dispatcher     `json:"dispatchers"`
	Removes     []ops.Record     `json:"removes"`
	Merges      []ops.Record     `json:"merges"`
}

// MarshalJSON writes the answer with its version.
func (a BootstrapAnswer) MarshalJSON() ([]byte, error) {
	return json.Marshal(answerJSON{V: Version, Node: a.Node, Changefeed: a.Changefeed, Epoch: a.Epoch,
		Dispatchers: orEmpty(a.Dispatchers), Removes: orEmpty(a.Removes), Merges: orEmpty(a.Merges)})
}

// UnmarshalJSON decodes an answer strictly and validates it.
func (a *BootstrapAnswer) UnmarshalJSON(data []byte) error {
	var j answerJSON
	if err := decodeStrict(data, "bootstrap answer", &j, "node", "changefeed", "epoch", "dispatchers", "removes", "merges"); err != nil {
		return err
	}
	ans := BootstrapAnswer{Node: j.Node, Changefeed: j.Changefeed, Epoch: j.Epoch, Dispatchers: j.Dispatchers, Removes: j.Removes, Merges: j.Merges}
	if err := ans.Validate(); err != nil {
		return err
	}
	*a = ans
	return nil
}

type snapshotJSON struct {
	V          int               `json:"v"`
	Changefeed ops.ChangefeedID  `json:"changefeed"`
	Epoch      ops.Epoch         `json:"epoch"`
	Checkpoint uint64            `json:"checkpoint"`
	Tables     []ops.TableID     `json:"tables"`
	Answers    []BootstrapAnswer `json:"answers"`
}

// MarshalJSON writes the snapshot with its version.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	return json.Marshal(snapshotJSON{V: Version, Changefeed: s.Changefeed, Epoch: s.Epoch, Checkpoint: s.Checkpoint,
		Tables: orEmpty(s.Tables), Answers: orEmpty(s.Answers)})
}

// UnmarshalJSON decodes a snapshot strictly: unknown version or fields, missing fields and
// malformed answers or records are *fsm.DecodeError values; nothing is half-decoded.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	var j snapshotJSON
	if err := decodeStrict(data, "snapshot", &j, "changefeed", "epoch", "tables", "answers"); err != nil {
		return err
	}
	*s = Snapshot{Changefeed: j.Changefeed, Epoch: j.Epoch, Checkpoint: j.Checkpoint, Tables: j.Tables, Answers: j.Answers}
	return nil
}

// decodeStrict is fsm.DecodeStrict with every error typed as a *fsm.DecodeError.
func decodeStrict(data []byte, record string, v any, required ...string) error {
	err := fsm.DecodeStrict(data, record, Version, v, required...)
	var de *fsm.DecodeError
	if err != nil && !errors.As(err, &de) {
		return &fsm.DecodeError{Record: record, Err: err}
	}
	return err
}

// orEmpty writes a nil list as [] (a required field), not null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
