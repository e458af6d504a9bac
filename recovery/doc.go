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
//
// Recover runs the rule groups in order, one file each: fence.go (which responses and
// reports are usable, and their order), merges.go (merge journals), journals.go (remove
// journals, and the coverage repair a restored remove leaves), adopt.go (every report no
// journal decided, overlaps and dropped tables included), holes.go (uncovered ranges).
// contested.go says when keys may be served elsewhere, so an operator must not resume;
// outcomes.go holds what a rule can do with a report (adopt it, cover it then remove it,
// remove it, restore an operator).
package recovery
