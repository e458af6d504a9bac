package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func splitRec(id ops.DispatcherID, s ops.Span, e ops.Epoch) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: ops.TypeSplit, State: ops.SplitRunning, Epoch: e, Span: s, Origin: self,
		SplitSpans: []ops.Span{{Table: s.Table, Start: s.Start, End: "h"}, {Table: s.Table, Start: "h", End: s.End}}, SplitTargets: []ops.NodeID{self, other}}
}

// rich is a node with dispatchers in every state, both journals (with records holding
// slices) and a pending Ready part of which a Ready has already returned; with answers, the
// pending Ready holds two bootstrap answers.
func rich(t *testing.T, answers bool) *node.Node {
	n := newNode(t, 1,
		disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3),
		disp("c", t2a, ops.Working, 7), disp("x", t2b, ops.Initializing, 2),
		disp("s", ops.Span{Table: 3}, ops.Working, 9))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.NoError(t, n.Step(request(protocol.Remove, splitRec("s", ops.Span{Table: 3}, 1))))
	require.NoError(t, n.Step(removeReq("c", t2a, 1)))
	require.NoError(t, n.Step(bootstrapReq(2)))
	if !answers {
		_ = n.Ready()
		n.Advance()
		require.NoError(t, n.Step(removeReq("q", t2All, 2)))
	}
	_ = n.Ready() // the node has returned these, and keeps what follows
	require.NoError(t, n.Working("x"))
	require.NoError(t, n.Prepared("m"))
	require.NoError(t, n.CommitMerge("m"))
	if answers {
		require.NoError(t, n.Step(bootstrapReq(2)))
	}
	require.NoError(t, n.Step(createReq("y", ops.Span{Table: 4}, 2, 1)))
	return n
}

// requireSame checks every observable of two nodes, Ready included, without advancing
// either.
func requireSame(t *testing.T, want, got *node.Node) {
	t.Helper()
	require.Equal(t, want.Name(), got.Name())
	require.Equal(t, snap(want), snap(got))
	wd, wr, wm := want.Len()
	gd, gr, gm := got.Len()
	require.Equal(t, [3]int{wd, wr, wm}, [3]int{gd, gr, gm})
	require.Equal(t, want.Enabled(), got.Enabled())
	for _, d := range want.Dispatchers() {
		g, ok := got.Dispatcher(d.ID)
		require.True(t, ok)
		require.Equal(t, d, g)
	}
	require.Equal(t, peek(want), peek(got))
}

func TestCloneEqual(t *testing.T) {
	n := rich(t, true)
	c := n.Clone()
	requireSame(t, n, c)

	// The same steps on both keep them equal, the Advance of the Ready the original had
	// returned before the clone included.
	for _, step := range []func(n *node.Node) error{
		func(n *node.Node) error { n.Advance(); return nil },
		func(n *node.Node) error { return n.Closed("a", 11) },
		func(n *node.Node) error { return n.Closed("b", 0) },
		func(n *node.Node) error { return n.Working("m") },
		func(n *node.Node) error { n.Tick(); return nil },
		func(n *node.Node) error { return n.Step(createReq("z", ops.Span{Table: 5}, 2, 3)) },
		func(n *node.Node) error { return n.Closed("s", 4) },
		func(n *node.Node) error { n.Advance(); return nil },
		func(n *node.Node) error { return n.Step(bootstrapReq(3)) },
	} {
		require.Equal(t, step(n), step(c))
		requireSame(t, n, c)
	}
	require.Equal(t, take(n), take(c))
}

func TestCloneKeepsBugs(t *testing.T) {
	n := withBugs(newNode(t, 2), seeded.NodeBugs{NoEpochFence: true, JournalMissingRemove: true})
	c := n.Clone()
	require.NoError(t, c.Step(createReq("x", t1All, 1, 0)))
	require.NoError(t, c.Step(removeReq("q", t2All, 1)))
	require.Equal(t, []ops.Record{removeRec("q", t2All, 1)}, c.RemoveJournal())
	// And the original has none of it.
	require.Empty(t, n.Dispatchers())
	require.Empty(t, n.RemoveJournal())
}

