// Package metrics lets a maintainer process and a node process serve Prometheus metrics
// about opfsm's protocol: every value comes from the library itself (an fsm.Observer, the
// drivers' counters, snapshots of their state and what the host passes in), never from
// parsing logs.
//
// The package owns two exporters, each a prometheus.Collector with its own registry:
//
//   - Maintainer (maintainer.go), for a process running a maintainer.Maintainer:
//     operators in flight by kind and state, operator transitions by machine, edge and
//     trigger (Observer, installed in maintainer.Config.Observer), recoveries with their
//     duration, decisions by rule and rejections (Recovered), the driver's status and
//     request counters, tasks by scheduling state, whether it boots and its epoch (Update).
//   - Node (node.go), for a process running a node.Node: dispatchers by state, with closing
//     ones apart, the remove and merge journal lengths and the epoch it obeys (Update),
//     requests it refused by reason (Refused), statuses the transport sent or dropped
//     (StatusesSent, StatusesDropped).
//
// Every metric is named opfsm_..., has help text, and is labelled only by values from
// small fixed sets (operator kinds and states, machines, edges, triggers, scheduling and
// dispatcher states, recovery rules, reasons, outcomes): never by dispatcher, node or
// changefeed id. A host with several changefeeds registers one exporter per changefeed in
// its own registry under a changefeed label (prometheus.WrapRegistererWith).
//
// Handler serves an exporter's registry, which also holds the Go and process collectors,
// at /metrics; Registry lets the host add its own collectors, a Node's among them when one
// process runs both sides. Registries are never the global default one, so any number of
// exporters live in one process.
//
// Threading: the library's drivers are not safe for concurrent use, so the host calls
// Update under the same lock (or on the same goroutine) it drives them with, after each
// Ready/Advance or on a tick. Update copies counts of what it reads into the exporter and
// keeps no reference to the driver: for a maintainer it scans the tasks (no allocation)
// and lists the operators (Controller.Operators, sorted and copied, so with many
// operators in flight a tick is the better moment); for a node it scans the dispatchers
// (no allocation). Scrapes read that copy under the exporter's own lock, which Update holds
// only while it counts. The observer and the methods the host feeds (Recovered, Refused,
// StatusesSent, StatusesDropped) are safe for concurrent use. Nothing here starts a
// goroutine.
package metrics
