// Package transport carries the protocol between maintainer processes and node
// processes over gRPC: the DispatcherManager service of cluster.proto, its frames, and
// both ends. A node process runs a Server, which hands each maintainer's requests to its
// Handler and sends status reports and bootstrap answers to the maintainer of their
// epoch; a maintainer process runs a Client, which keeps one session open to every node
// it is told of (SetNode), sends its requests there and hands what the nodes send to its
// ClientHandler.
//
// The package owns the wire below package protocol's messages: the Session stream (one
// per maintainer epoch and node; a Hello first, then requests; statuses and answers
// back), the frames around the messages (a seq and one body, encoded by hand on
// protowire; the embedded message bytes are package protocol's MarshalBinary, so nothing
// is converted through generated types), the gRPC codec and service description, send
// queues, reconnection and the counts in Stats. It owns no protocol decision: fencing by
// epoch, resends and what a message means stay with packages node and maintainer.
//
// What it guarantees, which is what docs/protocol.md asks of a transport:
//   - Order: within a session, messages arrive in the order they were queued (a gRPC
//     stream is FIFO and each end writes its queue in order); nothing is reordered within
//     a session. A Client reopens a node's session only after the previous one ended, and
//     a Server hands over a newer session's requests only after the older session of the
//     same epoch handed over its last one, so a maintainer's requests to a node, and a
//     node's messages to one maintainer, stay in order across reconnects too.
//   - Loss: possible. A message is dropped when its queue is full, when its session ends
//     while it waits in a Server's queue, when it is being written as the stream breaks, or
//     when it was written but the peer had not read it yet; every drop this end sees is
//     counted (Stats.Dropped). The protocol tolerates it: requests are resent on Tick,
//     statuses by heartbeats, bootstrap requests until answered.
//   - Duplicates: never made by the transport.
//   - Seqs: a Client numbers its requests to each node from 1 (Send returns the number),
//     a Server numbers every message it sends from 1; a gap is a lost message, and a log
//     can order a node's messages by their seq.
//   - Refusals: a node refuses a session of another changefeed (gRPC FAILED_PRECONDITION,
//     naming both) and one that does not start with a Hello; after the Hello it drops (and
//     counts in Stats.Rejected) a frame that does not decode and a request whose
//     changefeed or epoch is not the session's. Decoders answer bad bytes with a
//     *fsm.DecodeError naming the frame and field, never a panic.
//
// Each end is safe for concurrent use. Handler calls of one session (ClientHandler calls
// of one node) come in order from one goroutine; the host serialises calls of different
// sessions with its own lock. Connections are plain TCP without TLS.
package transport
