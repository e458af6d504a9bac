// Package chaos is the real-cluster failover test: it starts an etcd (embedded, or an
// existing one), node processes and two maintainer candidates of the opfsm binary, lets
// the maintainers' workload move, split and merge while it creates and drops tables,
// SIGKILLs the elected maintainer several times (waiting for a merge or a split in flight
// for some kills), kills one node and starts it again, and then waits for the cluster to
// converge.
//
// It judges the cluster from the processes' own state, read over HTTP: throughout the run,
// no keys served by two active dispatchers at once (read in two consecutive rounds, since
// one round reads the nodes one after another) and no span's checkpoint behind the stored
// changefeed checkpoint; at the end, every live table tiled exactly once by Working
// dispatchers, each with a Replicating task on its node, nothing else running, no journal
// left and no operator in flight. Every process it starts is killed before Run returns.
package chaos
