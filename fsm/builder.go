package fsm

import (
	"context"
	"errors"
	"fmt"

	"github.com/qmuntal/stateless"
)

// Builder collects a machine's states, triggers and transitions. The first declared state
// is the initial one unless Initial says otherwise. Errors are collected and returned by
// Build, so a definition reads as a flat list of declarations.
type Builder struct {
	d    Definition
	errs []error
}

// NewBuilder starts a definition called name.
func NewBuilder(name string) *Builder {
	b := &Builder{d: Definition{name: name}}
	if name == "" {
		b.fail("empty machine name")
	}
	return b
}

func (b *Builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("fsm %s: %w: %s", b.d.name, ErrDefinition, fmt.Sprintf(format, args...)))
}

func (b *Builder) addName(names *[]string, kind, name string) uint8 {
	if name == "" {
		b.fail("empty %s name", kind)
	}
	for _, n := range *names {
		if n == name {
			b.fail("%s %q declared twice", kind, name)
		}
	}
	if len(*names) >= MaxNames {
		b.fail("more than %d %ss", MaxNames, kind)
		return 0
	}
	*names = append(*names, name)
	return uint8(len(*names) - 1)
}

// State declares a state.
func (b *Builder) State(name string) State {
	s := State(b.addName(&b.d.states, "state", name))
	b.d.terminal = append(b.d.terminal, false)
	return s
}

// Terminal declares a terminal state: Build fails if a transition leaves it.
func (b *Builder) Terminal(name string) State {
	s := b.State(name)
	b.d.terminal[s] = true
	return s
}

// Trigger declares a trigger.
func (b *Builder) Trigger(name string) Trigger {
	return Trigger(b.addName(&b.d.triggers, "trigger", name))
}

// Initial makes s the initial state.
func (b *Builder) Initial(s State) *Builder {
	b.d.initial = s
	return b
}

// Permit lets t move an instance from one state to another.
func (b *Builder) Permit(from State, t Trigger, to State) *Builder {
	if from == to {
		b.fail("Permit %s --%s--> itself: use Ignore", b.d.StateName(from), b.d.TriggerName(t))
	}
	b.d.edges = append(b.d.edges, Edge{From: from, Trigger: t, To: to})
	return b
}

// Ignore accepts t in state s without a state change (TiCDC's "ignored" rows).
func (b *Builder) Ignore(s State, t Trigger) *Builder {
	b.d.ignored = append(b.d.ignored, Edge{From: s, Trigger: t, To: s})
	return b
}

// Build checks the definition and configures the shared stateless machine.
func (b *Builder) Build() (*Definition, error) {
	d := b.d
	if len(d.states) == 0 {
		b.fail("no states")
	}
	if len(d.triggers) == 0 {
		b.fail("no triggers")
	}
	if int(d.initial) >= len(d.states) && len(d.states) > 0 {
		b.fail("initial state %d undeclared", d.initial)
	}
	nt := len(d.triggers)
	d.next = make([]uint16, len(d.states)*nt)
	check := func(e Edge, kind string) bool {
		if int(e.From) >= len(d.states) || int(e.To) >= len(d.states) || int(e.Trigger) >= nt {
			b.fail("%s uses an undeclared state or trigger", kind)
			return false
		}
		if d.terminal[e.From] {
			b.fail("%s from terminal state %s", kind, d.states[e.From])
			return false
		}
		if d.next[int(e.From)*nt+int(e.Trigger)] != 0 {
			b.fail("%s: %s already handles %s", kind, d.states[e.From], d.triggers[e.Trigger])
			return false
		}
		return true
	}
	for _, e := range d.edges {
		if check(e, "Permit") {
			d.next[int(e.From)*nt+int(e.Trigger)] = uint16(e.To) + 1
		}
	}
	for _, e := range d.ignored {
		if check(e, "Ignore") {
			d.next[int(e.From)*nt+int(e.Trigger)] = ignoredMark
		}
	}
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	d.states = append([]string(nil), d.states...)
	d.triggers = append([]string(nil), d.triggers...)
	d.terminal = append([]bool(nil), d.terminal...)
	d.edges = append([]Edge(nil), d.edges...)
	d.ignored = append([]Edge(nil), d.ignored...)

	sm := stateless.NewStateMachineWithExternalStorage(
		func(ctx context.Context) (stateless.State, error) {
			st, err := stateOf(ctx)
			if err != nil {
				return nil, err
			}
			return *st, nil
		},
		func(ctx context.Context, s stateless.State) error {
			st, err := stateOf(ctx)
			if err != nil {
				return err
			}
			*st = s.(State)
			return nil
		},
		stateless.FiringImmediate,
	)
	sm.OnUnhandledTrigger(func(context.Context, stateless.State, stateless.Trigger, []string) error {
		return ErrUnhandledTrigger
	})
	for i := range d.states {
		sm.Configure(State(i)) // every state exists in the machine, even one with no edges
	}
	for _, e := range d.edges {
		sm.Configure(e.From).Permit(e.Trigger, e.To)
	}
	for _, e := range d.ignored {
		sm.Configure(e.From).Ignore(e.Trigger)
	}
	d.sm = sm
	return &d, nil
}

// MustBuild is Build for package-level definitions whose correctness is covered by tests;
// it panics on an invalid definition.
func (b *Builder) MustBuild() *Definition {
	d, err := b.Build()
	if err != nil {
		panic(err)
	}
	return d
}
