// Command httpcluster is opfsm linked into a maintainer and three nodes that talk
// protobuf over real HTTP in one process. It merges a table's two spans, kills the
// maintainer while the merge is prepared but not committed, starts a new maintainer with
// the next epoch, and waits until the nodes' own state has converged: the merge resumed
// from the node's merge journal and finished, the table is served once, nothing journaled
// or in flight. It prints what happened and exits 0, or 1 if it did not converge in time.
package main
