package node_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// notEnabled runs a local step that must not be enabled and checks that it changed
// nothing.
func notEnabled(t *testing.T, n *node.Node, want string, step func() error) {
	t.Helper()
	before := snap(n)
	enabled := n.Enabled()
	err := step()
	require.ErrorIs(t, err, node.ErrNotEnabled)
	require.EqualError(t, err, "node n1: not enabled: "+want)
	require.Equal(t, before, snap(n))
	require.Equal(t, enabled, n.Enabled())
}

func TestWorking(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		n := newNode(t, 2, disp("a", t1a, ops.Initializing, 6), disp("b", t1b, ops.Working, 1))
		require.Equal(t, []node.Action{{Kind: node.ActWorking, ID: "a"}}, n.Enabled())
		require.NoError(t, n.Working("a"))
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 6), disp("b", t1b, ops.Working, 1)}, n.Dispatchers())
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(2, st("a", ops.Working, 6))}}, take(n))
		require.Empty(t, n.Enabled())
	})
	for _, tc := range []struct {
		name string
		d    protocol.Dispatcher
	}{
		{"already Working", disp("a", t1a, ops.Working, 1)},
		{"Initializing but closing", removing(disp("a", t1a, ops.Initializing, 1))},
		{"Preparing", disp("a", t1a, ops.Preparing, 1)},
		{"MergeReady", disp("a", t1a, ops.MergeReady, 1)},
		{"WaitingMerge", disp("a", t1a, ops.WaitingMerge, 1)},
	} {
		t.Run("not enabled: "+tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.d)
			notEnabled(t, n, "Working(a)", func() error { return n.Working("a") })
		})
	}
	t.Run("not enabled: missing", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1))
		notEnabled(t, n, "Working(x)", func() error { return n.Working("x") })
	})
}

func TestPrepared(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		n := preparing(t)
		require.Equal(t, []node.Action{{Kind: node.ActPrepared, ID: "m"}}, n.Enabled())
		require.NoError(t, n.Prepared("m"))
		d, _ := n.Dispatcher("m")
		require.Equal(t, disp("m", t1All, ops.MergeReady, 3), d)
		require.False(t, n.HasReady())
		require.Equal(t, []node.Action{{Kind: node.ActCommit, ID: "m"}}, n.Enabled())
	})
	for _, tc := range []struct {
		name string
		d    protocol.Dispatcher
	}{
		{"Initializing", disp("m", t1All, ops.Initializing, 1)},
		{"Working", disp("m", t1All, ops.Working, 1)},
		{"MergeReady", disp("m", t1All, ops.MergeReady, 1)},
		{"Preparing but closing", removing(disp("m", t1All, ops.Preparing, 1))},
	} {
		t.Run("not enabled: "+tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.d)
			notEnabled(t, n, "Prepared(m)", func() error { return n.Prepared("m") })
		})
	}
	t.Run("not enabled: missing", func(t *testing.T) {
		n := preparing(t)
		notEnabled(t, n, "Prepared(x)", func() error { return n.Prepared("x") })
	})
}

func TestClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		d       protocol.Dispatcher
		given   uint64
		stopped uint64
	}{
		{"own checkpoint higher", removing(disp("a", t1a, ops.Working, 5)), 3, 5},
		{"given checkpoint higher", removing(disp("a", t1a, ops.Working, 3)), 9, 9},
		{"equal", removing(disp("a", t1a, ops.Initializing, 4)), 4, 4},
		{"closing WaitingMerge", removing(disp("a", t1a, ops.WaitingMerge, 2)), 0, 2},
		{"closing Preparing (G6 fixed)", removing(disp("a", t1a, ops.Preparing, 2)), 7, 7},
		{"closing MergeReady (G6 fixed)", removing(disp("a", t1a, ops.MergeReady, 8)), 7, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 3, tc.d, disp("b", t1b, ops.Working, 1))
			require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "a"}}, n.Enabled())
			require.NoError(t, n.Closed("a", tc.given))
			_, ok := n.Dispatcher("a")
			require.False(t, ok)
			require.Equal(t, []protocol.Dispatcher{disp("b", t1b, ops.Working, 1)}, n.Dispatchers())
			require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(3, st("a", ops.Stopped, tc.stopped))}}, take(n))
			require.Empty(t, n.Enabled())
			// Its keys are free again.
			require.NoError(t, n.Step(createReq("x", t1a, 3, 0)))
			require.Len(t, n.Dispatchers(), 2)
		})
	}

	t.Run("drops the remove journal entry", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 1))
		require.NoError(t, n.Step(removeReq("a", t1a, 1)))
		require.NoError(t, n.Step(removeReq("b", t1b, 1)))
		require.Len(t, n.RemoveJournal(), 2)
		require.NoError(t, n.Closed("a", 0))
		require.Equal(t, []ops.Record{removeRec("b", t1b, 1)}, n.RemoveJournal())
		d, r, m := n.Len()
		require.Equal(t, [3]int{1, 1, 0}, [3]int{d, r, m})
	})

	t.Run("not enabled", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Initializing, 1))
		notEnabled(t, n, "Closed(a)", func() error { return n.Closed("a", 9) })
		notEnabled(t, n, "Closed(b)", func() error { return n.Closed("b", 9) })
		notEnabled(t, n, "Closed(x)", func() error { return n.Closed("x", 9) })
	})

	t.Run("the others of a table keep their keys", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a1, ops.Working, 1), disp("b", t1a2, ops.Working, 1), disp("c", t1b, ops.Working, 1),
			disp("x", t2All, ops.Working, 1))
		require.NoError(t, n.Step(removeReq("a", t1a1, 1)))
		require.NoError(t, n.Closed("a", 0))
		for _, s := range []ops.Span{t1a2, t1b, t1mid, t2a} {
			requireRefused(t, n.Step(createReq("y", s, 1, 0)), protocol.Create, "y", 1, node.ErrOverlap)
		}
		require.NoError(t, n.Step(removeReq("c", t1b, 1)))
		require.NoError(t, n.Closed("c", 0))
		requireRefused(t, n.Step(createReq("y", t1mid, 1, 0)), protocol.Create, "y", 1, node.ErrOverlap)
		require.NoError(t, n.Step(removeReq("b", t1a2, 1)))
		require.NoError(t, n.Closed("b", 0))
		require.NoError(t, n.Step(createReq("y", t1All, 1, 0)))
		require.NoError(t, n.Step(removeReq("x", t2All, 1)))
		require.NoError(t, n.Closed("x", 0))
		require.NoError(t, n.Step(createReq("z", t2All, 1, 0)))
		require.Equal(t, []protocol.Dispatcher{disp("y", t1All, ops.Initializing, 0), disp("z", t2All, ops.Initializing, 0)}, n.Dispatchers())
	})
}

