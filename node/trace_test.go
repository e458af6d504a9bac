package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// tracedNode is newNode with Config.Trace recording into the returned slice, and a check
// that the node's state has changed by the time Trace sees a step.
func tracedNode(t *testing.T, owner ops.Epoch, ds ...protocol.Dispatcher) (*node.Node, *[]string) {
	t.Helper()
	var got []string
	var n *node.Node
	n, err := node.New(node.Config{Node: self, Changefeed: cf, Owner: owner, Trace: func(a node.Action) {
		if d, ok := n.Dispatcher(a.ID); ok && a.Kind == node.ActWorking {
			require.Equal(t, ops.Working, d.State, "Trace runs after the step")
		}
		got = append(got, a.String())
	}})
	require.NoError(t, err)
	require.NoError(t, n.Preload(ds...))
	return n, &got
}

func TestTraceSeesEveryLocalStepOnce(t *testing.T) {
	n, got := tracedNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 7))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.Empty(t, *got, "requests are the host's to trace")
	require.NoError(t, n.Prepared("m"))
	n.Tick() // heartbeats none (both sources wait), commits the merge
	require.NoError(t, n.Closed("a", 5))
	require.NoError(t, n.Apply(node.Action{Kind: node.ActSweep, ID: "b"}))
	require.NoError(t, n.Working("m"))
	n.Tick() // heartbeat m, then the journal cleanup
	require.Equal(t, []string{"DMPrepared(m)", "DMCommit(m)", "DMSweep(a)", "DMSweep(b)", "DMWorking(m)",
		"DMHeartbeat(m)", "DMJournalCleanup(m)"}, *got)

	*got = nil
	require.Error(t, n.Working("m"))
	require.Error(t, n.Closed("a", 1))
	require.Error(t, n.Apply(node.Action{Kind: node.ActHeartbeat, ID: "m"}))
	require.Empty(t, *got, "a refused step is not traced")
}

func TestTraceSeesAbortAndSkipsClosingHeartbeats(t *testing.T) {
	n, got := tracedNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 7), removing(disp("c", t2All, ops.Working, 1)))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.NoError(t, n.Step(removeReq("m", t1All, 1)))
	n.Tick()
	require.Equal(t, []string{"DMAbortMerge(m)"}, *got, "c is closing, a and b wait: no heartbeat")
	*got = nil
	n.Tick()
	require.Equal(t, []string{"DMHeartbeat(a)", "DMHeartbeat(b)"}, *got)
}

func TestNoTraceCostsNothing(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Working, 5))
	require.Zero(t, testing.AllocsPerRun(100, func() { n.Tick(); n.Ready(); n.Advance() }))
}
