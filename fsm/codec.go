package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// RecordVersion is the version written into every record this package encodes. Decoders
// accept exactly this version.
const RecordVersion = 1

// Decoding sentinels; a *DecodeError wraps one of them (or ErrUnknownState,
// ErrUnknownTrigger, ErrUnknownMachine).
var (
	// ErrMalformed means the bytes are not one JSON object of the expected shape.
	ErrMalformed = errors.New("malformed record")
	// ErrUnknownVersion means the record's "v" is not a version this decoder reads.
	ErrUnknownVersion = errors.New("unknown record version")
	// ErrMissingField means a required field is absent (or null).
	ErrMissingField = errors.New("missing field")
	// ErrUnknownField means the record has a field the decoder does not know.
	ErrUnknownField = errors.New("unknown field")
)

// DecodeError says which record and field could not be decoded, and why.
type DecodeError struct {
	// Record names the kind of record, e.g. "state record" or "operator record".
	Record string
	// Field is the offending JSON field, empty when the whole record is at fault.
	Field string
	// Err is the sentinel (errors.Is works through DecodeError) or a detailed cause.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("decoding %s: %v", e.Record, e.Err)
	}
	return fmt.Sprintf("decoding %s: field %q: %v", e.Record, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeStrict decodes one JSON object from data into v, rejecting what a lenient decoder
// would let through: a version other than version in the field "v", fields v does not
// declare, absent or null required fields, and trailing data. record names the kind of
// record in errors. v must be a pointer to a struct with json tags.
func DecodeStrict(data []byte, record string, version int, v any, required ...string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return &DecodeError{Record: record, Err: fmt.Errorf("%w: not a JSON object", ErrMalformed)}
	}
	raw, ok := fields["v"]
	if !ok || isNull(raw) {
		return &DecodeError{Record: record, Field: "v", Err: ErrMissingField}
	}
	var got int
	if err := json.Unmarshal(raw, &got); err != nil {
		return &DecodeError{Record: record, Field: "v", Err: fmt.Errorf("%w: %s", ErrMalformed, raw)}
	}
	if got != version {
		return &DecodeError{Record: record, Field: "v", Err: fmt.Errorf("%w: %d (want %d)", ErrUnknownVersion, got, version)}
	}
	// Sorted so the reported field does not depend on map order.
	req := append([]string(nil), required...)
	sort.Strings(req)
	for _, f := range req {
		if r, ok := fields[f]; !ok || isNull(r) {
			return &DecodeError{Record: record, Field: f, Err: ErrMissingField}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeErr(record, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &DecodeError{Record: record, Err: fmt.Errorf("%w: trailing data", ErrMalformed)}
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func decodeErr(record string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err // a nested record's own typed error says more than "malformed"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &DecodeError{Record: record, Field: te.Field, Err: fmt.Errorf("%w: %s is not %s", ErrMalformed, te.Value, te.Type)}
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); len(msg) > len(unknown) && msg[:len(unknown)] == unknown {
		field := msg[len(unknown):]
		if len(field) >= 2 && field[0] == '"' {
			field = field[1 : len(field)-1]
		}
		return &DecodeError{Record: record, Field: field, Err: ErrUnknownField}
	}
	return &DecodeError{Record: record, Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
}

// StateRecord is the serialisable form of one instance's state: which machine, which state.
type StateRecord struct {
	Machine string `json:"machine"`
	State   string `json:"state"`
}

// Record returns the serialisable form of s.
func (d *Definition) Record(s State) StateRecord {
	return StateRecord{Machine: d.name, State: d.StateName(s)}
}

// Restore maps a record of this machine back to its State.
func (d *Definition) Restore(r StateRecord) (State, error) {
	if r.Machine != d.name {
		return 0, &DecodeError{Record: "state record", Field: "machine",
			Err: fmt.Errorf("%w: %q (want %q)", ErrUnknownMachine, r.Machine, d.name)}
	}
	s, err := d.StateByName(r.State)
	if err != nil {
		return 0, &DecodeError{Record: "state record", Field: "state", Err: err}
	}
	return s, nil
}

type stateRecordJSON struct {
	V       int    `json:"v"`
	Machine string `json:"machine"`
	State   string `json:"state"`
}

// MarshalJSON writes {"v":1,"machine":...,"state":...}.
func (r StateRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(stateRecordJSON{V: RecordVersion, Machine: r.Machine, State: r.State})
}

// UnmarshalJSON decodes strictly (see DecodeStrict); it checks the shape only. Use
// Registry.DecodeState or Definition.Restore to check the names.
func (r *StateRecord) UnmarshalJSON(data []byte) error {
	var j stateRecordJSON
	if err := DecodeStrict(data, "state record", RecordVersion, &j, "machine", "state"); err != nil {
		return err
	}
	*r = StateRecord{Machine: j.Machine, State: j.State}
	return nil
}

// TransitionRecord is the serialisable form of a Transition, used by traces.
type TransitionRecord struct {
	Machine string `json:"machine"`
	ID      string `json:"id"`
	From    string `json:"from"`
	To      string `json:"to"`
	Trigger string `json:"trigger"`
}

type transitionRecordJSON struct {
	V       int    `json:"v"`
	Machine string `json:"machine"`
	ID      string `json:"id"`
	From    string `json:"from"`
	To      string `json:"to"`
	Trigger string `json:"trigger"`
}

// MarshalJSON writes the record with its version.
func (r TransitionRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(transitionRecordJSON{V: RecordVersion, Machine: r.Machine, ID: r.ID, From: r.From, To: r.To, Trigger: r.Trigger})
}

// UnmarshalJSON decodes strictly; Registry.DecodeTransition also checks the names.
func (r *TransitionRecord) UnmarshalJSON(data []byte) error {
	var j transitionRecordJSON
	if err := DecodeStrict(data, "transition record", RecordVersion, &j, "machine", "id", "from", "to", "trigger"); err != nil {
		return err
	}
	*r = TransitionRecord{Machine: j.Machine, ID: j.ID, From: j.From, To: j.To, Trigger: j.Trigger}
	return nil
}

// Registry resolves machine names to definitions, so records can be checked against them.
type Registry struct {
	defs map[string]*Definition
}

// NewRegistry registers defs; two definitions with one name are an error.
func NewRegistry(defs ...*Definition) (*Registry, error) {
	r := &Registry{defs: make(map[string]*Definition, len(defs))}
	for _, d := range defs {
		if _, dup := r.defs[d.name]; dup {
			return nil, fmt.Errorf("fsm: %w: machine %q registered twice", ErrDefinition, d.name)
		}
		r.defs[d.name] = d
	}
	return r, nil
}

// Lookup returns the definition called name.
func (r *Registry) Lookup(name string) (*Definition, error) {
	d, ok := r.defs[name]
	if !ok {
		return nil, fmt.Errorf("fsm: machine %q: %w", name, ErrUnknownMachine)
	}
	return d, nil
}

// DecodeState decodes a state record and resolves it to its definition and State.
func (r *Registry) DecodeState(data []byte) (*Definition, State, error) {
	var rec StateRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, 0, asDecodeError("state record", err)
	}
	d, err := r.Lookup(rec.Machine)
	if err != nil {
		return nil, 0, &DecodeError{Record: "state record", Field: "machine", Err: err}
	}
	s, err := d.Restore(rec)
	return d, s, err
}

// DecodeTransition decodes a transition record and checks that it is an edge of its machine.
func (r *Registry) DecodeTransition(data []byte) (Transition, error) {
	var rec TransitionRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return Transition{}, asDecodeError("transition record", err)
	}
	return r.Resolve(rec)
}

// Resolve checks a transition record against its machine: names declared and the edge
// permitted.
func (r *Registry) Resolve(rec TransitionRecord) (Transition, error) {
	const what = "transition record"
	d, err := r.Lookup(rec.Machine)
	if err != nil {
		return Transition{}, &DecodeError{Record: what, Field: "machine", Err: err}
	}
	from, err := d.StateByName(rec.From)
	if err != nil {
		return Transition{}, &DecodeError{Record: what, Field: "from", Err: err}
	}
	to, err := d.StateByName(rec.To)
	if err != nil {
		return Transition{}, &DecodeError{Record: what, Field: "to", Err: err}
	}
	t, err := d.TriggerByName(rec.Trigger)
	if err != nil {
		return Transition{}, &DecodeError{Record: what, Field: "trigger", Err: err}
	}
	if next, ok := d.Next(from, t); !ok || next != to {
		return Transition{}, &DecodeError{Record: what, Field: "to",
			Err: fmt.Errorf("%w: %s --%s--> %s is not an edge of %s", ErrUnhandledTrigger, rec.From, rec.Trigger, rec.To, d.name)}
	}
	return Transition{Def: d, ID: rec.ID, From: from, To: to, Trigger: t}, nil
}

// asDecodeError keeps a *DecodeError as it is and wraps anything else (a syntax error that
// json.Unmarshal found before calling UnmarshalJSON) as malformed.
func asDecodeError(record string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return de
	}
	return &DecodeError{Record: record, Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
}
