package sim

import (
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

// Clone returns an independent copy of the cluster: its managers, network, maintainer
// (the controller and its recovery hook), bootstrap answers and counters. Applying an
// action to the copy leaves c as it was. An exhaustive search clones a state once per
// successor instead of replaying the path to it. The configuration is shared: nothing
// changes it after NewCluster.
func (c *Cluster) Clone() *Cluster {
	d := *c
	d.managers = make(map[ops.NodeID]*Manager, len(c.managers))
	for n, m := range c.managers {
		d.managers[n] = m.Clone()
	}
	d.alive = maps.Clone(c.alive)
	d.net = c.net.Clone()
	if c.ctrl != nil {
		d.ctrl = c.ctrl.Clone()
	}
	d.resp = make(map[ops.NodeID]recovery.Response, len(c.resp))
	for n, r := range c.resp {
		d.resp[n] = cloneResponse(r)
	}
	d.tables = slices.Clone(c.tables)
	d.late = slices.Clone(c.late)
	for i := range d.late {
		d.late[i].IDs = slices.Clone(d.late[i].IDs)
	}
	d.dropped = maps.Clone(c.dropped)
	return &d
}

// Clone returns an independent copy of the manager.
func (m *Manager) Clone() *Manager {
	d := *m
	d.disp = make(map[ops.DispatcherID]*Dispatcher, len(m.disp))
	for id, x := range m.disp {
		cp := *x
		d.disp[id] = &cp
	}
	d.journal = cloneRecords(m.journal)
	d.mergeJ = cloneRecords(m.mergeJ)
	return &d
}

// Clone returns an independent copy of the network.
func (nw *Network) Clone() *Network {
	d := &Network{req: make(map[Stream][]Request, len(nw.req)), stq: make(map[ops.NodeID][]Report, len(nw.stq))}
	for s, rs := range nw.req {
		out := make([]Request, len(rs))
		for i, r := range rs {
			r.Record = cloneRecord(r.Record)
			out[i] = r
		}
		d.req[s] = out
	}
	for n, rs := range nw.stq {
		d.stq[n] = slices.Clone(rs)
	}
	return d
}

func cloneRecords(in map[ops.DispatcherID]ops.Record) map[ops.DispatcherID]ops.Record {
	out := make(map[ops.DispatcherID]ops.Record, len(in))
	for id, r := range in {
		out[id] = cloneRecord(r)
	}
	return out
}

// cloneRecord copies a record's slices, so that no change to one can show in the other.
func cloneRecord(r ops.Record) ops.Record {
	r.SplitSpans = slices.Clone(r.SplitSpans)
	r.SplitTargets = slices.Clone(r.SplitTargets)
	r.Sources = slices.Clone(r.Sources)
	return r
}

func cloneResponse(r recovery.Response) recovery.Response {
	r.Dispatchers = slices.Clone(r.Dispatchers)
	r.Journal = slices.Clone(r.Journal)
	for i := range r.Journal {
		r.Journal[i].Record = cloneRecord(r.Journal[i].Record)
	}
	r.MergeJournal = slices.Clone(r.MergeJournal)
	for i := range r.MergeJournal {
		r.MergeJournal[i] = cloneRecord(r.MergeJournal[i])
	}
	return r
}
