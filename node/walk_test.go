package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestWalksInIDOrder: EachDispatcherByID, EachRemove and EachMerge visit what
// Dispatchers, RemoveJournal and MergeJournal list, in their order, allocating nothing.
func TestWalksInIDOrder(t *testing.T) {
	n := preparing(t)
	require.NoError(t, n.Prepared("m"))
	require.NoError(t, n.CommitMerge("m"))
	require.NotEmpty(t, n.MergeJournal())
	requireWalks(t, n)
	n = newNode(t, 1, disp("b", t1b, ops.Working, 1), disp("a", t1a, ops.Working, 1))
	require.NoError(t, n.Step(removeReq("b", t1b, 1)))
	require.NoError(t, n.Step(removeReq("a", t1a, 1)))
	requireWalks(t, n)
}

// requireWalks holds n's ordered walks equal to its lists, and free of allocations.
func requireWalks(t *testing.T, n *node.Node) {
	t.Helper()
	var ds []protocol.Dispatcher
	var rs, ms []ops.Record
	n.EachDispatcherByID(func(d protocol.Dispatcher) { ds = append(ds, d) })
	n.EachRemove(func(r ops.Record) { rs = append(rs, r) })
	n.EachMerge(func(r ops.Record) { ms = append(ms, r) })
	require.Equal(t, n.Dispatchers(), ds)
	require.Equal(t, len(n.RemoveJournal()), len(rs))
	if len(rs) > 0 {
		require.Equal(t, n.RemoveJournal(), rs)
	}
	require.Equal(t, len(n.MergeJournal()), len(ms))
	if len(ms) > 0 {
		require.Equal(t, n.MergeJournal(), ms)
	}
	k := 0
	require.Zero(t, testing.AllocsPerRun(10, func() {
		n.EachDispatcherByID(func(protocol.Dispatcher) { k++ })
		n.EachRemove(func(ops.Record) { k++ })
		n.EachMerge(func(ops.Record) { k++ })
	}))
}
