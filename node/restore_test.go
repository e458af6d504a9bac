package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestRestore: a node rebuilt from an answer holds exactly what the answer describes and
// obeys its epoch; what no node could hold is refused and leaves the node empty.
func TestRestore(t *testing.T) {
	pre := removing(disp("m", t1All, ops.Preparing, 1))
	pre.Removing = false
	good := protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 4,
		Dispatchers: []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3), pre,
			removing(disp("r", ops.Span{Table: 2}, ops.Working, 7))},
		Removes: []ops.Record{removeRec("r", ops.Span{Table: 2}, 3)},
		Merges:  []ops.Record{mergeRec("m", t1All, 3, "a", "b")}}
	n := newNode(t, 1)
	require.NoError(t, n.Restore(good))
	require.Equal(t, good.Dispatchers, n.Dispatchers())
	require.Equal(t, good.Removes, n.RemoveJournal())
	require.Equal(t, good.Merges, n.MergeJournal())
	require.Equal(t, ops.Epoch(4), n.Owner())
	require.ErrorIs(t, n.Restore(good), node.ErrInvalidDispatcher, "a node that holds something")
	other := good
	other.Changefeed = "other"
	require.ErrorIs(t, newNode(t, 1).Restore(other), node.ErrWrongChangefeed)

	with := func(f func(a *protocol.BootstrapAnswer)) protocol.BootstrapAnswer {
		a := good
		a.Dispatchers = append([]protocol.Dispatcher(nil), good.Dispatchers...)
		a.Removes = append([]ops.Record(nil), good.Removes...)
		a.Merges = append([]ops.Record(nil), good.Merges...)
		f(&a)
		return a
	}
	for name, a := range map[string]protocol.BootstrapAnswer{
		"no id":              with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[0].ID = "" }),
		"empty span":         with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[0].Span = ops.Span{Table: 1, Start: "m", End: "m"} }),
		"terminal state":     with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[3].State = ops.Stopped }),
		"id twice":           with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[1].ID = "a" }),
		"removed state":      with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[3].State = ops.Removed }),
		"no such state":      with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[3].State = ops.Removed + 1 }),
		"overlap":            with(func(a *protocol.BootstrapAnswer) { a.Dispatchers[3].Removing, a.Dispatchers[3].Span = false, t1a }),
		"waits, not merging": with(func(a *protocol.BootstrapAnswer) { a.Merges = nil }),
		"bad merge record":   with(func(a *protocol.BootstrapAnswer) { a.Merges[0].Type = ops.TypeMove }),
		"remove of a dispatcher that is not closing": with(func(a *protocol.BootstrapAnswer) {
			a.Dispatchers[3].Removing = false
		}),
		"remove of a missing dispatcher": with(func(a *protocol.BootstrapAnswer) { a.Removes[0].ID = "x" }),
	} {
		t.Run(name, func(t *testing.T) {
			n := newNode(t, 1)
			require.ErrorIs(t, n.Restore(a), node.ErrInvalidDispatcher)
			d, r, m := n.Len()
			require.Zero(t, d+r+m, "nothing restored")
		})
	}
}

// TestRestoreMergeReady: a merged dispatcher MergeReady before its commit may overlap its
// waiting sources, as a Preparing one may; an answer of an older epoch than the node's
// owner leaves the owner; a node holding only a merge journal is not empty.
func TestRestoreMergeReady(t *testing.T) {
	ready := disp("m", t1All, ops.MergeReady, 1)
	a := protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 2,
		Dispatchers: []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3), ready},
		Merges:      []ops.Record{mergeRec("m", t1All, 2, "a", "b")}}
	n := newNode(t, 3)
	require.NoError(t, n.Restore(a))
	require.Equal(t, a.Dispatchers, n.Dispatchers())
	require.Equal(t, ops.Epoch(3), n.Owner(), "an older answer does not lower the owner")

	journalOnly := newNode(t, 1)
	require.NoError(t, journalOnly.Restore(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 1,
		Merges: []ops.Record{mergeRec("m", t1All, 1, "a", "b")}}))
	require.ErrorIs(t, journalOnly.Restore(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 1}), node.ErrInvalidDispatcher)
}
