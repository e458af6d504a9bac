package operators

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/opfsm/opfsm/fsm"
)

// RecordVersion is the version of the operator record encoding.
const RecordVersion = 1

// Record is the whole state of one operator: what every request it sends carries, what a
// dispatcher manager journals, and what recovery turns back into the same operator in the
// same state after a maintainer failover.
type Record struct {
	Changefeed ChangefeedID
	// ID is the operator's dispatcher id; for a merge it is the merged dispatcher's id.
	ID   DispatcherID
	Type Type
	// State is a state of Type's machine: one of that kind's state values (MoveAddDest,
	// SplitRunning, ...). The JSON and protobuf forms carry its name (StateName).
	State fsm.State
	Epoch Epoch
	// Span is the span of the operator's task (for a merge, the merged span).
	Span Span
	// Origin is where the dispatcher runs now (remove, move, split, merge, occupy).
	Origin NodeID
	// Dest is where it should run (add, move).
	Dest NodeID
	// SplitSpans are a split's new boundaries; SplitTargets, when as many, their nodes.
	SplitSpans   []Span
	SplitTargets []NodeID
	// Sources are a merge's source dispatchers in key order.
	Sources []DispatcherID
	// Hook is what a remove does when it finishes (see RemoveHook).
	Hook RemoveHook
	// Checkpoint is the highest checkpoint the operator has seen.
	Checkpoint uint64
}

// RemoveHook is what a remove operator does to its task when the dispatcher is gone.
type RemoveHook uint8

// The remove hooks of domain.md 1.2.
const (
	// HookNone: nothing (DDL drops: the task is already deleted).
	HookNone RemoveHook = iota
	// HookMarkAbsent: mark the task Absent if it still exists (restored move/split remove
	// phase), so it is scheduled again with the same id.
	HookMarkAbsent
	// HookDelete: delete the task (standalone remove, bootstrap cleanup of an overlap).
	HookDelete
)

var hookNames = [...]string{"None", "MarkAbsent", "Delete"}

// String returns the hook's name, as the JSON form writes it.
func (h RemoveHook) String() string { return enumName(hookNames[:], h, "RemoveHook") }

// jsonName is the hook's name in a record's JSON form: empty (the field is left out) for
// HookNone.
func (h RemoveHook) jsonName() string {
	if h == HookNone {
		return ""
	}
	return h.String()
}

// parseHook maps a record's "hook" back to its hook ("" is HookNone).
func parseHook(name string) (RemoveHook, error) {
	if name == "" {
		return HookNone, nil
	}
	return parseEnum[RemoveHook](hookNames[:], name, "remove hook", ErrInvalidRecord)
}

// recordJSON is the wire form: the record's fields plus its version and type name.
type recordJSON struct {
	V            int            `json:"v"`
	Type         string         `json:"type"`
	Changefeed   ChangefeedID   `json:"changefeed"`
	ID           DispatcherID   `json:"id"`
	State        string         `json:"state"`
	Epoch        Epoch          `json:"epoch"`
	Span         Span           `json:"span"`
	Origin       NodeID         `json:"origin,omitempty"`
	Dest         NodeID         `json:"dest,omitempty"`
	SplitSpans   []Span         `json:"splitSpans,omitempty"`
	SplitTargets []NodeID       `json:"splitTargets,omitempty"`
	Sources      []DispatcherID `json:"sources,omitempty"`
	Hook         string         `json:"hook,omitempty"`
	Checkpoint   uint64         `json:"checkpoint,omitempty"`
}

// MarshalJSON writes the record with its version and type name.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{V: RecordVersion, Type: r.Type.String(), Changefeed: r.Changefeed, ID: r.ID,
		State: r.StateName(), Epoch: r.Epoch, Span: r.Span, Origin: r.Origin, Dest: r.Dest, SplitSpans: r.SplitSpans,
		SplitTargets: r.SplitTargets, Sources: r.Sources, Hook: r.Hook.jsonName(), Checkpoint: r.Checkpoint})
}

