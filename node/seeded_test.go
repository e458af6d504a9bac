package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Each seeded bug changes behaviour against the correct design (the zero NodeBugs): the
// same scenario runs on a correct node and on one with the bug.
func TestSeededBugs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bugs    seeded.NodeBugs
		run     func(t *testing.T, n *node.Node) error
		correct func(t *testing.T, n *node.Node, err error)
		bugged  func(t *testing.T, n *node.Node, err error)
	}{
		{
			name: "MergeJournalLost",
			bugs: seeded.NodeBugs{MergeJournalLost: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Preload(disp("c", t2All, ops.Working, 1)))
				require.NoError(t, n.Step(removeReq("c", t2All, 1)))
				return n.Step(bootstrapReq(2))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				a := take(n).Answers
				require.Len(t, a, 1)
				require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, a[0].Merges)
				require.Equal(t, []ops.Record{removeRec("c", t2All, 1)}, a[0].Removes)
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				a := take(n).Answers
				require.Len(t, a, 1)
				require.Empty(t, a[0].Merges)
				require.Nil(t, a[0].Merges)
				require.Equal(t, []ops.Record{removeRec("c", t2All, 1)}, a[0].Removes)
				require.Len(t, a[0].Dispatchers, 4)
				// The journal itself is kept.
				require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, n.MergeJournal())
			},
		},
		{
			name: "NoEpochFence: a stale create",
			bugs: seeded.NodeBugs{NoEpochFence: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Step(bootstrapReq(2)))
				_ = n.Ready()
				n.Advance()
				return n.Step(createReq("x", t2All, 1, 4))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				requireRefused(t, err, protocol.Create, "x", 1, node.ErrFenced)
				_, ok := n.Dispatcher("x")
				require.False(t, ok)
				require.False(t, n.HasReady())
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				d, ok := n.Dispatcher("x")
				require.True(t, ok)
				require.Equal(t, disp("x", t2All, ops.Initializing, 4), d)
				require.Equal(t, []node.Effect{{Kind: node.EffectCreate, ID: "x", Span: t2All, Checkpoint: 4}}, take(n).Effects)
				require.Equal(t, ops.Epoch(2), n.Owner())
			},
		},
		{
			name: "NoEpochFence: a newer remove is journaled with its own epoch",
			bugs: seeded.NodeBugs{NoEpochFence: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Preload(disp("c", t2All, ops.Working, 1)))
				return n.Step(removeReq("c", t2All, 3))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				requireRefused(t, err, protocol.Remove, "c", 3, node.ErrFenced)
				require.Empty(t, n.RemoveJournal())
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, []ops.Record{removeRec("c", t2All, 3)}, n.RemoveJournal())
				require.Equal(t, ops.Epoch(1), n.Owner())
			},
		},
		{
			name: "BootstrapNoFence",
			bugs: seeded.NodeBugs{BootstrapNoFence: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Step(bootstrapReq(3)))
				_ = n.Ready()
				n.Advance()
				return n.Step(bootstrapReq(2))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				requireRefused(t, err, protocol.Bootstrap, "", 2, node.ErrFenced)
				require.Equal(t, ops.Epoch(3), n.Owner())
				require.False(t, n.HasReady())
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, ops.Epoch(2), n.Owner())
				a := take(n).Answers
				require.Len(t, a, 1)
				require.Equal(t, ops.Epoch(2), a[0].Epoch)
				// The node obeys the older maintainer again: its requests pass, the newer's are fenced.
				require.NoError(t, n.Step(removeReq("q", t2All, 2)))
				requireRefused(t, n.Step(removeReq("q", t2All, 3)), protocol.Remove, "q", 3, node.ErrFenced)
			},
		},
		{
			name: "BootstrapKeepsOwner",
			bugs: seeded.NodeBugs{BootstrapKeepsOwner: true},
			run: func(t *testing.T, n *node.Node) error {
				return n.Step(bootstrapReq(3))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, ops.Epoch(3), n.Owner())
				require.NoError(t, n.Step(removeReq("q", t2All, 3)))
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, ops.Epoch(1), n.Owner(), "answered, but still obeys epoch 1")
				a := take(n).Answers
				require.Len(t, a, 1)
				require.Equal(t, ops.Epoch(3), a[0].Epoch)
				requireRefused(t, n.Step(removeReq("q", t2All, 3)), protocol.Remove, "q", 3, node.ErrFenced)
			},
		},
		{
			name: "SweepSkipsPreCommit",
			bugs: seeded.NodeBugs{SweepSkipsPreCommit: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Step(removeReq("b", t1b, 1)))
				require.NoError(t, n.AbortMerge("m"))
				return n.Closed("m", 0)
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				_, ok := n.Dispatcher("m")
				require.False(t, ok)
				require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "b"}}, n.Enabled())
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.ErrorIs(t, err, node.ErrNotEnabled)
				d, ok := n.Dispatcher("m")
				require.True(t, ok)
				require.Equal(t, removing(disp("m", t1All, ops.Preparing, 3)), d)
				require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "b"}}, n.Enabled())
				require.ErrorIs(t, n.Apply(node.Action{Kind: node.ActSweep, ID: "m"}), node.ErrNotEnabled)
			},
		},
		{
			name: "SweepSkipsPreCommit: MergeReady too",
			bugs: seeded.NodeBugs{SweepSkipsPreCommit: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Prepared("m"))
				require.NoError(t, n.Step(removeReq("m", t1All, 1)))
				return n.Closed("m", 0)
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				_, ok := n.Dispatcher("m")
				require.False(t, ok)
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.ErrorIs(t, err, node.ErrNotEnabled)
				require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}}, n.Enabled())
			},
		},
		{
			name: "SweepSkipsPreCommit: other closing dispatchers are swept",
			bugs: seeded.NodeBugs{SweepSkipsPreCommit: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Step(removeReq("a", t1a, 1)))
				return n.Closed("a", 0)
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				_, ok := n.Dispatcher("a")
				require.False(t, ok)
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				_, ok := n.Dispatcher("a")
				require.False(t, ok)
			},
		},
		{
			name: "MergeNotJournaled",
			bugs: seeded.NodeBugs{MergeNotJournaled: true},
			run: func(t *testing.T, n *node.Node) error {
				require.NoError(t, n.Preload(disp("c1", t2a, ops.Working, 1), disp("c2", t2b, ops.Working, 1)))
				return n.Step(mergeReq("n", t2All, 1, "c1", "c2"))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b"), mergeRec("n", t2All, 1, "c1", "c2")}, n.MergeJournal())
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				// The merge starts, but only the one journaled before the bug was on is there.
				d, ok := n.Dispatcher("n")
				require.True(t, ok)
				require.Equal(t, ops.Preparing, d.State)
				require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, n.MergeJournal())
			},
		},
		{
			name: "JournalMissingRemove",
			bugs: seeded.NodeBugs{JournalMissingRemove: true},
			run: func(t *testing.T, n *node.Node) error {
				return n.Step(removeReq("x", t2All, 1))
			},
			correct: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Empty(t, n.RemoveJournal())
				require.Equal(t, []protocol.StatusReport{report(1, st("x", ops.Stopped, 0))}, take(n).Reports)
			},
			bugged: func(t *testing.T, n *node.Node, err error) {
				require.NoError(t, err)
				require.Equal(t, []ops.Record{removeRec("x", t2All, 1)}, n.RemoveJournal())
				require.Equal(t, []protocol.StatusReport{report(1, st("x", ops.Stopped, 0))}, take(n).Reports)
				_, ok := n.Dispatcher("x")
				require.False(t, ok)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := preparing(t)
			tc.correct(t, good, tc.run(t, good))

			bad := withBugs(preparing(t), tc.bugs)
			tc.bugged(t, bad, tc.run(t, bad))

			// Switching the bugs off again restores the correct design.
			reset := withBugs(preparing(t), tc.bugs)
			seeded.SetNodeBugs(reset, seeded.NodeBugs{})
			tc.correct(t, reset, tc.run(t, reset))
		})
	}
}

// TestBootstrapNoFenceSplitsReports: a node the bug takes back to an older epoch sends the
// statuses of each epoch in its own report, in order, even when an epoch comes back.
func TestBootstrapNoFenceSplitsReports(t *testing.T) {
	n := withBugs(newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Initializing, 2)),
		seeded.NodeBugs{BootstrapNoFence: true})
	require.NoError(t, n.Step(removeReq("x", t2All, 1)))
	require.NoError(t, n.Step(bootstrapReq(2)))
	require.NoError(t, n.Working("a"))
	require.NoError(t, n.Step(bootstrapReq(1)))
	require.NoError(t, n.Working("b"))
	rd := take(n)
	require.Equal(t, []protocol.StatusReport{
		report(1, st("x", ops.Stopped, 0)),
		report(2, st("a", ops.Working, 1)),
		report(1, st("b", ops.Working, 2)),
	}, rd.Reports)
	require.Len(t, rd.Answers, 2)
	require.Equal(t, ops.Epoch(2), rd.Answers[0].Epoch)
	require.Equal(t, ops.Epoch(1), rd.Answers[1].Epoch)
}