func TestAdvanced(t *testing.T) {
	for _, tc := range []struct {
		name       string
		d          protocol.Dispatcher
		to, expect uint64
	}{
		{"raises", disp("a", t1a, ops.Working, 5), 9, 9},
		{"never lowers", disp("a", t1a, ops.Working, 5), 2, 5},
		{"same", disp("a", t1a, ops.Working, 5), 5, 5},
		{"closing dispatcher too", removing(disp("a", t1a, ops.WaitingMerge, 5)), 6, 6},
		{"Initializing too", disp("a", t1a, ops.Initializing, 0), 6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.d)
			require.NoError(t, n.Advanced("a", tc.to))
			d, _ := n.Dispatcher("a")
			want := tc.d
			want.Checkpoint = tc.expect
			require.Equal(t, want, d)
			require.False(t, n.HasReady())
		})
	}
	t.Run("the next status carries it", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1))
		require.NoError(t, n.Advanced("a", 4))
		require.NoError(t, n.Working("a"))
		require.NoError(t, n.Advanced("a", 3))
		n.Tick()
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("a", ops.Working, 4), st("a", ops.Working, 4))}}, take(n))
	})
	t.Run("missing", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Working, 1))
		notEnabled(t, n, "Advanced(x)", func() error { return n.Advanced("x", 5) })
	})
}

func TestCommitMerge(t *testing.T) {
	t.Run("enabled", func(t *testing.T) {
		n := preparing(t)
		require.NoError(t, n.Prepared("m"))
		// The sources advanced while they waited: the merged dispatcher starts at the
		// lowest source checkpoint at the commit.
		require.NoError(t, n.Advanced("a", 10))
		require.NoError(t, n.Advanced("b", 8))
		require.NoError(t, n.CommitMerge("m"))
		require.Equal(t, []protocol.Dispatcher{removing(disp("a", t1a, ops.WaitingMerge, 10)), removing(disp("b", t1b, ops.WaitingMerge, 8)),
			disp("m", t1All, ops.Initializing, 8)}, n.Dispatchers())
		require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, n.MergeJournal())
		require.Equal(t, node.Ready{Effects: []node.Effect{
			{Kind: node.EffectCommitMerge, ID: "m", Span: t1All, Checkpoint: 8, Sources: []ops.DispatcherID{"a", "b"}},
		}}, take(n))
		notEnabled(t, n, "CommitMerge(m)", func() error { return n.CommitMerge("m") })
	})

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *node.Node
	}{
		{"Preparing", preparing},
		{"missing", func(t *testing.T) *node.Node { return halves(t) }},
		{"not journaled", func(t *testing.T) *node.Node {
			return newNode(t, 1, disp("m", t1All, ops.MergeReady, 1))
		}},
		{"closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.Step(removeReq("m", t1All, 1)))
			return n
		}},
		{"a source closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.Step(removeReq("b", t1b, 1)))
			return n
		}},
		{"a source missing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.Step(removeReq("a", t1a, 1)))
			require.NoError(t, n.Closed("a", 0))
			return n
		}},
		{"committed", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			return n
		}},
	} {
		t.Run("not enabled: "+tc.name, func(t *testing.T) {
			n := tc.setup(t)
			for _, a := range n.Enabled() {
				require.NotEqual(t, node.Action{Kind: node.ActCommit, ID: "m"}, a)
			}
			notEnabled(t, n, "CommitMerge(m)", func() error { return n.CommitMerge("m") })
		})
	}
}

