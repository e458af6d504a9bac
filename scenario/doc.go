// Package scenario owns failover scenario files: their format (docs/scenarios.md), a strict
// decoder whose errors name the line and field at fault, and a runner that plays a scenario
// on the simulator (package sim) step by step, checks the invariants after every step,
// settles the cluster once the script ends, and compares the end state with the file's
// expectations.
//
// A scenario is a small script: the cluster (nodes, tables, the initial placement of spans),
// then steps in order: operations the maintainer starts (add, move, split, merge, remove,
// drop, create), blocks that stand for TiCDC's failpoints (a node cannot close dispatchers,
// creation paused, a node unreachable, statuses held back) and their releases, kills of the
// maintainer or a node (at once, after a named event or at a step), fair running, explicit
// actions by their spec label, monitors that must hold from then on, and the expected end
// state per table.
//
// Decode turns a file into a Scenario whose Steps are typed statements, one type per
// statement (steps.go), each carrying only its own fields; the runner (run.go) switches on
// those types. Decoding is split by concern: the line loop, the cluster statements and
// expect lines (decode.go), the script's statements (script.go), the checks that need the
// whole file (checks.go), and the errors, which name the file, line and field at fault
// (errors.go).
package scenario
