package sim

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
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
	// alive and dropped are shared: the only writes after NewCluster (nodeCrash, dropTable)
	// replace the map with a changed copy.
	d.net = c.net.Clone()
	d.fpNodes = slices.Clone(c.fpNodes)
	d.tables = slices.Clone(c.tables)
	d.late = slices.Clone(c.late)
	for i := range d.late {
		d.late[i].IDs = slices.Clone(d.late[i].IDs)
	}
	if c.removed != nil {
		d.removed = make(map[ops.TableID][]ops.Span, len(c.removed))
		for t, ss := range c.removed {
			d.removed[t] = slices.Clone(ss)
		}
	}
	return &d
}

// Clone returns an independent copy of the network. The copy shares the queues' arrays:
// a queue is never written in place (Send and Report append, Deliver and NextStatus
// reslice, Lose copies), and the copy's queues are clipped to their length, so an append
// to either side reallocates or writes past the end of every view the other holds.
// Deliver hands out a copy of the record, so a delivered request shares nothing either.
func (nw *Network) Clone() *Network {
	d := &Network{req: make(map[Stream][]protocol.Request, len(nw.req)), stq: make(map[ops.NodeID][]Report, len(nw.stq)),
		streams: nw.streams, listed: nw.listed}
	for s, rs := range nw.req {
		if len(rs) > 0 {
			d.req[s] = slices.Clip(rs)
		}
	}
	for n, rs := range nw.stq {
		if len(rs) > 0 {
			d.stq[n] = slices.Clip(rs)
		}
	}
	return d
}