func TestAbortMerge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, n *node.Node)
		enabled []node.Action
		after   []protocol.Dispatcher
		next    []node.Action
	}{
		{
			name:    "a source removed",
			setup:   func(t *testing.T, n *node.Node) { require.NoError(t, n.Step(removeReq("a", t1a, 1))) },
			enabled: []node.Action{{Kind: node.ActSweep, ID: "a"}, {Kind: node.ActAbortMerge, ID: "m"}, {Kind: node.ActPrepared, ID: "m"}},
			// a closing source stays as it was: the sweep deletes it.
			after: []protocol.Dispatcher{removing(disp("a", t1a, ops.WaitingMerge, 5)), disp("b", t1b, ops.Working, 3),
				removing(disp("m", t1All, ops.Preparing, 3))},
			next: []node.Action{{Kind: node.ActSweep, ID: "a"}, {Kind: node.ActSweep, ID: "m"}},
		},
		{
			name: "a source swept",
			setup: func(t *testing.T, n *node.Node) {
				require.NoError(t, n.Step(removeReq("b", t1b, 1)))
				require.NoError(t, n.Closed("b", 0))
				require.NoError(t, n.Prepared("m"))
			},
			enabled: []node.Action{{Kind: node.ActAbortMerge, ID: "m"}},
			after:   []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), removing(disp("m", t1All, ops.MergeReady, 3))},
			next:    []node.Action{{Kind: node.ActSweep, ID: "m"}},
		},
		{
			name:    "the merged dispatcher removed",
			setup:   func(t *testing.T, n *node.Node) { require.NoError(t, n.Step(removeReq("m", t1All, 1))) },
			enabled: []node.Action{{Kind: node.ActAbortMerge, ID: "m"}, {Kind: node.ActSweep, ID: "m"}},
			after: []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3),
				removing(disp("m", t1All, ops.Preparing, 3))},
			next: []node.Action{{Kind: node.ActSweep, ID: "m"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := preparing(t)
			tc.setup(t, n)
			_ = n.Ready()
			n.Advance()
			require.Equal(t, tc.enabled, n.Enabled())
			require.NoError(t, n.AbortMerge("m"))
			require.Equal(t, tc.after, n.Dispatchers())
			require.Empty(t, n.MergeJournal())
			require.Equal(t, node.Ready{Effects: []node.Effect{
				{Kind: node.EffectAbortMerge, ID: "m", Span: t1All, Sources: []ops.DispatcherID{"a", "b"}},
			}}, take(n))
			require.Equal(t, tc.next, n.Enabled())
			// Aborted once: the journal entry is gone.
			notEnabled(t, n, "AbortMerge(m)", func() error { return n.AbortMerge("m") })
			// The merged dispatcher is swept (opfsm's fix of G6), reporting Stopped.
			require.NoError(t, n.Closed("m", 1))
			require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("m", ops.Stopped, 3))}}, take(n))
			_, ok := n.Dispatcher("m")
			require.False(t, ok)
		})
	}

	t.Run("committed, then the merged dispatcher moved away", func(t *testing.T) {
		n := preparing(t)
		require.NoError(t, n.Prepared("m"))
		require.NoError(t, n.CommitMerge("m"))
		require.NoError(t, n.Working("m"))
		require.NoError(t, n.Step(removeReq("m", t1All, 1)))
		require.NoError(t, n.Closed("m", 0))
		_ = n.Ready()
		n.Advance()
		require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "a"}, {Kind: node.ActSweep, ID: "b"},
			{Kind: node.ActAbortMerge, ID: "m"}}, n.Enabled())
		require.NoError(t, n.AbortMerge("m"))
		// The sources the commit closed stay closing: back at Working they would serve
		// their keys beside the merged dispatcher on its new node.
		require.Equal(t, []protocol.Dispatcher{removing(disp("a", t1a, ops.WaitingMerge, 5)),
			removing(disp("b", t1b, ops.WaitingMerge, 3))}, n.Dispatchers())
		require.Empty(t, n.MergeJournal())
	})

	t.Run("with SweepSkipsPreCommit the aborted merged dispatcher stays", func(t *testing.T) {
		n := withBugs(preparing(t), seeded.NodeBugs{SweepSkipsPreCommit: true})
		require.NoError(t, n.Step(removeReq("a", t1a, 1)))
		require.NoError(t, n.AbortMerge("m"))
		_ = n.Ready()
		n.Advance()
		require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "a"}}, n.Enabled())
		notEnabled(t, n, "Closed(m)", func() error { return n.Closed("m", 0) })
		require.NoError(t, n.Closed("a", 0))
		require.Equal(t, []protocol.Dispatcher{disp("b", t1b, ops.Working, 3), removing(disp("m", t1All, ops.Preparing, 3))}, n.Dispatchers())
	})

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *node.Node
	}{
		{"every member in place", preparing},
		{"every member in place, MergeReady", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			return n
		}},
		{"not journaled", func(t *testing.T) *node.Node {
			return newNode(t, 1, removing(disp("m", t1All, ops.Preparing, 1)))
		}},
		{"committed, sources closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			return n
		}},
		{"committed and Working, merged dispatcher closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Working("m"))
			require.NoError(t, n.Step(removeReq("m", t1All, 1)))
			return n
		}},
	} {
		t.Run("not enabled: "+tc.name, func(t *testing.T) {
			n := tc.setup(t)
			for _, a := range n.Enabled() {
				require.NotEqual(t, node.Action{Kind: node.ActAbortMerge, ID: "m"}, a)
			}
			notEnabled(t, n, "AbortMerge(m)", func() error { return n.AbortMerge("m") })
		})
	}
}

