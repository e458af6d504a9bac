// Package sim is opfsm's deterministic cluster simulator. It owns the parts of a TiCDC-like
// cluster that the library does not: the network, the faults, crashes and the scheduler's
// choices. Everything else is the library itself: every node runs the library's node core
// (package node, action for action spec/failover/DispatcherManager.tla) and the maintainer
// is the library's driver (package maintainer: operators.Controller while it runs,
// recovery.Recover after a crash). Its actions are one to one with the TLA+ model in
// spec/failover (same names, same parameters; docs/abstract-state.md), so the conformance
// suite can compare the two state by state, and the scenario runner (package scenario)
// plays scripted failovers on it.
//
// The package's files, by concern:
//
//   - cluster.go: Config, Limits, Cluster and NewCluster, its accessors, and Check (the
//     invariants of every state: S1, S5, S11); invariants.go holds the properties (Violation).
//   - action.go: Action, one step of the simulation, labelled as the spec labels it.
//   - enabled.go: Enabled, every action that can happen next, scheduler choices included.
//   - apply.go: Apply, performing one action; messages.go: the glue between the maintainer,
//     the network (network.go: one ordered request stream per maintainer epoch and node, one
//     status stream per node, loss and duplicate delivery) and the node cores; crash.go:
//     maintainer and node crashes.
//   - converge.go: the fair scheduler (Fair, Settle) and the end-state checks (Stable,
//     Converged: L1-L5).
//   - campaign.go and report.go: Walk, a seeded random walk with bounded faults and
//     scheduler operations (move, split, merge, drop table; remove and create table where
//     Config.OpKinds lists them) followed by fair settling; the fault campaigns (Campaign:
//     DefaultCampaign, and DeepCampaign on DeepConfig within DeepLimits), run on every
//     core; the seeded bugs (Bugs), Replay, and Shrink and Mermaid, which turn a failing
//     walk into a short readable counterexample.
//   - recovered.go: a cluster recovered from an arbitrary snapshot (Recovered) and its
//     checks; clone.go, fingerprint.go and observe.go: copies, state keys and read-only
//     views for the exhaustive explorer and the conformance suite.
//
// Everything is a pure, deterministic value: no clocks or randomness (a walk's choices
// come from its seed); maps are only ever walked in sorted order. The one concurrency is
// Campaign.Run's: independent walks on worker goroutines, summed in walk order, so its
// summary is the same for every number of workers.
package sim