// DecodeRecord decodes one record strictly and checks it with Validate. Errors are
// *fsm.DecodeError values naming the offending field.
func DecodeRecord(data []byte) (Record, error) {
	var j recordJSON
	if err := fsm.DecodeStrict(data, "operator record", RecordVersion, &j, "type", "changefeed", "id", "state", "epoch", "span"); err != nil {
		return Record{}, err
	}
	t, err := ParseType(j.Type)
	if err != nil {
		return Record{}, &fsm.DecodeError{Record: "operator record", Field: "type", Err: err}
	}
	hook, err := parseHook(j.Hook)
	if err != nil {
		return Record{}, &fsm.DecodeError{Record: "operator record", Field: "hook", Err: err}
	}
	st, err := defs[t].StateByName(j.State)
	if err != nil {
		return Record{}, &fsm.DecodeError{Record: "operator record", Field: "state", Err: err}
	}
	r := Record{Changefeed: j.Changefeed, ID: j.ID, Type: t, State: st, Epoch: j.Epoch, Span: j.Span,
		Origin: j.Origin, Dest: j.Dest, SplitSpans: j.SplitSpans, SplitTargets: j.SplitTargets, Sources: j.Sources,
		Hook: hook, Checkpoint: j.Checkpoint}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// UnmarshalJSON is DecodeRecord, so records nested in other JSON are just as strict.
func (r *Record) UnmarshalJSON(data []byte) error {
	rec, err := DecodeRecord(data)
	if err != nil {
		return err
	}
	*r = rec
	return nil
}

// Clone returns a copy of r that shares no slice with it, so that no change to one can show
// in the other.
func (r Record) Clone() Record {
	r.SplitSpans = slices.Clone(r.SplitSpans)
	r.SplitTargets = slices.Clone(r.SplitTargets)
	r.Sources = slices.Clone(r.Sources)
	return r
}

// StateName returns the name of the record's state in its type's machine (the spec's name),
// or "State(n)" when the record's type or state is not declared.
func (r Record) StateName() string {
	def, err := Definition(r.Type)
	if err != nil {
		return fmt.Sprintf("State(%d)", r.State)
	}
	return def.StateName(r.State)
}

// Validate checks that the record's state exists for its type and that its parameters are
// the ones that type needs. Errors are *fsm.DecodeError values.
func (r Record) Validate() error {
	bad := func(field string, err error) error {
		return &fsm.DecodeError{Record: "operator record", Field: field, Err: err}
	}
	def, err := Definition(r.Type)
	if err != nil {
		return bad("type", err)
	}
	if !def.Declares(r.State) {
		return bad("state", fmt.Errorf("fsm %s: state %d: %w", def.Name(), r.State, fsm.ErrUnknownState))
	}
	if r.ID == "" {
		return bad("id", fmt.Errorf("%w: empty id", ErrInvalidRecord))
	}
	if !r.Span.Valid() {
		return bad("span", fmt.Errorf("%w: %s", ErrInvalidSpan, r.Span))
	}
	uses := kinds[r.Type].uses()
	var split, sources, hook error
	if uses&fieldSplit == 0 {
		split = firstErr(forbid(r.Type, "splitSpans", len(r.SplitSpans) == 0), forbid(r.Type, "splitTargets", len(r.SplitTargets) == 0))
	}
	if uses&fieldSources == 0 {
		sources = forbid(r.Type, "sources", len(r.Sources) == 0)
	}
	if uses&fieldHook == 0 {
		hook = forbid(r.Type, "hook", r.Hook == HookNone)
	} else if r.Hook > HookDelete {
		hook = badField("hook", fmt.Errorf("%w: hook %d", ErrInvalidRecord, r.Hook))
	}
	return firstErr(kinds[r.Type].checkRecord(r), split, sources, hook)
}

// badField is Validate's error for field.
func badField(field string, err error) error {
	return &fsm.DecodeError{Record: "operator record", Field: field, Err: err}
}

// need: field must be set (ok) for an operator of type t, which needs what.
func need(t Type, field string, ok bool, what string) error {
	if ok {
		return nil
	}
	return badField(field, fmt.Errorf("%w: %s operator needs %s", ErrInvalidRecord, t, what))
}

// forbid: field must be empty for an operator of type t.
func forbid(t Type, field string, empty bool) error {
	if empty {
		return nil
	}
	return badField(field, fmt.Errorf("%w: a %s operator has no %s", ErrInvalidRecord, t, field))
}

// firstErr returns the first of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
