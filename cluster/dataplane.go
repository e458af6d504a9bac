package cluster

import (
	"maps"
	"slices"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
)

// DataPlane is a toy data plane for a node host: dispatchers that take one tick to start,
// prepare or close, and whose checkpoints advance by one every tick while they run. It
// tells the node core what its dispatchers did, as a real host's dispatcher callbacks
// would. It is not safe for concurrent use; the host calls it under the lock that guards
// the core.
type DataPlane struct {
	disp    map[ops.DispatcherID]*toyDispatcher
	pending []func(n *node.Node) // what happens at the next tick
	// Stall, when set, keeps merged dispatchers from preparing: a merge stays pre-commit.
	Stall bool
	// PrepareTicks is how many ticks a merged dispatcher takes to prepare (0: one), which
	// is how long a merge stays before its commit point.
	PrepareTicks int
}

type toyDispatcher struct {
	checkpoint uint64
	running    bool
}

// NewDataPlane returns a data plane with no dispatchers.
func NewDataPlane() *DataPlane { return &DataPlane{disp: map[ops.DispatcherID]*toyDispatcher{}} }

// Run registers a dispatcher that already runs at checkpoint (one a host preloads).
func (d *DataPlane) Run(id ops.DispatcherID, checkpoint uint64) {
	d.disp[id] = &toyDispatcher{checkpoint: checkpoint, running: true}
}

// Checkpoints returns every dispatcher's checkpoint.
func (d *DataPlane) Checkpoints() map[ops.DispatcherID]uint64 {
	out := make(map[ops.DispatcherID]uint64, len(d.disp))
	for id, x := range d.disp {
		out[id] = x.checkpoint
	}
	return out
}

// Apply carries out the effects of one Ready.
func (d *DataPlane) Apply(effects []node.Effect) {
	for _, e := range effects {
		id, ckpt := e.ID, e.Checkpoint
		switch e.Kind {
		case node.EffectCreate:
			d.disp[id] = &toyDispatcher{checkpoint: ckpt}
			d.later(func(n *node.Node) { d.start(n, id) })
		case node.EffectClose:
			d.close(id)
		case node.EffectPrepareMerge:
			for _, s := range e.Sources {
				if x := d.disp[s]; x != nil {
					x.running = false // sources wait for the merged dispatcher
				}
			}
			d.disp[id] = &toyDispatcher{checkpoint: ckpt}
			d.later(func(n *node.Node) { d.prepare(n, id, d.PrepareTicks) })
		case node.EffectCommitMerge:
			for _, s := range slices.Clone(e.Sources) {
				d.close(s)
			}
			if x := d.disp[id]; x != nil {
				x.checkpoint = max(x.checkpoint, ckpt)
			}
			d.later(func(n *node.Node) { d.start(n, id) })
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

func (d *DataPlane) start(n *node.Node, id ops.DispatcherID) {
	if x := d.disp[id]; x != nil {
		x.running = true
		_ = n.Working(id) // refused when the node closed it meanwhile
	}
}

func (d *DataPlane) prepare(n *node.Node, id ops.DispatcherID, wait int) {
	if d.Stall || wait > 1 {
		d.later(func(n *node.Node) { d.prepare(n, id, wait-1) })
		return
	}
	_ = n.Prepared(id)
}

func (d *DataPlane) close(id ops.DispatcherID) {
	x := d.disp[id]
	if x == nil {
		return
	}
	x.running = false
	d.later(func(n *node.Node) {
		if d.disp[id] == x {
			delete(d.disp, id)
		}
		_ = n.Closed(id, x.checkpoint)
	})
}

func (d *DataPlane) later(fn func(n *node.Node)) { d.pending = append(d.pending, fn) }

// Tick advances running dispatchers (in id order) and runs what was due.
func (d *DataPlane) Tick(n *node.Node) {
	for _, id := range slices.Sorted(maps.Keys(d.disp)) {
		if x := d.disp[id]; x.running {
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
