package main

import (
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
)

// The toy data plane: dispatchers that take a tick to start, prepare or close, and whose
// checkpoints advance by one every tick while they run. It tells the node core what its
// dispatchers did, as a real host's dispatcher callbacks would.

type toyDispatcher struct {
	checkpoint uint64
	running    bool
}

type dataPlane struct {
	disp    map[ops.DispatcherID]*toyDispatcher
	pending []func(n *node.Node) // what happens at the next tick
	// stall, when set, keeps merged dispatchers from preparing (a merge stays pre-commit).
	stall bool
}

func newDataPlane() *dataPlane { return &dataPlane{disp: map[ops.DispatcherID]*toyDispatcher{}} }

func (d *dataPlane) apply(effects []node.Effect) {
	for _, e := range effects {
		id, ckpt := e.ID, e.Checkpoint
		switch e.Kind {
		case node.EffectCreate:
			d.disp[id] = &toyDispatcher{checkpoint: ckpt}
			d.later(func(n *node.Node) { d.disp[id].running = true; _ = n.Working(id) })
		case node.EffectClose:
			d.close(id)
		case node.EffectPrepareMerge:
			for _, s := range e.Sources {
				d.disp[s].running = false // sources wait for the merged dispatcher
			}
			d.disp[id] = &toyDispatcher{checkpoint: ckpt}
			d.later(func(n *node.Node) { d.prepare(n, id) })
		case node.EffectCommitMerge:
			for _, s := range e.Sources {
				d.close(s)
			}
			d.disp[id].checkpoint = ckpt
			d.later(func(n *node.Node) { d.disp[id].running = true; _ = n.Working(id) })
		case node.EffectAbortMerge:
			for _, s := range e.Sources {
				if x := d.disp[s]; x != nil {
					x.running = true
				}
			}
			d.close(id)
		}
	}
}

func (d *dataPlane) prepare(n *node.Node, id ops.DispatcherID) {
	if d.stall {
		d.later(func(n *node.Node) { d.prepare(n, id) })
		return
	}
	_ = n.Prepared(id)
}

func (d *dataPlane) close(id ops.DispatcherID) {
	x := d.disp[id]
	if x == nil {
		return
	}
	x.running = false
	d.later(func(n *node.Node) { delete(d.disp, id); _ = n.Closed(id, x.checkpoint) })
}

func (d *dataPlane) later(fn func(n *node.Node)) { d.pending = append(d.pending, fn) }

// tick advances running dispatchers and runs what was due.
func (d *dataPlane) tick(n *node.Node) {
	for id, x := range d.disp {
		if x.running {
			x.checkpoint++
			_ = n.Advanced(id, x.checkpoint)
		}
	}
	due := d.pending
	d.pending = nil
	for _, fn := range due {
		fn(n)
	}
}
