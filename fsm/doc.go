// Package fsm is a thin typed layer over github.com/qmuntal/stateless for state machines
// that exist in hundreds of thousands of instances at once.
//
// A Definition is built once per machine type (for example once per operator type) and
// shared by every instance; each instance keeps only its current State, a single byte held
// in the caller's own value (stateless's external state storage). Firing a trigger on a
// shared definition takes a few hundred nanoseconds and allocates nothing.
//
// The package owns:
//   - Builder and Definition: named states and triggers, permitted and ignored transitions,
//     terminal states, checked once at build time.
//   - Fire: a transition on an instance's State, with typed errors for an unknown state or
//     trigger, an unhandled trigger, and a recovered stateless panic.
//   - Observer: a hook that sees every transition (machine, instance id, from, to, trigger),
//     with ready observers for zap logging, trace recording and transition counting.
//   - StateRecord and TransitionRecord: versioned, strict JSON encodings whose decoders
//     reject unknown versions, machines, states, triggers and fields, and missing fields,
//     with typed errors; DecodeStrict offers the same strictness to other packages' records.
//   - DOT and Mermaid renderings of a definition, in a stable order.
//
// Guards are deliberately not part of a Definition: stateless allocates whenever a guard
// fails, and guards hide which event caused a transition. Callers decide which trigger an
// event means (for example "status Working from the destination node" becomes DestWorking)
// and fire that trigger; the Definition then says whether it is permitted in the state.
package fsm
