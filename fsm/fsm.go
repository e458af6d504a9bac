package fsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qmuntal/stateless"
)

// State is an instance's current state: an index into its Definition's state names. It is
// the only per-instance data the fsm layer needs.
type State uint8

// Trigger is an index into a Definition's trigger names.
type Trigger uint8

// MaxNames is the largest number of states, and of triggers, one Definition may declare.
const MaxNames = 255

// Sentinel errors. Errors returned by this package wrap one of them, so callers can test
// with errors.Is.
var (
	// ErrUnknownState means a State or state name that the Definition does not declare.
	ErrUnknownState = errors.New("unknown state")
	// ErrUnknownTrigger means a Trigger or trigger name that the Definition does not declare.
	ErrUnknownTrigger = errors.New("unknown trigger")
	// ErrUnknownMachine means a machine name that no registered Definition has.
	ErrUnknownMachine = errors.New("unknown machine")
	// ErrUnhandledTrigger means the trigger is neither permitted nor ignored in the state.
	ErrUnhandledTrigger = errors.New("trigger not permitted in state")
	// ErrPanic means stateless panicked while firing; the panic was recovered.
	ErrPanic = errors.New("state machine panicked")
	// ErrDefinition means a Builder was given an inconsistent definition.
	ErrDefinition = errors.New("invalid definition")
)

// FireError describes a trigger that could not be fired. It wraps ErrUnknownState,
// ErrUnknownTrigger, ErrUnhandledTrigger or ErrPanic.
type FireError struct {
	Machine string
	ID      string
	State   string
	Trigger string
	Err     error
}

// Error implements error.
func (e *FireError) Error() string {
	return fmt.Sprintf("fsm %s %q: firing %s in %s: %v", e.Machine, e.ID, e.Trigger, e.State, e.Err)
}

// Unwrap returns the sentinel.
func (e *FireError) Unwrap() error { return e.Err }

// Edge is one permitted transition of a Definition.
type Edge struct {
	From    State
	Trigger Trigger
	To      State
}

// Transition is one fired trigger that changed an instance's state.
type Transition struct {
	// Def is the machine the instance belongs to; it resolves the names below.
	Def *Definition
	// ID identifies the instance (an operator id, for example).
	ID      string
	From    State
	To      State
	Trigger Trigger
}

// FromName returns the source state's name.
func (t Transition) FromName() string { return t.Def.StateName(t.From) }

// ToName returns the destination state's name.
func (t Transition) ToName() string { return t.Def.StateName(t.To) }

// TriggerName returns the trigger's name.
func (t Transition) TriggerName() string { return t.Def.TriggerName(t.Trigger) }

// Record returns the transition's serialisable form.
func (t Transition) Record() TransitionRecord {
	return TransitionRecord{Machine: t.Def.name, ID: t.ID, From: t.FromName(), To: t.ToName(), Trigger: t.TriggerName()}
}

