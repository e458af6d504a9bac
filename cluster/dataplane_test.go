package cluster

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

const cf = ops.ChangefeedID("cf")

// The spans of the data plane tests: table 1 whole and in halves.
var (
	t1All = ops.Span{Table: 1}
	t1a   = ops.Span{Table: 1, End: "k"}
	t1b   = ops.Span{Table: 1, Start: "k"}
)

// plane is a node core driven by a DataPlane as a node host drives it: requests stepped
// in, Ready's effects applied, then on every tick the data plane first and the core's own
// checks after.
type plane struct {
	t *testing.T
	n *node.Node
	d *DataPlane
}

// newPlane is node n1 of epoch 1 with ds running, in the core and in the data plane.
func newPlane(t *testing.T, ds ...protocol.Dispatcher) *plane {
	t.Helper()
	n, err := node.New(node.Config{Node: "n1", Changefeed: cf, Owner: 1})
	require.NoError(t, err)
	require.NoError(t, n.Preload(ds...))
	d := NewDataPlane()
	for _, x := range ds {
		d.Run(x.ID, x.Checkpoint)
	}
	return &plane{t: t, n: n, d: d}
}

// halves is a plane running a (t1a at 5) and b (t1b at 3).
func halves(t *testing.T) *plane {
	return newPlane(t, protocol.Dispatcher{ID: "a", Span: t1a, State: ops.Working, Checkpoint: 5},
		protocol.Dispatcher{ID: "b", Span: t1b, State: ops.Working, Checkpoint: 3})
}

func (p *plane) step(req protocol.Request) {
	p.t.Helper()
	require.NoError(p.t, p.n.Step(req))
	p.flush()
}

func (p *plane) flush() {
	if p.n.HasReady() {
		p.d.Apply(p.n.Ready().Effects)
		p.n.Advance()
	}
}

func (p *plane) tick() {
	p.d.Tick(p.n)
	p.n.Tick()
	p.flush()
}

// core is the core's dispatchers as "State checkpoint", " closing" appended when closing.
func (p *plane) core() map[ops.DispatcherID]string {
	out := map[ops.DispatcherID]string{}
	for _, d := range p.n.Dispatchers() {
		s := fmt.Sprintf("%s %d", d.State, d.Checkpoint)
		if d.Removing {
			s += " closing"
		}
		out[d.ID] = s
	}
	return out
}

// requires checks the core's dispatchers and the data plane's checkpoints.
func (p *plane) requires(core map[ops.DispatcherID]string, data map[ops.DispatcherID]uint64) {
	p.t.Helper()
	require.Equal(p.t, core, p.core(), "the core's dispatchers")
	require.Equal(p.t, data, p.d.Checkpoints(), "the data plane's checkpoints")
}

func record(id ops.DispatcherID, typ ops.Type, s ops.Span) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: typ, Epoch: 1, Span: s}
}

func createReq(id ops.DispatcherID, s ops.Span, ckpt uint64) protocol.Request {
	r := record(id, ops.TypeAdd, s)
	r.State, r.Dest, r.Checkpoint = ops.AddRunning, "n1", ckpt
	return protocol.Request{Changefeed: cf, Epoch: 1, Kind: protocol.Create, Record: r}
}

func removeReq(id ops.DispatcherID, s ops.Span) protocol.Request {
	r := record(id, ops.TypeRemove, s)
	r.State, r.Origin, r.Hook = ops.RemoveRunning, "n1", ops.HookDelete
	return protocol.Request{Changefeed: cf, Epoch: 1, Kind: protocol.Remove, Record: r}
}

func mergeReq(id ops.DispatcherID, s ops.Span, srcs ...ops.DispatcherID) protocol.Request {
	r := record(id, ops.TypeMerge, s)
	r.State, r.Origin, r.Sources = ops.MergeRunning, "n1", srcs
	return protocol.Request{Changefeed: cf, Epoch: 1, Kind: protocol.Merge, Record: r}
}

