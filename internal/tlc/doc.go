// Package tlc runs the TLA+ model checker TLC (TLA+ tools 1.7.3, TLC 2.18) through the
// project's scripts/tlc.sh and parses what it prints: Parse reads its output into a Result
// (states generated, distinct states, depth, the violated invariant or property, deadlock,
// parse errors and the counterexample's length), and ParseDot and ScanDot read the state
// graph it dumps with "-dump dot,actionlabels", each state's label parsed by package
// internal/tla.
//
// The jar itself is fetched by scripts/tlc.sh from Maven Central and checked against a
// committed SHA-256; this package only locates the script (the repository's, or outside it
// the copy built into the program, see Script) and runs it, so tests, the CLI and the
// conformance suite all use the same checker. The script runs in a process group of its
// own (on unix) that Run kills whole when its context ends, and Run removes the run's
// temporary folders before it returns. RunDistributed runs the same model with TLC's own
// distributed mode (a TLCServer and TLCWorkers over RMI) through the repository's
// scripts/tlc-distributed.sh; its output goes through the same Parse.
package tlc