func TestCloneIndependent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, n *node.Node)
	}{
		{"host events and checks", func(t *testing.T, n *node.Node) {
			require.NoError(t, n.Closed("a", 0))
			require.NoError(t, n.Working("m"))
			require.NoError(t, n.Advanced("b", 99))
			require.NoError(t, n.Closed("s", 0))
			n.Tick()
		}},
		{"requests", func(t *testing.T, n *node.Node) {
			require.NoError(t, n.Step(bootstrapReq(5)))
			require.NoError(t, n.Step(removeReq("y", ops.Span{Table: 4}, 5)))
			require.NoError(t, n.Step(createReq("z", ops.Span{Table: 6}, 5, 0)))
			require.NoError(t, n.Step(removeReq("x", t2b, 5)))
			require.NoError(t, n.Closed("x", 0))
			require.NoError(t, n.Step(createReq("w", t2b, 5, 0)))
		}},
		{"Ready and Advance", func(t *testing.T, n *node.Node) {
			_ = n.Ready()
			n.Advance()
			n.Tick()
		}},
		{"preload", func(t *testing.T, n *node.Node) {
			require.NoError(t, n.Preload(disp("p", ops.Span{Table: 9}, ops.Working, 1)))
		}},
		{"journal record slices", func(t *testing.T, n *node.Node) {
			rs := n.RemoveJournal()
			require.Equal(t, ops.DispatcherID("s"), rs[1].ID)
			rs[1].SplitSpans[0] = ops.Span{Table: 99}
			rs[1].SplitTargets[1] = "junk"
			ms := n.MergeJournal()
			ms[0].Sources[0] = "junk"
			require.Equal(t, ops.DispatcherID("junk"), n.MergeJournal()[0].Sources[0]) // the journal's own slice
		}},
		{"pending Ready", func(t *testing.T, n *node.Node) {
			rd := n.Ready()
			rd.Reports[0].Statuses[0] = st("junk", ops.Removed, 1)
			rd.Effects[0].Sources[0] = "junk"
			rd.Effects[1] = node.Effect{ID: "junk"}
			if len(rd.Answers) > 0 {
				rd.Answers[0] = protocol.BootstrapAnswer{Node: "junk"}
			}
		}},
	} {
		// Mutating a clone leaves the original as it was, pending answers included.
		t.Run(tc.name, func(t *testing.T) {
			n := rich(t, true)
			want := rich(t, true) // built alike, never touched
			requireSame(t, want, n)
			c := n.Clone()
			tc.mutate(t, c)
			requireSame(t, want, n)
		})
		// And the other way round, without pending answers (see TestBugCloneSharesAnswers).
		t.Run(tc.name+"/original", func(t *testing.T) {
			n := rich(t, false)
			want := rich(t, false)
			c := n.Clone()
			tc.mutate(t, n)
			requireSame(t, want, c)
		})
	}
}

// TestCloneOwnsAnswers: a clone's pending bootstrap answers share nothing with the
// original's, nor with either's journals.
func TestCloneOwnsAnswers(t *testing.T) {
	want := rich(t, true)

	// Mutating the clone's pending answers changes the original.
	n := rich(t, true)
	c := n.Clone()
	rd := c.Ready()
	a := rd.Answers[len(rd.Answers)-1]
	a.Dispatchers[0].State = ops.Removed
	a.Removes[1].SplitSpans[0] = ops.Span{Table: 99}
	a.Merges[0].Sources[0] = "junk"
	requireSame(t, want, n)

	// Mutating the original's journal changes the clone's pending answers.
	n2 := rich(t, true)
	c2 := n2.Clone()
	n2.MergeJournal()[0].Sources[0] = "junk"
	requireSame(t, want, c2)
}