// TestDataPlaneCreate proves that a created dispatcher is Working after one tick, from the
// checkpoint it was created at, and then advances by one every tick, in the core too; a
// preloaded dispatcher advances from its own checkpoint.
func TestDataPlaneCreate(t *testing.T) {
	p := newPlane(t, protocol.Dispatcher{ID: "p", Span: ops.Span{Table: 2}, State: ops.Working, Checkpoint: 7})
	p.step(createReq("d1", t1All, 42))
	p.requires(map[ops.DispatcherID]string{"d1": "Initializing 42", "p": "Working 7"}, map[ops.DispatcherID]uint64{"d1": 42, "p": 7})
	p.tick()
	p.requires(map[ops.DispatcherID]string{"d1": "Working 42", "p": "Working 8"}, map[ops.DispatcherID]uint64{"d1": 42, "p": 8})
	for k := uint64(1); k <= 3; k++ {
		p.tick()
		p.requires(map[ops.DispatcherID]string{"d1": fmt.Sprintf("Working %d", 42+k), "p": fmt.Sprintf("Working %d", 8+k)},
			map[ops.DispatcherID]uint64{"d1": 42 + k, "p": 8 + k})
	}
}

// TestDataPlaneClose proves that a closed dispatcher stops advancing and is gone, from the
// data plane and from the core, one tick after the close.
func TestDataPlaneClose(t *testing.T) {
	p := halves(t)
	p.step(removeReq("a", t1a))
	p.requires(map[ops.DispatcherID]string{"a": "Working 5 closing", "b": "Working 3"}, map[ops.DispatcherID]uint64{"a": 5, "b": 3})
	p.tick()
	p.requires(map[ops.DispatcherID]string{"b": "Working 4"}, map[ops.DispatcherID]uint64{"b": 4})
	require.Empty(t, p.n.RemoveJournal())
}

// TestDataPlanePrepareTicks proves that a merged dispatcher is prepared exactly
// PrepareTicks ticks after the merge started (one for 0), while its sources wait without
// advancing.
func TestDataPlanePrepareTicks(t *testing.T) {
	for _, tc := range []struct{ prepareTicks, want int }{{0, 1}, {1, 1}, {2, 2}, {5, 5}} {
		t.Run(fmt.Sprint(tc.prepareTicks), func(t *testing.T) {
			p := halves(t)
			p.d.PrepareTicks = tc.prepareTicks
			p.step(mergeReq("m", t1All, "a", "b"))
			waiting := map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 3}
			p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5", "b": "WaitingMerge 3", "m": "Preparing 3"}, waiting)
			for k := 1; k < tc.want; k++ {
				p.tick()
				p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5", "b": "WaitingMerge 3", "m": "Preparing 3"}, waiting)
			}
			p.d.Tick(p.n)
			p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5", "b": "WaitingMerge 3", "m": "MergeReady 3"}, waiting)
		})
	}
}

// TestDataPlaneStall proves that Stall holds a merge before its commit point for as long as
// it is set, and that the merged dispatcher is prepared at the first tick after.
func TestDataPlaneStall(t *testing.T) {
	p := halves(t)
	p.d.Stall = true
	p.step(mergeReq("m", t1All, "a", "b"))
	for range 10 {
		p.tick()
		p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5", "b": "WaitingMerge 3", "m": "Preparing 3"},
			map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 3})
	}
	p.d.Stall = false
	p.d.Tick(p.n)
	require.Equal(t, "MergeReady 3", p.core()["m"])
}

// TestDataPlaneMergeCommit proves a merge through its commit: the sources close and are
// gone, the merged dispatcher starts at the lowest source checkpoint and advances, and the
// merge journal is cleaned up.
func TestDataPlaneMergeCommit(t *testing.T) {
	p := halves(t)
	p.step(mergeReq("m", t1All, "a", "b"))
	p.tick() // prepared, and committed by the core's check
	p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5 closing", "b": "WaitingMerge 3 closing", "m": "Initializing 3"},
		map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 3})
	require.Len(t, p.n.MergeJournal(), 1)
	p.tick()
	p.requires(map[ops.DispatcherID]string{"m": "Working 3"}, map[ops.DispatcherID]uint64{"m": 3})
	require.Empty(t, p.n.MergeJournal())
	p.tick()
	p.requires(map[ops.DispatcherID]string{"m": "Working 4"}, map[ops.DispatcherID]uint64{"m": 4})
}

