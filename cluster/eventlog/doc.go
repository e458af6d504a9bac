// Package eventlog reads the protocol event logs that opfsm's node and maintainer
// processes write (package cluster: one JSON line per event, naming the spec action, the
// epoch and the sequence number of the stream the event travels on) and merges the logs
// of one run into one order consistent with every process's own order and with every
// message's send before its receive. No clock is trusted: the order comes from the
// per-stream sequence numbers alone.
//
// It refuses, with a *LineError naming the file and line, what cannot be a faithful log
// of one run: a truncated or malformed line, an action it does not know, a log of another
// changefeed, sequence numbers that go backwards on a stream, a receive no process logged
// sending (or sending something else), and orders that contradict each other.
package eventlog
