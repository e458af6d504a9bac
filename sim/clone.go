package sim

import (
	"maps"
	"slices"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Clone returns an independent copy of the cluster: its node cores, network, maintainer
// and counters. Applying an action to the copy leaves c as it was. An exhaustive search
// clones a state once per successor instead of replaying the path to it. The
// configuration is shared: nothing changes it after NewCluster.
func (c *Cluster) Clone() *Cluster {
	d := *c
	d.nodes = make(map[ops.NodeID]*node.Node, len(c.nodes))
	for n, nd := range c.nodes {
		d.nodes[n] = nd.Clone()
	}
	d.alive = maps.Clone(c.alive)
	d.net = c.net.Clone()
	d.m = c.m.Clone()
	d.tables = slices.Clone(c.tables)
	d.late = slices.Clone(c.late)
	for i := range d.late {
		d.late[i].IDs = slices.Clone(d.late[i].IDs)
	}
	d.dropped = maps.Clone(c.dropped)
	if c.removed != nil {
		d.removed = make(map[ops.TableID][]ops.Span, len(c.removed))
		for t, ss := range c.removed {
			d.removed[t] = slices.Clone(ss)
		}
	}
	return &d
}

// Clone returns an independent copy of the network.
func (nw *Network) Clone() *Network {
	d := &Network{req: make(map[Stream][]protocol.Request, len(nw.req)), stq: make(map[ops.NodeID][]Report, len(nw.stq))}
	for s, rs := range nw.req {
		out := make([]protocol.Request, len(rs))
		for i, r := range rs {
			r.Record = r.Record.Clone()
			out[i] = r
		}
		d.req[s] = out
	}
	for n, rs := range nw.stq {
		d.stq[n] = slices.Clone(rs)
	}
	return d
}