func TestCleanupMergeJournal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *node.Node
		ok    bool
	}{
		{"merged dispatcher Working, sources swept", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Closed("a", 0))
			require.NoError(t, n.Closed("b", 0))
			require.NoError(t, n.Working("m"))
			return n
		}, true},
		{"everything swept", func(t *testing.T) *node.Node { return committedSwept(t) }, true},
		{"a later incarnation of a source span Working", func(t *testing.T) *node.Node {
			n := committedSwept(t)
			require.NoError(t, n.Preload(disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Initializing, 1)))
			return n
		}, true},
		{"a waiting dispatcher of the table outside the span", func(t *testing.T) *node.Node {
			n := newNode(t, 1, disp("a", t1a1, ops.Working, 1), disp("b", t1a2, ops.Working, 1), disp("c", t1b, ops.WaitingMerge, 1))
			require.NoError(t, n.Step(mergeReq("m", t1a, 1, "a", "b")))
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Closed("a", 0))
			require.NoError(t, n.Closed("b", 0))
			require.NoError(t, n.Working("m"))
			return n
		}, true},
		{"another merge waits outside the span", func(t *testing.T) *node.Node {
			n := committedSwept(t)
			require.NoError(t, n.Preload(disp("c", t2a, ops.WaitingMerge, 1), disp("x", t2b, ops.WaitingMerge, 1)))
			return n
		}, true},
		{"merged dispatcher Working and closing", func(t *testing.T) *node.Node {
			n := committedSwept(t)
			require.NoError(t, n.Preload(removing(disp("m", t1All, ops.Working, 1))))
			return n
		}, true},
		{"merged dispatcher Initializing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Closed("a", 0))
			require.NoError(t, n.Closed("b", 0))
			return n
		}, false},
		{"merged dispatcher Preparing", preparing, false},
		{"a source still waits, closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Closed("a", 0))
			require.NoError(t, n.Working("m"))
			return n
		}, false},
		{"a waiting source listed after a dispatcher outside the span", func(t *testing.T) *node.Node {
			n := newNode(t, 1, disp("c", t1b, ops.Working, 1), disp("a", t1a1, ops.Working, 1), disp("b", t1a2, ops.Working, 1))
			require.NoError(t, n.Step(mergeReq("m", t1a, 1, "a", "b")))
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			require.NoError(t, n.Working("m"))
			return n
		}, false},
		{"a waiting dispatcher inside the span", func(t *testing.T) *node.Node {
			n := committedSwept(t)
			require.NoError(t, n.Preload(disp("c", t1a2, ops.WaitingMerge, 1)))
			return n
		}, false},
		{"another id with the merged span Initializing", func(t *testing.T) *node.Node {
			n := committedSwept(t)
			require.NoError(t, n.Preload(disp("x", t1All, ops.Initializing, 1)))
			return n
		}, false},
		{"not journaled", func(t *testing.T) *node.Node { return halves(t) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.setup(t)
			_ = n.Ready()
			n.Advance()
			if !tc.ok {
				for _, a := range n.Enabled() {
					require.NotEqual(t, node.Action{Kind: node.ActJournalCleanup, ID: "m"}, a)
				}
				notEnabled(t, n, "CleanupMergeJournal(m)", func() error { return n.CleanupMergeJournal("m") })
				return
			}
			require.Contains(t, n.Enabled(), node.Action{Kind: node.ActJournalCleanup, ID: "m"})
			ds := n.Dispatchers()
			require.NoError(t, n.CleanupMergeJournal("m"))
			require.Empty(t, n.MergeJournal())
			require.Equal(t, ds, n.Dispatchers())
			require.False(t, n.HasReady())
			require.NotContains(t, n.Enabled(), node.Action{Kind: node.ActJournalCleanup, ID: "m"})
		})
	}
}

// TestMergeWalk walks a merge through its commit, checking the enabled steps at each one.
func TestMergeWalk(t *testing.T) {
	n := halves(t)
	require.Empty(t, n.Enabled())
	rec := mergeRec("m", t1All, 1, "a", "b")
	require.NoError(t, n.Step(request(protocol.Merge, rec)))
	require.Equal(t, []node.Action{{Kind: node.ActPrepared, ID: "m"}}, n.Enabled())
	require.Equal(t, node.Ready{Effects: []node.Effect{
		{Kind: node.EffectPrepareMerge, ID: "m", Span: t1All, Checkpoint: 3, Sources: []ops.DispatcherID{"a", "b"}},
	}}, take(n))

	require.NoError(t, n.Prepared("m"))
	require.Equal(t, []node.Action{{Kind: node.ActCommit, ID: "m"}}, n.Enabled())
	require.False(t, n.HasReady())

	require.NoError(t, n.CommitMerge("m"))
	require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "a"}, {Kind: node.ActSweep, ID: "b"}, {Kind: node.ActWorking, ID: "m"}}, n.Enabled())
	require.Equal(t, node.Ready{Effects: []node.Effect{
		{Kind: node.EffectCommitMerge, ID: "m", Span: t1All, Checkpoint: 3, Sources: []ops.DispatcherID{"a", "b"}},
	}}, take(n))

	require.NoError(t, n.Closed("a", 4)) // own 5
	require.Equal(t, []node.Action{{Kind: node.ActSweep, ID: "b"}, {Kind: node.ActWorking, ID: "m"}}, n.Enabled())
	require.NoError(t, n.Closed("b", 9)) // own 3
	require.Equal(t, []node.Action{{Kind: node.ActWorking, ID: "m"}}, n.Enabled())
	require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("a", ops.Stopped, 5), st("b", ops.Stopped, 9))}}, take(n))

	require.NoError(t, n.Working("m"))
	require.Equal(t, []node.Action{{Kind: node.ActJournalCleanup, ID: "m"}}, n.Enabled())
	require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("m", ops.Working, 3))}}, take(n))
	require.Equal(t, []ops.Record{rec}, n.MergeJournal())

	require.NoError(t, n.CleanupMergeJournal("m"))
	require.Empty(t, n.Enabled())
	require.Empty(t, n.MergeJournal())
	require.Equal(t, []protocol.Dispatcher{disp("m", t1All, ops.Working, 3)}, n.Dispatchers())
	require.False(t, n.HasReady())
}

