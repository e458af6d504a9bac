// Package recovery turns a new maintainer's bootstrap snapshot back into its task registry
// and its in-flight operators, each in the exact state it had, with the first requests to
// send and a log of every decision.
//
// Recover is a pure, deterministic function: no I/O, clocks or randomness, and the order of
// responses, dispatchers and journal entries does not change the result (property-tested).
// Because opfsm's requests carry whole operator records and dispatcher managers journal
// them, a move resumes towards its own destination and a split with its own boundaries
// (TiCDC's gap G4), and merges are resolved by the commit point (domain.md 2.2, 3.4).
//
// Responses of another changefeed or epoch, conflicting duplicates, malformed spans and
// unusable journal entries are rejected one by one with typed errors (Rejection); the rest
// of the snapshot is still used. The rules are listed in docs/recovery.md.
package recovery
