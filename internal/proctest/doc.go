// Package proctest finds processes by their command line in /proc, for tests that must show
// that a run stopped the processes it started (and the processes those started) and removed
// its temporary folders. On a system without /proc it finds no process, so callers that
// need one skip there.
package proctest