// TestEnabledOrder: by id, then by the spec's action name.
func TestEnabledOrder(t *testing.T) {
	n := newNode(t, 1, disp("z", t2b, ops.Initializing, 1), removing(disp("c", t2a, ops.Working, 1)),
		disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.NoError(t, n.Step(removeReq("b", t1b, 1)))
	require.Equal(t, []node.Action{
		{Kind: node.ActSweep, ID: "b"},
		{Kind: node.ActSweep, ID: "c"},
		{Kind: node.ActAbortMerge, ID: "m"},
		{Kind: node.ActPrepared, ID: "m"},
		{Kind: node.ActWorking, ID: "z"},
	}, n.Enabled())
	require.NoError(t, n.Step(removeReq("m", t1All, 1)))
	require.Equal(t, []node.Action{
		{Kind: node.ActSweep, ID: "b"},
		{Kind: node.ActSweep, ID: "c"},
		{Kind: node.ActAbortMerge, ID: "m"},
		{Kind: node.ActSweep, ID: "m"},
		{Kind: node.ActWorking, ID: "z"},
	}, n.Enabled())
}

func TestActionKindNames(t *testing.T) {
	names := map[node.ActionKind]string{
		node.ActWorking: "DMWorking", node.ActPrepared: "DMPrepared", node.ActCommit: "DMCommit",
		node.ActAbortMerge: "DMAbortMerge", node.ActSweep: "DMSweep", node.ActJournalCleanup: "DMJournalCleanup",
		node.ActHeartbeat: "DMHeartbeat", node.ActPrepareFail: "DMPrepareFail",
	}
	require.Len(t, names, 8)
	for k, name := range names {
		require.Equal(t, name, k.String())
		got, ok := node.ParseActionKind(name)
		require.True(t, ok)
		require.Equal(t, k, got)
	}
	require.Equal(t, "ActionKind(8)", node.ActionKind(8).String())
	require.Equal(t, "ActionKind(255)", node.ActionKind(255).String())
	for _, bad := range []string{"", "dmsweep", "DMSweep ", "ActionKind(8)", "Working"} {
		k, ok := node.ParseActionKind(bad)
		require.False(t, ok, bad)
		require.Equal(t, node.ActionKind(0), k)
	}
	require.Equal(t, "DMSweep(d1)", node.Action{Kind: node.ActSweep, ID: "d1"}.String())
	require.Equal(t, "DMJournalCleanup(m)", node.Action{Kind: node.ActJournalCleanup, ID: "m"}.String())

	effects := map[node.EffectKind]string{
		node.EffectCreate: "Create", node.EffectClose: "Close", node.EffectPrepareMerge: "PrepareMerge",
		node.EffectCommitMerge: "CommitMerge", node.EffectAbortMerge: "AbortMerge",
	}
	for k, name := range effects {
		require.Equal(t, name, k.String())
	}
	require.Equal(t, "EffectKind(?)", node.EffectKind(5).String())
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T) *node.Node
		action node.Action
		direct func(n *node.Node) error
		msg    string
	}{
		{"DMWorking", func(t *testing.T) *node.Node { return newNode(t, 1, disp("a", t1a, ops.Initializing, 2)) },
			node.Action{Kind: node.ActWorking, ID: "a"}, func(n *node.Node) error { return n.Working("a") }, "Working(a)"},
		{"DMPrepared", preparing, node.Action{Kind: node.ActPrepared, ID: "m"}, func(n *node.Node) error { return n.Prepared("m") }, "Prepared(m)"},
		{"DMCommit", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			return n
		}, node.Action{Kind: node.ActCommit, ID: "m"}, func(n *node.Node) error { return n.CommitMerge("m") }, "CommitMerge(m)"},
		{"DMAbortMerge", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Step(removeReq("a", t1a, 1)))
			return n
		}, node.Action{Kind: node.ActAbortMerge, ID: "m"}, func(n *node.Node) error { return n.AbortMerge("m") }, "AbortMerge(m)"},
		{"DMSweep", func(t *testing.T) *node.Node { return newNode(t, 1, removing(disp("a", t1a, ops.Working, 6))) },
			node.Action{Kind: node.ActSweep, ID: "a"}, func(n *node.Node) error { return n.Closed("a", 0) }, "Closed(a)"},
		{"DMJournalCleanup", func(t *testing.T) *node.Node { return committedSwept(t) },
			node.Action{Kind: node.ActJournalCleanup, ID: "m"}, func(n *node.Node) error { return n.CleanupMergeJournal("m") }, "CleanupMergeJournal(m)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaApply, direct := tc.setup(t), tc.setup(t)
			require.Contains(t, viaApply.Enabled(), tc.action)
			applyMatchesStep(t, viaApply, direct, tc.action, tc.direct, tc.msg)
		})
	}

	t.Run("DMPrepareFail, a fault that Enabled never lists", func(t *testing.T) {
		viaApply, direct := preparing(t), preparing(t)
		a := node.Action{Kind: node.ActPrepareFail, ID: "m"}
		require.NotContains(t, viaApply.Enabled(), a)
		applyMatchesStep(t, viaApply, direct, a, func(n *node.Node) error { return n.PrepareFailed("m") }, "PrepareFailed(m)")
	})

	t.Run("sweep reports the dispatcher's own checkpoint", func(t *testing.T) {
		n := newNode(t, 1, removing(disp("a", t1a, ops.Working, 6)))
		require.NoError(t, n.Apply(node.Action{Kind: node.ActSweep, ID: "a"}))
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("a", ops.Stopped, 6))}}, take(n))
	})

	t.Run("unknown kind", func(t *testing.T) {
		n := newNode(t, 1, removing(disp("a", t1a, ops.Working, 6)), disp("b", t1b, ops.Initializing, 1))
		notEnabled(t, n, "DMHeartbeat(a)", func() error { return n.Apply(node.Action{Kind: node.ActHeartbeat, ID: "a"}) })
		notEnabled(t, n, "ActionKind(8)(a)", func() error { return n.Apply(node.Action{Kind: 8, ID: "a"}) })
		notEnabled(t, n, "ActionKind(200)(b)", func() error { return n.Apply(node.Action{Kind: 200, ID: "b"}) })
	})
}

