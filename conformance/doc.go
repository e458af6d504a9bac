// Package conformance proves that the Go implementation (the simulator of package sim, with
// the operators and recovery packages as its maintainer) and the TLA+ model in
// spec/failover describe the same system, in both directions (docs/conformance.md).
//
//   - Abstraction maps a simulator state of the spec's world (World, SpecWorld) onto the
//     spec's 17 variables (docs/abstract-state.md), dispatcher ids by span.
//   - Graph comparison: TLCGraph has TLC dump the full state graph of a world
//     ("-dump dot,actionlabels", read by tlc.ScanDot), SimGraph explores the simulator
//     exhaustively on the same bounds, and CompareGraphs requires the same states and the
//     same labelled edges; CheckSim stops at the simulator's first step the spec lacks.
//   - Trace validation: RecordWalk records long random runs with faults as abstract
//     states, and ValidateTraces has TLC follow each one with TraceCheck.tla, reporting the
//     first step that is not a step of the spec.
//   - Explore is the simulator's own exhaustive search with invariants (Stateright's idea).
//
// Both sides' states are compared as TLA+ values in the canonical form of package
// internal/tla, so that two states are equal exactly when they are the same TLA+ state,
// whatever order TLC printed set elements, record fields or function pairs in.
//
// The dump's and the values' parse errors wrap tla.ErrSyntax: *tlc.DotError names the line
// of the dump, *tla.ParseError the byte offset in a value or state text.
package conformance
