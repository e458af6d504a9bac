// Package conformance checks the Go simulator (package sim) against the TLA+ model in
// spec/failover: the simulator is put in a state TLC reached, takes the same action, and
// its successor must be one TLC found (docs/abstract-state.md is the shared schema).
//
// This part holds the ground both sides stand on: a value encoding for TLA+ values as TLC
// 2.18 prints them (Value, ParseValue, ParseState) and a parser for the state graph TLC
// writes with "-dump dot,actionlabels FILE" (ParseDot).
//
// Values are kept in a canonical form, so that two values are Equal exactly when they are
// the same TLA+ value, whatever order TLC printed set elements, record fields or function
// pairs in, and whether TLC printed a function with domain 1..n as a tuple or as
// (1 :> a @@ 2 :> b). String prints that canonical form in TLA+ syntax that ParseValue
// reads back, so equal values also print alike and String can serve as a map key.
//
// All parse errors wrap ErrSyntax: *ParseError names the byte offset in a value or state
// text, *DotError the line of a dot file.
package conformance
