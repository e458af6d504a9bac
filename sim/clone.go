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
func (c *Cluster) Clone() *Cluster { return c.CloneInto(nil) }

// CloneInto is Clone, written into spare, a cluster that nothing uses any more (a
// discarded clone, whose state is lost), instead of a new allocation; with a nil spare
// (or c itself) it allocates. A search that clones a state for every successor and drops
// most of them at once (those it has seen) reuses one spare for all of those. It returns
// the copy.
func (c *Cluster) CloneInto(spare *Cluster) *Cluster {
	// The node cores, the maintainer and the network's lists of streams are shared, and
	// marked so in both; alive, dropped, tables and late are shared too: every write after
	// NewCluster (nodeCrash, DropTable, CreateTable) replaces them with a changed copy.
	c.sharedNodes, c.sharedM = ^uint64(0), true
	c.net.share()
	n := len(c.nodes)
	var d *Cluster
	switch {
	case spare != nil && spare != c && cap(spare.nodes) >= n:
		d = spare
		slots := d.nodes[:n]
		*d = *c
		d.nodes = slots
	case n <= inlineNodes:
		cc := &clusterCopy{c: *c}
		d = &cc.c
		d.nodes = cc.slots[:n:n]
	default:
		d = new(Cluster)
		*d = *c
		d.nodes = make([]nodeSlot, n)
	}
	copy(d.nodes, c.nodes) // the slots' cached encodings are shared too
	for i := range d.nodes {
		if sharedBit(i) == 0 { // past the 64th: no bit tracks it, so it is copied now
			d.nodes[i].core = d.nodes[i].core.Clone()
		}
	}
	if c.removed != nil {
		d.removed = make(map[ops.TableID][]ops.Span, len(c.removed))
		for t, ss := range c.removed {
			d.removed[t] = slices.Clone(ss)
		}
	}
	return d
}

// inlineNodes is the number of nodes whose slots a clone holds in its own allocation.
const inlineNodes = 4

// clusterCopy is a clone and, in a world of at most inlineNodes nodes, its node slots:
// a model checker clones a state for every successor, in one allocation each.
type clusterCopy struct {
	c     Cluster
	slots [inlineNodes]nodeSlot
}

// Clone returns an independent copy of the network. The copy has its own lists of
// streams and shares the queues' arrays, which are never written in place (Network).
// Deliver hands out a copy of the record, so a delivered request shares nothing either.
// Clone changes nothing of nw.
func (nw *Network) Clone() *Network {
	return &Network{req: slices.Clone(nw.req), stq: slices.Clone(nw.stq)}
}