// applyMatchesStep applies a via Apply to one node and via its own method (step) to a
// twin, and requires the same state and output, and a second Apply refused (msg).
func applyMatchesStep(t *testing.T, viaApply, direct *node.Node, a node.Action, step func(*node.Node) error, msg string) {
	t.Helper()
	before := snap(viaApply)
	require.NoError(t, viaApply.Apply(a))
	require.NoError(t, step(direct))
	require.NotEqual(t, before, snap(viaApply))
	require.Equal(t, snap(direct), snap(viaApply))
	require.Equal(t, take(direct), take(viaApply))
	require.NotContains(t, viaApply.Enabled(), a)
	// Not enabled any more: Apply refuses it like the step itself.
	notEnabled(t, viaApply, msg, func() error { return viaApply.Apply(a) })
}

func TestTick(t *testing.T) {
	t.Run("heartbeat", func(t *testing.T) {
		n := newNode(t, 4,
			disp("d3", ops.Span{Table: 3, Start: "c"}, ops.Working, 30),
			disp("d1", ops.Span{Table: 3, End: "a"}, ops.Working, 10),
			disp("d2", ops.Span{Table: 3, Start: "a", End: "c"}, ops.Initializing, 20),
			removing(disp("d0", ops.Span{Table: 4}, ops.Working, 5)),
			disp("d5", ops.Span{Table: 5}, ops.Working, 0),
			removing(disp("d4", ops.Span{Table: 3}, ops.WaitingMerge, 5)),
		)
		n.Tick()
		want := report(4, st("d1", ops.Working, 10), st("d3", ops.Working, 30), st("d5", ops.Working, 0))
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{want}}, take(n))
		before := snap(n)
		n.Tick()
		n.Tick()
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(4, st("d1", ops.Working, 10), st("d3", ops.Working, 30),
			st("d5", ops.Working, 0), st("d1", ops.Working, 10), st("d3", ops.Working, 30), st("d5", ops.Working, 0))}}, take(n))
		require.Equal(t, before, snap(n))
	})

	t.Run("nothing to report", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1))
		n.Tick()
		require.False(t, n.HasReady())
		require.Equal(t, node.Ready{}, take(n))
	})

	t.Run("runs every enabled merge check", func(t *testing.T) {
		n := newNode(t, 1,
			disp("a", ops.Span{Table: 1, End: "k"}, ops.Working, 5), disp("b", ops.Span{Table: 1, Start: "k"}, ops.Working, 6),
			disp("c", ops.Span{Table: 2, End: "k"}, ops.Working, 7), disp("d", ops.Span{Table: 2, Start: "k"}, ops.Working, 8),
			disp("e", ops.Span{Table: 3, End: "k"}, ops.Working, 1), disp("f", ops.Span{Table: 3, Start: "k"}, ops.Working, 2),
			disp("g", ops.Span{Table: 4, End: "k"}, ops.Working, 1), disp("h", ops.Span{Table: 4, Start: "k"}, ops.Working, 2),
		)
		// m1 will commit, m2 abort (a source removed), m3 is done and cleaned up, m4 waits.
		require.NoError(t, n.Step(mergeReq("m1", ops.Span{Table: 1}, 1, "a", "b")))
		require.NoError(t, n.Step(mergeReq("m2", ops.Span{Table: 2}, 1, "c", "d")))
		require.NoError(t, n.Step(mergeReq("m3", ops.Span{Table: 3}, 1, "e", "f")))
		require.NoError(t, n.Step(mergeReq("m4", ops.Span{Table: 4}, 1, "g", "h")))
		require.NoError(t, n.Prepared("m1"))
		require.NoError(t, n.Step(removeReq("d", ops.Span{Table: 2, Start: "k"}, 1)))
		require.NoError(t, n.Prepared("m3"))
		require.NoError(t, n.CommitMerge("m3"))
		require.NoError(t, n.Closed("e", 0))
		require.NoError(t, n.Closed("f", 0))
		require.NoError(t, n.Working("m3"))
		_ = n.Ready()
		n.Advance()
		require.Equal(t, []node.Action{
			{Kind: node.ActSweep, ID: "d"},
			{Kind: node.ActCommit, ID: "m1"},
			{Kind: node.ActAbortMerge, ID: "m2"},
			{Kind: node.ActPrepared, ID: "m2"},
			{Kind: node.ActJournalCleanup, ID: "m3"},
			{Kind: node.ActPrepared, ID: "m4"},
		}, n.Enabled())

		n.Tick()
		rd := take(n)
		require.Equal(t, []protocol.StatusReport{report(1, st("m3", ops.Working, 1))}, rd.Reports)
		require.Equal(t, []node.Effect{
			{Kind: node.EffectCommitMerge, ID: "m1", Span: ops.Span{Table: 1}, Checkpoint: 5, Sources: []ops.DispatcherID{"a", "b"}},
			{Kind: node.EffectAbortMerge, ID: "m2", Span: ops.Span{Table: 2}, Sources: []ops.DispatcherID{"c", "d"}},
		}, rd.Effects)
		require.Equal(t, []ops.Record{
			mergeRec("m1", ops.Span{Table: 1}, 1, "a", "b"),
			mergeRec("m4", ops.Span{Table: 4}, 1, "g", "h"),
		}, n.MergeJournal())
		require.Equal(t, []node.Action{
			{Kind: node.ActSweep, ID: "a"},
			{Kind: node.ActSweep, ID: "b"},
			{Kind: node.ActSweep, ID: "d"},
			{Kind: node.ActWorking, ID: "m1"},
			{Kind: node.ActSweep, ID: "m2"},
			{Kind: node.ActPrepared, ID: "m4"},
		}, n.Enabled())
		c, _ := n.Dispatcher("c")
		require.Equal(t, disp("c", ops.Span{Table: 2, End: "k"}, ops.Working, 7), c)

		// The next Tick has nothing to check; the one after the sweeps and m1's start cleans
		// m1's journal entry up, after its heartbeat.
		n.Tick()
		require.Equal(t, []node.Effect(nil), take(n).Effects)
		require.NoError(t, n.Closed("a", 0))
		require.NoError(t, n.Closed("b", 0))
		require.NoError(t, n.Working("m1"))
		_ = n.Ready()
		n.Advance()
		n.Tick()
		require.Equal(t, []ops.Record{mergeRec("m4", ops.Span{Table: 4}, 1, "g", "h")}, n.MergeJournal())
		rd = take(n)
		require.Equal(t, []protocol.StatusReport{report(1, st("c", ops.Working, 7), st("m1", ops.Working, 5), st("m3", ops.Working, 1))}, rd.Reports)
	})

	t.Run("a merge aborts when its merged dispatcher closes", func(t *testing.T) {
		n := preparing(t)
		require.NoError(t, n.Step(removeReq("m", t1All, 1)))
		_ = n.Ready()
		n.Advance()
		n.Tick()
		rd := take(n)
		require.Equal(t, []node.Effect{{Kind: node.EffectAbortMerge, ID: "m", Span: t1All, Sources: []ops.DispatcherID{"a", "b"}}}, rd.Effects)
		require.Empty(t, rd.Reports) // a and b were WaitingMerge at the heartbeat
		require.Empty(t, n.MergeJournal())
		n.Tick()
		require.Equal(t, []protocol.StatusReport{report(1, st("a", ops.Working, 5), st("b", ops.Working, 3))}, take(n).Reports)
	})
}

