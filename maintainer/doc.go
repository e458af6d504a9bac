// Package maintainer is the maintainer's side of the protocol as a pure, deterministic
// driver around operators.Controller and recovery, in the style of etcd raft's RawNode:
// inputs go in (bootstrap answers, status reports, nodes joining and leaving, table DDL,
// scheduling decisions, ticks) and Ready hands back exactly the requests to send now;
// the host sends them and calls Advance.
//
// A Maintainer starts by bootstrapping (New): it asks every live node for a bootstrap
// answer, waits for every node that is still alive (a node removed while it waits is no
// longer waited for), and then recovers (Recover, which Tick also runs) every in-flight
// operator in its exact state with package recovery. DDL that arrives while it boots is
// replayed right after recovery; statuses that arrive then are applied after it too.
//
// Running, it fences statuses by epoch (a report sent to another maintainer is dropped
// and counted), feeds the rest to the controller, and sends a request when an operator
// starts or its request changes (a move's Remove to the origin, then its Create to the
// destination) — never the whole pending list again. On Tick it resends the request of
// every operator that has waited ResendTicks ticks without moving, re-asks nodes that have
// not answered a bootstrap, and places Absent tasks with the Placement hook. Scheduling
// calls (Add, Move, Split, Merge, Remove) refuse a destination that is not a live node
// with a typed error.
//
// Threading: a Maintainer is not safe for concurrent use; the host drives it from one
// goroutine (or behind one mutex) and applies each Ready before the next. It never blocks,
// sleeps, reads a clock or starts a goroutine; time enters only through Tick. A maintainer
// nobody changes may be read and cloned from several goroutines at once (a model checker's
// workers do); a clone shares its storage until either side writes a part of it, which
// that side copies first.
//
// Its behaviour is action for action spec/failover/Maintainer.tla and Recovery.tla: the
// simulator drives Maintainers and the conformance suite compares the state graphs.
package maintainer
