package node_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func TestPreloadAccepts(t *testing.T) {
	ds := []protocol.Dispatcher{
		disp("a", t1a1, ops.Initializing, 1),
		disp("b", t1a2, ops.Working, 2),
		disp("c", t1b, ops.WaitingMerge, 3),
		disp("d", t2a, ops.Preparing, 4),
		disp("e", t2b, ops.MergeReady, 5),
		removing(disp("f", t1All, ops.Working, 6)),                // closing: may overlap
		disp("g", ops.Span{Table: 3, Start: "z"}, ops.Working, 7), // open end
		disp("h", ops.Span{Table: 3, Start: "a", End: "b"}, ops.Working, 8),
	}
	n := newNode(t, 1, ds...)
	require.Equal(t, []protocol.Dispatcher{ds[0], ds[1], ds[2], ds[3], ds[4], ds[5], ds[6], ds[7]}, n.Dispatchers())
	d, r, m := n.Len()
	require.Equal(t, [3]int{8, 0, 0}, [3]int{d, r, m})
	require.False(t, n.HasReady())
	// Preloaded dispatchers take part in the overlap checks.
	requireRefused(t, n.Step(createReq("x", ops.Span{Table: 3, Start: "a", End: "c"}, 1, 0)), protocol.Create, "x", 1, node.ErrOverlap)
	requireRefused(t, n.Step(createReq("x", ops.Span{Table: 3, Start: "zz"}, 1, 0)), protocol.Create, "x", 1, node.ErrOverlap)
	require.NoError(t, n.Step(createReq("x", ops.Span{Table: 3, Start: "b", End: "z"}, 1, 0)))
}

func TestPreloadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		first   []protocol.Dispatcher
		d       protocol.Dispatcher
		overlap bool
		msg     string
	}{
		{name: "empty id", d: disp("", t1a, ops.Working, 1),
			msg: `node n1: preload "" 1[,k) Working: invalid dispatcher`},
		{name: "start after end", d: disp("a", ops.Span{Table: 1, Start: "p", End: "f"}, ops.Working, 1),
			msg: `node n1: preload "a" 1[p,f) Working: invalid dispatcher`},
		{name: "start equals end", d: disp("a", ops.Span{Table: 1, Start: "f", End: "f"}, ops.Working, 1),
			msg: `node n1: preload "a" 1[f,f) Working: invalid dispatcher`},
		{name: "Stopped", d: disp("a", t1a, ops.Stopped, 1),
			msg: `node n1: preload "a" 1[,k) Stopped: invalid dispatcher`},
		{name: "Removed", d: disp("a", t1a, ops.Removed, 1),
			msg: `node n1: preload "a" 1[,k) Removed: invalid dispatcher`},
		{name: "unknown state", d: disp("a", t1a, ops.Removed+1, 1),
			msg: `node n1: preload "a" 1[,k) ComponentState(7): invalid dispatcher`},
		{name: "closing Stopped", d: removing(disp("a", t1a, ops.Stopped, 1)),
			msg: `node n1: preload "a" 1[,k) Stopped: invalid dispatcher`},
		{name: "duplicate id", first: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1)}, d: disp("a", t2a, ops.Working, 1),
			msg: `node n1: preload "a": invalid dispatcher: the node has it`},
		{name: "duplicate of a closing id", first: []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 1))},
			d: removing(disp("a", t1a, ops.Working, 1)), msg: `node n1: preload "a": invalid dispatcher: the node has it`},
		{name: "overlap with a Working dispatcher", first: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1)},
			d: disp("x", t1mid, ops.Initializing, 1), overlap: true,
			msg: `node n1: preload "x" 1[f,p): invalid dispatcher: span overlaps a dispatcher that is not closing`},
		{name: "overlap with a Preparing dispatcher", first: []protocol.Dispatcher{disp("m", t1All, ops.Preparing, 1)},
			d: disp("a", t1a, ops.WaitingMerge, 1), overlap: true,
			msg: `node n1: preload "a" 1[,k): invalid dispatcher: span overlaps a dispatcher that is not closing`},
		{name: "overlap with the open end", first: []protocol.Dispatcher{disp("b", t1b, ops.Working, 1)},
			d: disp("x", ops.Span{Table: 1, Start: "z", End: "zz"}, ops.Working, 1), overlap: true,
			msg: `node n1: preload "x" 1[z,zz): invalid dispatcher: span overlaps a dispatcher that is not closing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.first...)
			before := snap(n)
			err := n.Preload(tc.d)
			require.ErrorIs(t, err, node.ErrInvalidDispatcher)
			require.Equal(t, tc.overlap, errors.Is(err, node.ErrOverlap))
			require.EqualError(t, err, tc.msg)
			require.Equal(t, before, snap(n))
		})
	}
}

func TestPreloadStopsAtTheFirstRefusal(t *testing.T) {
	n := newNode(t, 1)
	err := n.Preload(disp("a", t1a, ops.Working, 1), disp("b", t1mid, ops.Working, 1), disp("c", t2All, ops.Working, 1))
	require.ErrorIs(t, err, node.ErrInvalidDispatcher)
	require.ErrorIs(t, err, node.ErrOverlap)
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 1)}, n.Dispatchers())
	// The refused one left no trace in the overlap checks.
	require.NoError(t, n.Step(createReq("x", t1b, 1, 0)))
	require.NoError(t, n.Step(createReq("c", t2All, 1, 0)))
}

func TestPreloadNothing(t *testing.T) {
	n := newNode(t, 1)
	require.NoError(t, n.Preload())
	require.Empty(t, n.Dispatchers())
}
