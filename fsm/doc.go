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
// What stateless does here, and what it does not. Every Fire goes through the shared
// stateless machine (FireCtx with external state storage): its rules decide whether a
// trigger moves, is ignored or is unhandled, and a panic inside it becomes ErrPanic. The
// instance's state byte travels to stateless's state accessor as the context of FireCtx
// (a context.Context that is only a pointer to the byte), because the accessor receives
// nothing else and a real context.WithValue would allocate on every transition. Can and
// Next answer from a table built with the machine, not from stateless's CanFire and
// PermittedTriggers, which need a context and allocate: the controller asks Next before
// every fire to skip ignored triggers. DOT and Mermaid are rendered here, in declaration
// order with terminal and ignored edges marked and states named as the TLA+ spec names
// them; stateless's own graph (StatelessGraph) names states and triggers by their numbers,
// since an instance's state is a byte. TestStatelessAgrees holds the table, the fired
// machine and stateless's graph to the same answers.
//
// Guards are deliberately not part of a Definition: stateless allocates whenever a guard
// fails, and guards hide which event caused a transition. Callers decide which trigger an
// event means (for example "status Working from the destination node" becomes DestWorking)
// and fire that trigger; the Definition then says whether it is permitted in the state.
package fsm