func TestTickMatchesEnabledChecks(t *testing.T) {
	// Tick does what applying every enabled commit, abort and cleanup does, apart from the
	// heartbeat.
	build := func(t *testing.T) *node.Node {
		n := newNode(t, 1,
			disp("a", ops.Span{Table: 1, End: "k"}, ops.Working, 5), disp("b", ops.Span{Table: 1, Start: "k"}, ops.Working, 6),
			disp("c", ops.Span{Table: 2, End: "k"}, ops.Working, 7), disp("d", ops.Span{Table: 2, Start: "k"}, ops.Working, 8))
		require.NoError(t, n.Step(mergeReq("m1", ops.Span{Table: 1}, 1, "a", "b")))
		require.NoError(t, n.Step(mergeReq("m2", ops.Span{Table: 2}, 1, "c", "d")))
		require.NoError(t, n.Prepared("m1"))
		require.NoError(t, n.Step(removeReq("c", ops.Span{Table: 2, End: "k"}, 1)))
		_ = n.Ready()
		n.Advance()
		return n
	}
	ticked, stepped := build(t), build(t)
	ticked.Tick()
	for _, a := range stepped.Enabled() {
		if a.Kind == node.ActCommit || a.Kind == node.ActAbortMerge || a.Kind == node.ActJournalCleanup {
			require.NoError(t, stepped.Apply(a), fmt.Sprint(a))
		}
	}
	require.Equal(t, snap(stepped), snap(ticked))
	require.Equal(t, take(stepped).Effects, take(ticked).Effects)
}

