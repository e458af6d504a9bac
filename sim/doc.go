// Package sim is opfsm's deterministic cluster simulator (issue 6). It owns the parts of a
// TiCDC-like cluster that the library does not: the per-node dispatcher managers, the
// network and the faults. Its actions are one to one with the TLA+ model in spec/failover
// (same names, same parameters; docs/abstract-state.md), so the conformance suite can
// compare the two state by state.
//
// So far it has the dispatcher manager (Manager), action for action with
// spec/failover/DispatcherManager.tla: requests behind the epoch fence, the schedule and
// merge journals, dispatcher progress, merge execution with its commit point and abort,
// sweeps, and bootstrap responses in the form package recovery reads; and the network
// (Network), as in Network.tla: one ordered request stream per (maintainer epoch, node),
// one ordered status stream per node, loss and duplicate delivery. The maintainer side of
// the simulator is the library itself (operators.Controller and recovery.Recover).
//
// Everything is a pure, deterministic value: no goroutines, clocks or randomness; maps are
// only ever walked in sorted order.
package sim
