package sim

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// Clone returns an independent copy of the cluster: its node cores, network, maintainer
// and counters. Applying an action to the copy leaves c as it was, and the other way
// round. An exhaustive search clones a state once per successor instead of replaying the
// path to it. The node cores and the maintainer are copied on write (cow.go), so Clone
// changes c's bookkeeping: like Apply, it must not run concurrently with other uses of c.
// The configuration is shared: nothing changes it after NewCluster.
func (c *Cluster) Clone() *Cluster {
	nodes := c.share()
	d := *c
	d.nodes = nodes
	// alive, dropped, tables and late are shared: every write after NewCluster (nodeCrash,
	// DropTable, CreateTable) replaces them with a changed copy. The network is copied on
	// write, like the node cores.
	c.sharedNet, d.sharedNet = true, true
	if c.removed != nil {
		d.removed = make(map[ops.TableID][]ops.Span, len(c.removed))
		for t, ss := range c.removed {
			d.removed[t] = slices.Clone(ss)
		}
	}
	return &d
}

// Clone returns an independent copy of the network. The copy has its own lists of
// streams and shares the queues' arrays, which are never written in place (Network).
// Deliver hands out a copy of the record, so a delivered request shares nothing either.
func (nw *Network) Clone() *Network {
	return &Network{req: slices.Clone(nw.req), stq: slices.Clone(nw.stq)}
}
