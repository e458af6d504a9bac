// Package coord is the etcd coordination of a multi-process opfsm cluster: which
// maintainer candidate leads a changefeed, which node processes are alive, which tables
// the changefeed has, and its checkpoint. It owns the changefeed's keys in etcd and
// nothing of the protocol itself; hosts feed what it reports to package maintainer and
// package node.
//
// Everything of changefeed cf lives under /opfsm/<cf>/ (cf path-escaped):
//
//	leader/<lease hex>   the election (go.etcd.io/etcd/client/v3/concurrency), leased
//	nodes/<name>@<hex>   a registered node's address, leased
//	tables/<table id>    a live table's start checkpoint, decimal
//	checkpoint           the changefeed checkpoint, decimal
//
// Election: Campaign blocks until the candidate leads. Its Leadership carries an Epoch
// (the leader key's create revision, so it strictly grows from one leader to the next)
// and the State (nodes, tables, checkpoint) read at one Revision while the leader key was
// still held; a host watches nodes and tables after that Revision. Done closes when the
// leadership is lost. AdvanceCheckpoint is fenced by the leader key: a deposed leader's
// write is refused with ErrNotLeader, and the checkpoint never goes backwards.
//
// Registry: Register enters a node process under a lease. Its ops.NodeID is the name
// plus the lease id, so a restarted node is a new node: the maintainer sees the old one
// leave (when its lease expires or it closes) and the new one join.
//
// Liveness is lease based: a process killed with SIGKILL loses its leadership or
// registration once its lease expires, up to 0.5 s after the TTL. etcd raises a TTL
// below its minimum (ceil(1.5 × election timeout): 2 s with etcd's defaults); the
// embedded etcd of StartEmbedded runs raft at EmbeddedTickMs/EmbeddedElectionMs so that
// its minimum is EmbeddedMinTTL (1 s) and a 2 s TTL is honoured as asked.
//
// Data read from etcd is decoded strictly: a malformed key or value under the prefix is
// an error (a *DataError naming the key, matching ErrMalformed), never a panic. Watches
// end with an event whose Err is set (compaction, a closed client, malformed data); the
// host then reads the state again.
//
// StartEmbedded runs a single-member etcd inside the process on free loopback ports,
// for tests and for a cluster on one machine; Dial connects a client to any etcd.
package coord
