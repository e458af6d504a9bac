// Package node is the dispatcher manager of one changefeed on one node, as a pure,
// deterministic core in the style of etcd raft's RawNode: it owns the protocol's node
// side and nothing else. Inputs are maintainer requests (Step) and what the host's
// dispatchers do (Working, Prepared, PrepareFailed, Closed, Advanced); the node's own checks run on Tick
// (or one at a time, for model checkers). Outputs come out of Ready: the statuses to send
// to the maintainer, the effects the host must apply to its dispatchers (create, close,
// prepare, commit or abort a merge) and bootstrap answers. The host calls Advance once it
// has taken them.
//
// The core owns:
//   - the epoch fence: a Create, Remove or Merge is applied only under the maintainer
//     epoch the node obeys; a Bootstrap of that epoch or a newer one switches the node
//     to it (the node obeys the newer maintainer before it answers);
//   - the remove journal (the record of every Remove whose dispatcher still exists) and
//     the merge journal (every merge accepted and not yet cleaned up), which bootstrap
//     answers carry so a new maintainer resumes every operator in its exact state;
//   - merge execution: a merge starts when every source is Working, the merged dispatcher
//     prepares, then the merge check commits it (sources close, the merged dispatcher
//     starts: the commit point) or aborts it when a member is missing or closing (a
//     merged dispatcher the host could not prepare closes, so its merge aborts); a merge
//     request that cannot start leaves an earlier attempt's journal entry to that check;
//   - sweeps (a closed dispatcher is deleted with its journal entry and reported
//     Stopped), merge journal cleanup, and the heartbeat that re-reports every Working
//     dispatcher so a lost status cannot stall an operator;
//   - its own safety: dispatchers that are not closing never overlap on one node (a
//     merged dispatcher and its own sources aside), so a Create that would break that is
//     refused, and so is a Merge whose sources do not tile its span.
//
// A Create is not journaled: the node registers the dispatcher (Initializing) when it
// admits the Create, so a bootstrap answer reports the dispatcher itself.
//
// Threading: a Node is not safe for concurrent use. The host owns it from one goroutine
// (or behind one mutex): it feeds events, and in the same goroutine takes Ready, applies
// it, and calls Advance before the next Ready. Nothing in the core blocks, sleeps or
// starts goroutines; time enters only through Tick. The one exception is for model
// checkers: a node nobody changes may be read and cloned from several goroutines at once.
// A clone shares the node's storage until either of them writes a part of it (the
// dispatchers, their index, a journal, the pending Ready), which that one copies first.
//
// The behaviour is action for action spec/failover/DispatcherManager.tla
// (docs/abstract-state.md): the simulator drives Nodes, and the conformance suite
// compares their state graph with TLC's.
package node