// TestSweepBeforeAbort: the host may report a closing merged dispatcher Closed before the
// merge check aborts the merge (DMSweep and DMAbortMerge are both enabled, as in the spec).
// The merge is then aborted for its missing target: the sources go back to Working and the
// journal entry goes.
func TestSweepBeforeAbort(t *testing.T) {
	n := preparing(t)
	require.NoError(t, n.Step(removeReq("m", t1All, 1)))
	require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}, {Kind: node.ActSweep, ID: "m"}}, n.Enabled())
	require.NoError(t, n.Closed("m", 0))
	require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}}, n.Enabled())
	_ = take(n)
	n.Tick()
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)}, n.Dispatchers())
	require.Empty(t, n.MergeJournal())
	require.Equal(t, []node.Effect{{Kind: node.EffectAbortMerge, ID: "m", Span: t1All, Sources: []ops.DispatcherID{"a", "b"}}}, take(n).Effects)
}

// TestAbortMissingTarget: a journaled merge whose merged dispatcher is gone (a committed
// merge whose dispatchers were all swept before the journal cleanup) aborts: the entry
// goes, nothing else changes.
func TestAbortMissingTarget(t *testing.T) {
	n := committedSwept(t)
	require.Contains(t, n.Enabled(), node.Action{Kind: node.ActAbortMerge, ID: "m"})
	before := n.Dispatchers()
	require.NoError(t, n.AbortMerge("m"))
	require.Empty(t, n.MergeJournal())
	require.Equal(t, before, n.Dispatchers())
	notEnabled(t, n, "AbortMerge(m)", func() error { return n.AbortMerge("m") })
}

// TestPrepareFailed: a merged dispatcher that fails before the commit closes; the merge
// check then aborts the merge (its target closing, or gone once swept) and the sources go
// back to Working; nothing else can fail this way.
func TestPrepareFailed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *node.Node
		state ops.ComponentState
		sweep bool // the host reports m closed before the merge check runs
	}{
		{"Preparing, aborted while closing", preparing, ops.Preparing, false},
		{"MergeReady, aborted while closing", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			return n
		}, ops.MergeReady, false},
		{"Preparing, swept before the check", preparing, ops.Preparing, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.setup(t)
			_ = take(n)
			require.NoError(t, n.PrepareFailed("m"))
			require.Equal(t, node.Ready{Effects: []node.Effect{{Kind: node.EffectClose, ID: "m", Span: t1All}}}, take(n))
			require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
				removing(disp("m", t1All, tc.state, 3))}, n.Dispatchers())
			require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}, {Kind: node.ActSweep, ID: "m"}}, n.Enabled())
			notEnabled(t, n, "PrepareFailed(m)", func() error { return n.PrepareFailed("m") })
			if tc.sweep {
				require.NoError(t, n.Closed("m", 0))
				require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}}, n.Enabled())
			}
			n.Tick()
			want := []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)}
			if !tc.sweep {
				want = append(want, removing(disp("m", t1All, tc.state, 3)))
			}
			require.Equal(t, want, n.Dispatchers())
			require.Empty(t, n.MergeJournal())
		})
	}

	for _, tc := range []struct {
		name string
		n    func(t *testing.T) *node.Node
		id   ops.DispatcherID
	}{
		{"missing", halves, "m"},
		{"Working", halves, "a"},
		{"a source", preparing, "a"},
		{"closing already", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.PrepareFailed("m"))
			return n
		}, "m"},
		{"committed", func(t *testing.T) *node.Node {
			n := preparing(t)
			require.NoError(t, n.Prepared("m"))
			require.NoError(t, n.CommitMerge("m"))
			return n
		}, "m"},
	} {
		t.Run("not enabled: "+tc.name, func(t *testing.T) {
			n := tc.n(t)
			_ = take(n)
			before := snap(n)
			notEnabled(t, n, "PrepareFailed("+string(tc.id)+")", func() error { return n.PrepareFailed(tc.id) })
			require.Equal(t, before, snap(n))
			require.Equal(t, node.Ready{}, take(n))
		})
	}

	t.Run("with AbortIgnoresMissingTarget the sources wait for good", func(t *testing.T) {
		n := withBugs(preparing(t), seeded.NodeBugs{AbortIgnoresMissingTarget: true})
		require.NoError(t, n.PrepareFailed("m"))
		require.NoError(t, n.Closed("m", 0))
		require.Empty(t, n.Enabled())
		n.Tick()
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3)}, n.Dispatchers())
		require.Len(t, n.MergeJournal(), 1)
	})
}
