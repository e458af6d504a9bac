package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func TestReadyGroupsByOwnerEpoch(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Initializing, 2), disp("c", t2All, ops.Working, 3))
	require.NoError(t, n.Working("a"))
	require.NoError(t, n.Step(removeReq("x", t2a, 1)))
	require.NoError(t, n.Step(bootstrapReq(2)))
	require.NoError(t, n.Working("b"))
	require.NoError(t, n.Step(removeReq("y", t2a, 2)))
	require.NoError(t, n.Step(bootstrapReq(2))) // same epoch: same group
	require.NoError(t, n.Step(removeReq("z", t2a, 2)))
	require.NoError(t, n.Step(bootstrapReq(5)))
	n.Tick()

	rd := n.Ready()
	require.Equal(t, []protocol.StatusReport{
		report(1, st("a", ops.Working, 1), st("x", ops.Stopped, 0)),
		report(2, st("b", ops.Working, 2), st("y", ops.Stopped, 0), st("z", ops.Stopped, 0)),
		report(5, st("a", ops.Working, 1), st("b", ops.Working, 2), st("c", ops.Working, 3)),
	}, rd.Reports)
	require.Empty(t, rd.Effects)
	require.Len(t, rd.Answers, 3)
	for i, e := range []ops.Epoch{2, 2, 5} {
		require.Equal(t, e, rd.Answers[i].Epoch)
		require.Equal(t, self, rd.Answers[i].Node)
		require.Equal(t, cf, rd.Answers[i].Changefeed)
	}
	for _, r := range rd.Reports {
		require.NoError(t, r.Validate())
	}
	n.Advance()
	require.False(t, n.HasReady())
	require.Equal(t, node.Ready{}, take(n))
}

func TestReadyKeepsWhatCameAfter(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Working, 2))
	require.NoError(t, n.Working("a"))
	require.NoError(t, n.Step(createReq("c", t2a, 1, 4)))
	require.NoError(t, n.Step(bootstrapReq(1)))
	first := peek(n)
	require.Equal(t, []protocol.StatusReport{report(1, st("a", ops.Working, 1))}, first.Reports)
	require.Equal(t, []node.Effect{{Kind: node.EffectCreate, ID: "c", Span: t2a, Checkpoint: 4}}, first.Effects)
	require.Len(t, first.Answers, 1)

	// Between Ready and Advance: a status, an effect and an answer, under a new epoch.
	require.NoError(t, n.Step(bootstrapReq(2)))
	require.NoError(t, n.Step(removeReq("b", t1b, 2)))
	require.NoError(t, n.Working("c"))
	n.Advance()
	require.True(t, n.HasReady())

	second := take(n)
	require.Equal(t, []protocol.StatusReport{report(2, st("c", ops.Working, 4))}, second.Reports)
	require.Equal(t, []node.Effect{{Kind: node.EffectClose, ID: "b", Span: t1b}}, second.Effects)
	require.Len(t, second.Answers, 1)
	require.Equal(t, ops.Epoch(2), second.Answers[0].Epoch)
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 2),
		disp("c", t2a, ops.Initializing, 4)}, second.Answers[0].Dispatchers)
	require.False(t, n.HasReady())
}

func TestReadyTwiceBeforeAdvance(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Initializing, 2))
	require.NoError(t, n.Working("a"))
	first := peek(n)
	require.NoError(t, n.Working("b"))
	// The second Ready returns everything since the last Advance, and Advance forgets all of
	// it.
	second := peek(n)
	require.Equal(t, []protocol.StatusReport{report(1, st("a", ops.Working, 1))}, first.Reports)
	require.Equal(t, []protocol.StatusReport{report(1, st("a", ops.Working, 1), st("b", ops.Working, 2))}, second.Reports)
	n.Advance()
	require.False(t, n.HasReady())
}

func TestAdvance(t *testing.T) {
	t.Run("with nothing", func(t *testing.T) {
		n := newNode(t, 1)
		n.Advance()
		require.False(t, n.HasReady())
		_ = n.Ready()
		n.Advance()
		n.Advance()
		require.Equal(t, node.Ready{}, take(n))
	})

	t.Run("without a Ready forgets nothing", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1))
		require.NoError(t, n.Working("a"))
		n.Advance()
		require.True(t, n.HasReady())
		require.Equal(t, []protocol.StatusReport{report(1, st("a", ops.Working, 1))}, take(n).Reports)
	})

	t.Run("twice forgets only the Ready's", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Initializing, 2))
		require.NoError(t, n.Working("a"))
		require.NoError(t, n.Step(createReq("c", t2All, 1, 0)))
		_ = n.Ready()
		n.Advance()
		require.NoError(t, n.Working("b"))
		require.NoError(t, n.Step(removeReq("c", t2All, 1)))
		require.NoError(t, n.Step(bootstrapReq(1)))
		n.Advance()
		rd := take(n)
		require.Equal(t, []protocol.StatusReport{report(1, st("b", ops.Working, 2))}, rd.Reports)
		require.Equal(t, []node.Effect{{Kind: node.EffectClose, ID: "c", Span: t2All}}, rd.Effects)
		require.Len(t, rd.Answers, 1)
	})

	t.Run("partial: more statuses than the Ready took", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 2), disp("c", t2All, ops.Working, 3))
		n.Tick()
		_ = n.Ready()
		require.NoError(t, n.Step(removeReq("x", t2a, 1)))
		n.Tick()
		n.Advance()
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(1, st("x", ops.Stopped, 0),
			st("a", ops.Working, 1), st("b", ops.Working, 2), st("c", ops.Working, 3))}}, take(n))
	})
}