// TestDataPlaneCommitCheckpoint proves that a commit starts the merged dispatcher at the
// commit's checkpoint when that is above where it prepared.
func TestDataPlaneCommitCheckpoint(t *testing.T) {
	p := halves(t)
	p.d.Stall = true
	p.step(mergeReq("m", t1All, "a", "b"))
	p.d.Apply([]node.Effect{{Kind: node.EffectCommitMerge, ID: "m", Span: t1All, Checkpoint: 9, Sources: []ops.DispatcherID{"a", "b"}}})
	require.Equal(t, map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 9}, p.d.Checkpoints())
	p.d.Tick(p.n) // the sources close, m starts
	require.Equal(t, map[ops.DispatcherID]uint64{"m": 9}, p.d.Checkpoints())
	p.d.Tick(p.n)
	require.Equal(t, map[ops.DispatcherID]uint64{"m": 10}, p.d.Checkpoints())
}

// TestDataPlaneMergeAbort proves that an aborted merge resumes its sources, which advance
// again, and closes the merged dispatcher.
func TestDataPlaneMergeAbort(t *testing.T) {
	p := halves(t)
	p.d.Stall = true
	p.step(mergeReq("m", t1All, "a", "b"))
	p.tick()
	p.step(removeReq("m", t1All)) // the merged dispatcher closes: the merge must abort
	p.requires(map[ops.DispatcherID]string{"a": "WaitingMerge 5", "b": "WaitingMerge 3", "m": "Preparing 3 closing"},
		map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 3})
	p.tick()
	p.requires(map[ops.DispatcherID]string{"a": "Working 5", "b": "Working 3"}, map[ops.DispatcherID]uint64{"a": 5, "b": 3})
	require.Empty(t, p.n.MergeJournal())
	p.tick()
	p.requires(map[ops.DispatcherID]string{"a": "Working 6", "b": "Working 4"}, map[ops.DispatcherID]uint64{"a": 6, "b": 4})
}

// TestDataPlaneAbortKeepsClosingMerged proves the abort of a merge whose merged dispatcher
// is still there: the sources resume at once and the merged dispatcher closes a tick later.
func TestDataPlaneAbortKeepsClosingMerged(t *testing.T) {
	p := halves(t)
	p.d.Stall = true
	p.step(mergeReq("m", t1All, "a", "b"))
	require.NoError(t, p.n.Step(removeReq("m", t1All)))
	p.n.Tick() // the merge check aborts before the data plane closed m
	p.flush()
	p.requires(map[ops.DispatcherID]string{"a": "Working 5", "b": "Working 3", "m": "Preparing 3 closing"},
		map[ops.DispatcherID]uint64{"a": 5, "b": 3, "m": 3})
	p.tick()
	p.requires(map[ops.DispatcherID]string{"a": "Working 6", "b": "Working 4"}, map[ops.DispatcherID]uint64{"a": 6, "b": 4})
}

// TestDataPlaneStaleClose proves that a dispatcher created again under the id of one being
// closed survives the old one's close: it starts and advances from its own checkpoint.
func TestDataPlaneStaleClose(t *testing.T) {
	p := newPlane(t, protocol.Dispatcher{ID: "d1", Span: t1All, State: ops.Working, Checkpoint: 5})
	p.step(removeReq("d1", t1All))
	p.d.Apply([]node.Effect{{Kind: node.EffectCreate, ID: "d1", Span: t1All, Checkpoint: 20}})
	require.Equal(t, map[ops.DispatcherID]uint64{"d1": 20}, p.d.Checkpoints())
	p.tick() // the old d1's close is due, and the new d1's start
	require.Equal(t, map[ops.DispatcherID]uint64{"d1": 20}, p.d.Checkpoints())
	require.Empty(t, p.core(), "the core was told the old d1 closed")
	p.tick()
	require.Equal(t, map[ops.DispatcherID]uint64{"d1": 21}, p.d.Checkpoints())
}
