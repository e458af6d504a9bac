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
// one ordered status stream per node, loss and duplicate delivery. Cluster puts them
// together with a maintainer that is the library itself (operators.Controller while it
// runs, recovery.Recover after a crash): Enabled lists the actions that can happen next,
// Apply performs one, Check runs the invariants (S1, S5, S11). Walk is a seeded random walk
// over them with bounded faults (maintainer and node crashes, loss, duplication) and
// scheduler operations (move, split, merge, drop table), after which the faults stop and a fair
// scheduler must bring the cluster to a converged state (Settle, Converged: L1-L5): the
// fault campaign. Shrink and Mermaid turn a failing walk into a short readable
// counterexample.
//
// Still to come (issue 6): splits in campaigns, scenario files and opfsm run.
//
// Everything is a pure, deterministic value: no goroutines, clocks or randomness; maps are
// only ever walked in sorted order.
package sim
