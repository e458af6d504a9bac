package transport

import "sync/atomic"

// Stats counts what one end of the transport did since its Server or Client was made.
// Every count only grows.
type Stats struct {
	// Sessions is how many sessions opened: on a Server, the Hellos it accepted; on a
	// Client, the streams it opened and sent its Hello on, reopened ones included.
	Sessions uint64
	// Sent is how many messages (requests, status reports, bootstrap answers) were written
	// to a stream; Hellos are not counted.
	Sent uint64
	// Received is how many messages arrived, decoded and were handed to the handler.
	Received uint64
	// Dropped is how many messages this end lost: refused by a full queue, not encodable
	// (or larger than MaxFrameSize), still queued when their session ended (Server) or their
	// node was removed or the Client closed, or being written when the stream broke.
	// A message that found no session (SendReport and SendAnswer return 0) or no node
	// (Send returns false for an unknown node) is not counted: the caller knows.
	Dropped uint64
	// Rejected is how many received frames were refused: a frame that did not decode, a
	// Hello the Server refused, a second Hello, a request whose changefeed or epoch is not
	// its session's.
	Rejected uint64
}

// counters are the live Stats.
type counters struct {
	sessions, sent, received, dropped, rejected atomic.Uint64
}

func (c *counters) stats() Stats {
	return Stats{
		Sessions: c.sessions.Load(),
		Sent:     c.sent.Load(),
		Received: c.received.Load(),
		Dropped:  c.dropped.Load(),
		Rejected: c.rejected.Load(),
	}
}

// Option tunes a Server or a Client.
type Option func(*options)

type options struct {
	queue int
}

func newOptions(queue int, opts []Option) options {
	o := options{queue: queue}
	for _, opt := range opts {
		opt(&o)
	}
	if o.queue < 1 {
		o.queue = 1
	}
	return o
}

// WithQueueSize sets how many frames each send queue holds: a Server's per session (256
// by default), a Client's per node (8192 by default). A message that finds its queue full
// is dropped and counted.
func WithQueueSize(n int) Option {
	return func(o *options) { o.queue = n }
}
