// Package cluster runs opfsm as real processes: a node process (one dispatcher manager,
// package node, hosting toy dispatchers whose checkpoints advance) and a maintainer
// candidate process (package maintainer), talking gRPC (package cluster/transport) with
// the protocol's protobuf messages, elected and registered through etcd (package
// cluster/coord), and serving Prometheus metrics (package cluster/metrics) and their own
// state as JSON.
//
// It owns the hosts: the glue that feeds a core its inputs under one lock, ships what its
// Ready holds, and advances it (RunNode, RunMaintainer); the toy data plane (DataPlane);
// the random workload a maintainer runs to keep operators in flight (Workload); and the
// protocol event log every process writes (Events), JSON lines naming the spec's actions
// with the epochs and per-stream sequence numbers that order them across processes.
//
// How the pieces meet:
//   - a node registers in etcd under its name and an incarnation (a restarted node is a
//     new node with no dispatchers), serves sessions, and obeys the epoch of the newest
//     bootstrap, so requests of a deposed maintainer are fenced;
//   - a candidate campaigns; elected, its epoch is the leader key's create revision (it
//     only grows), it reads the live nodes, tables and changefeed checkpoint at the
//     revision it won at, bootstraps every node and recovers, then follows node joins and
//     leaves and table DDL from etcd with watches that start at that revision;
//   - the changefeed checkpoint (the lowest task checkpoint) is stored only by the
//     current leader and never goes backwards; a new table or a hole recovery starts anew
//     starts no lower than it.
//
// Package cluster/chaos starts such processes, kills them, and judges the cluster from
// the nodes' own state.
package cluster
