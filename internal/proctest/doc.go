// Package proctest finds processes by their command line in /proc, for tests that must show
// that the processes a run started (and the processes those started) are gone after it. On
// a system without /proc it finds none, so its callers skip there.
package proctest