func TestHasReady(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, n *node.Node)
		want node.Ready
	}{
		{"a status only", func(t *testing.T, n *node.Node) { require.NoError(t, n.Working("a")) },
			node.Ready{Reports: []protocol.StatusReport{report(1, st("a", ops.Working, 1))}}},
		{"an effect only", func(t *testing.T, n *node.Node) { require.NoError(t, n.Step(removeReq("a", t1a, 1))) },
			node.Ready{Effects: []node.Effect{{Kind: node.EffectClose, ID: "a", Span: t1a}}}},
		{"an answer only", func(t *testing.T, n *node.Node) { require.NoError(t, n.Step(bootstrapReq(1))) },
			node.Ready{Answers: []protocol.BootstrapAnswer{{Node: self, Changefeed: cf, Epoch: 1,
				Dispatchers: []protocol.Dispatcher{disp("a", t1a, ops.Initializing, 1)}, Removes: []ops.Record{}, Merges: []ops.Record{}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1))
			require.False(t, n.HasReady())
			tc.do(t, n)
			require.True(t, n.HasReady())
			require.True(t, n.HasReady()) // asking twice changes nothing
			_ = n.Ready()
			require.True(t, n.HasReady()) // until Advance
			require.Equal(t, tc.want, take(n))
			require.False(t, n.HasReady())
		})
	}
}

func TestReadyEffectsInOrder(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3), disp("c", t2a, ops.Working, 1))
	require.NoError(t, n.Step(createReq("x", t2b, 1, 2)))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.NoError(t, n.Step(removeReq("c", t2a, 1)))
	require.NoError(t, n.Prepared("m"))
	require.NoError(t, n.CommitMerge("m"))
	require.NoError(t, n.Step(removeReq("x", t2b, 1)))
	require.Equal(t, []node.Effect{
		{Kind: node.EffectCreate, ID: "x", Span: t2b, Checkpoint: 2},
		{Kind: node.EffectPrepareMerge, ID: "m", Span: t1All, Checkpoint: 3, Sources: []ops.DispatcherID{"a", "b"}},
		{Kind: node.EffectClose, ID: "c", Span: t2a},
		{Kind: node.EffectCommitMerge, ID: "m", Span: t1All, Checkpoint: 3, Sources: []ops.DispatcherID{"a", "b"}},
		{Kind: node.EffectClose, ID: "x", Span: t2b},
	}, take(n).Effects)
}

// TestReadySlicesAreCapped: appending to a Ready's slices does not write into what the
// node produces next.
func TestReadySlicesAreCapped(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Initializing, 1), disp("b", t1b, ops.Initializing, 2))
	require.NoError(t, n.Working("a"))
	require.NoError(t, n.Step(createReq("c", t2a, 1, 0)))
	require.NoError(t, n.Step(bootstrapReq(1)))
	rd := n.Ready()
	require.NoError(t, n.Working("b"))
	require.NoError(t, n.Step(createReq("x", t2b, 1, 0)))
	require.NoError(t, n.Step(bootstrapReq(2)))
	_ = append(rd.Reports[0].Statuses, st("junk", ops.Removed, 99))
	_ = append(rd.Effects, node.Effect{Kind: node.EffectAbortMerge, ID: "junk"})
	_ = append(rd.Answers, protocol.BootstrapAnswer{Node: "junk"})
	n.Advance()
	next := take(n)
	require.Equal(t, []protocol.StatusReport{report(1, st("b", ops.Working, 2))}, next.Reports)
	require.Equal(t, []node.Effect{{Kind: node.EffectCreate, ID: "x", Span: t2b}}, next.Effects)
	require.Len(t, next.Answers, 1)
	require.Equal(t, self, next.Answers[0].Node)
	require.Equal(t, ops.Epoch(2), next.Answers[0].Epoch)
}

// TestReadyLongRun: many rounds of Ready and Advance with events in between lose nothing
// and repeat nothing.
func TestReadyLongRun(t *testing.T) {
	n := newNode(t, 1)
	var created, stopped int
	for i := range 200 {
		id := ops.DispatcherID(string(rune('A'+i%26)) + string(rune('a'+i/26)))
		require.NoError(t, n.Step(createReq(id, ops.Span{Table: ops.TableID(i)}, 1, uint64(i))))
		if i%3 == 0 {
			rd := take(n)
			for _, e := range rd.Effects {
				require.Equal(t, node.EffectCreate, e.Kind)
				created++
			}
			for _, r := range rd.Reports {
				stopped += len(r.Statuses)
			}
		}
		require.NoError(t, n.Step(removeReq("gone", t1All, 1)))
		if i%7 == 0 {
			rd := n.Ready()
			require.NoError(t, n.Step(removeReq("gone", t1All, 1))) // kept for the next Ready
			for _, r := range rd.Reports {
				stopped += len(r.Statuses)
			}
			for range rd.Effects {
				created++
			}
			n.Advance()
		}
	}
	rd := take(n)
	for _, r := range rd.Reports {
		stopped += len(r.Statuses)
	}
	created += len(rd.Effects)
	require.Equal(t, 200, created)
	require.Equal(t, 200+29, stopped)
}