// Observer sees every transition that changes an instance's state. Observe runs
// synchronously inside Fire, so it must be cheap and must not fire on the same instance.
type Observer interface {
	Observe(t Transition)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(t Transition)

// Observe calls f.
func (f ObserverFunc) Observe(t Transition) { f(t) }

// Definition is an immutable machine type, built once and shared by all its instances.
// It is safe for concurrent use as long as each instance's State is not fired concurrently.
type Definition struct {
	name     string
	states   []string
	triggers []string
	initial  State
	terminal []bool
	edges    []Edge
	ignored  []Edge
	// next[s*len(triggers)+t] is the destination plus one, 0 when unhandled, and ignoredMark
	// when ignored; it lets Can and Next answer without firing.
	next []uint16
	sm   *stateless.StateMachine
}

const ignoredMark = 0xFFFF

// Name returns the machine's name.
func (d *Definition) Name() string { return d.name }

// Initial returns the state an instance starts in.
func (d *Definition) Initial() State { return d.initial }

// States returns the state names in declaration order; State(i) is named States()[i].
func (d *Definition) States() []string { return append([]string(nil), d.states...) }

// Triggers returns the trigger names in declaration order.
func (d *Definition) Triggers() []string { return append([]string(nil), d.triggers...) }

// Edges returns the permitted transitions in declaration order.
func (d *Definition) Edges() []Edge { return append([]Edge(nil), d.edges...) }

// IgnoredEdges returns the (state, trigger) pairs that are accepted without a state change;
// To equals From.
func (d *Definition) IgnoredEdges() []Edge { return append([]Edge(nil), d.ignored...) }

// IsTerminal reports whether s is a terminal state (no transition leaves it).
func (d *Definition) IsTerminal(s State) bool { return int(s) < len(d.terminal) && d.terminal[s] }

// Declares reports whether s is one of the definition's states.
func (d *Definition) Declares(s State) bool { return int(s) < len(d.states) }

// StateName returns s's name, or "State(n)" for an undeclared state.
func (d *Definition) StateName(s State) string {
	if int(s) < len(d.states) {
		return d.states[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// TriggerName returns t's name, or "Trigger(n)" for an undeclared trigger.
func (d *Definition) TriggerName(t Trigger) string {
	if int(t) < len(d.triggers) {
		return d.triggers[t]
	}
	return fmt.Sprintf("Trigger(%d)", t)
}

// StateByName returns the state called name.
func (d *Definition) StateByName(name string) (State, error) {
	for i, s := range d.states {
		if s == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("fsm %s: state %q: %w", d.name, name, ErrUnknownState)
}

// TriggerByName returns the trigger called name.
func (d *Definition) TriggerByName(name string) (Trigger, error) {
	for i, t := range d.triggers {
		if t == name {
			return Trigger(i), nil
		}
	}
	return 0, fmt.Errorf("fsm %s: trigger %q: %w", d.name, name, ErrUnknownTrigger)
}

// Next returns where t leads from s: (destination, true) when permitted, (s, true) when
// ignored, and (s, false) when unhandled or either value is undeclared.
func (d *Definition) Next(s State, t Trigger) (State, bool) {
	if int(s) >= len(d.states) || int(t) >= len(d.triggers) {
		return s, false
	}
	switch v := d.next[int(s)*len(d.triggers)+int(t)]; v {
	case 0:
		return s, false
	case ignoredMark:
		return s, true
	default:
		return State(v - 1), true
	}
}

// Can reports whether t is permitted or ignored in s.
func (d *Definition) Can(s State, t Trigger) bool {
	_, ok := d.Next(s, t)
	return ok
}

// Fire fires t on the instance whose state is *st, through the shared stateless machine.
// On success *st holds the new state; if it changed, obs (which may be nil) sees the
// transition, which is also returned. An ignored trigger returns a Transition with From ==
// To and notifies nobody. On error *st is unchanged and the error is a *FireError.
func (d *Definition) Fire(st *State, t Trigger, id string, obs Observer) (tr Transition, err error) {
	from := *st
	if int(from) >= len(d.states) {
		return Transition{}, d.fireErr(id, from, t, ErrUnknownState)
	}
	if int(t) >= len(d.triggers) {
		return Transition{}, d.fireErr(id, from, t, ErrUnknownTrigger)
	}
	defer func() {
		if r := recover(); r != nil {
			*st = from
			tr, err = Transition{}, d.fireErr(id, from, t, fmt.Errorf("%w: %v", ErrPanic, r))
		}
	}()
	if ferr := d.sm.FireCtx((*cell)(st), t); ferr != nil {
		*st = from
		if errors.Is(ferr, ErrUnhandledTrigger) {
			return Transition{}, d.fireErr(id, from, t, ErrUnhandledTrigger)
		}
		return Transition{}, d.fireErr(id, from, t, ferr)
	}
	tr = Transition{Def: d, ID: id, From: from, To: *st, Trigger: t}
	if tr.From != tr.To && obs != nil {
		obs.Observe(tr)
	}
	return tr, nil
}

func (d *Definition) fireErr(id string, s State, t Trigger, err error) error {
	return &FireError{Machine: d.name, ID: id, State: d.StateName(s), Trigger: d.TriggerName(t), Err: err}
}

// cell lets an instance's *State travel through stateless as the context of FireCtx, so the
// shared machine reads and writes the instance's own byte without allocating. Only the
// accessor and mutator below look inside it.
type cell State

func (*cell) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*cell) Done() <-chan struct{}       { return nil }
func (*cell) Err() error                  { return nil }
func (*cell) Value(any) any               { return nil }

var _ context.Context = (*cell)(nil)

func stateOf(ctx context.Context) (*State, error) {
	c, ok := ctx.(*cell)
	if !ok {
		return nil, fmt.Errorf("%w: fired without an instance state", ErrPanic)
	}
	return (*State)(c), nil
}
