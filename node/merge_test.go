package node_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func TestStepMergeStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		preload []protocol.Dispatcher
		srcs    []ops.DispatcherID
		ckpt    uint64
	}{
		{
			name:    "two halves",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)},
			srcs:    []ops.DispatcherID{"a", "b"},
			ckpt:    3,
		},
		{
			name:    "lowest checkpoint first",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 2), disp("b", t1b, ops.Working, 8)},
			srcs:    []ops.DispatcherID{"a", "b"},
			ckpt:    2,
		},
		{
			name: "three sources named out of key order",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.Working, 9), disp("b", t1a2, ops.Working, 4),
				disp("c", t1b, ops.Working, 6)},
			srcs: []ops.DispatcherID{"c", "a", "b"},
			ckpt: 4,
		},
		{
			name: "beside other dispatchers, a closing one across the span",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 7),
				removing(disp("x", t1mid, ops.Working, 1)), disp("y", t2All, ops.Working, 1)},
			srcs: []ops.DispatcherID{"a", "b"},
			ckpt: 5,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.preload...)
			rec := mergeRec("m", t1All, 1, tc.srcs...)
			require.NoError(t, n.Step(request(protocol.Merge, rec)))
			m, ok := n.Dispatcher("m")
			require.True(t, ok)
			require.Equal(t, disp("m", t1All, ops.Preparing, tc.ckpt), m)
			for _, d := range tc.preload {
				got, ok := n.Dispatcher(d.ID)
				require.True(t, ok)
				want := d
				if slices.Contains(tc.srcs, d.ID) {
					want.State = ops.WaitingMerge
				}
				require.Equal(t, want, got)
			}
			require.Len(t, n.Dispatchers(), len(tc.preload)+1)
			require.Equal(t, []ops.Record{rec}, n.MergeJournal())
			require.Empty(t, n.RemoveJournal())
			require.Equal(t, node.Ready{Effects: []node.Effect{
				{Kind: node.EffectPrepareMerge, ID: "m", Span: t1All, Checkpoint: tc.ckpt, Sources: tc.srcs},
			}}, take(n))
		})
	}
}

func TestStepMergeCannotStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		preload []protocol.Dispatcher
	}{
		{"a source Initializing", []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Initializing, 1)}},
		{"a source missing", []protocol.Dispatcher{disp("a", t1a, ops.Working, 1)}},
		{"a source closing", []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), removing(disp("b", t1b, ops.Working, 1))}},
		{"a source WaitingMerge", []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 1), disp("b", t1b, ops.Working, 1)}},
		{"no source", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.preload...)
			before := snap(n)
			require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
			require.Equal(t, before, snap(n))
			require.Empty(t, n.MergeJournal())
			require.False(t, n.HasReady())
		})
	}

	t.Run("keeps the journal entry of an earlier merge for its check", func(t *testing.T) {
		n := committedSwept(t)
		require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, n.MergeJournal())
		require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
		require.Equal(t, []ops.Record{mergeRec("m", t1All, 1, "a", "b")}, n.MergeJournal())
		require.Empty(t, n.Dispatchers())
		require.False(t, n.HasReady())
	})

	t.Run("a resent merge after a failed target leaves the abort to the check", func(t *testing.T) {
		n := preparing(t)
		require.NoError(t, n.PrepareFailed("m"))
		require.NoError(t, n.Closed("m", 0))
		_ = take(n)
		require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
		require.False(t, n.HasReady())
		require.Equal(t, []node.Action{{Kind: node.ActAbortMerge, ID: "m"}}, n.Enabled())
		require.NoError(t, n.AbortMerge("m"))
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)}, n.Dispatchers())
		// Now the merge can start again.
		require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
			disp("m", t1All, ops.Preparing, 3)}, n.Dispatchers())
	})
}

func TestStepMergeOfExisting(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      protocol.Dispatcher
		report bool
	}{
		{"Working", disp("m", t1All, ops.Working, 8), true},
		{"Working closing", removing(disp("m", t1All, ops.Working, 8)), false},
		{"Initializing", disp("m", t1All, ops.Initializing, 8), false},
		{"Preparing", disp("m", t1All, ops.Preparing, 8), false},
		{"MergeReady", disp("m", t1All, ops.MergeReady, 8), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 2, tc.m, removing(disp("a", t1a, ops.WaitingMerge, 8)))
			rec := mergeRec("m", t1All, 2, "a", "b")
			require.NoError(t, n.Step(request(protocol.Merge, rec)))
			require.Equal(t, []ops.Record{rec}, n.MergeJournal())
			require.Equal(t, []protocol.Dispatcher{removing(disp("a", t1a, ops.WaitingMerge, 8)), tc.m}, n.Dispatchers())
			var want node.Ready
			if tc.report {
				want.Reports = []protocol.StatusReport{report(2, st("m", ops.Working, 8))}
			}
			require.Equal(t, want, take(n))

			// A repeat re-journals (the record of the repeat) and re-reports alike.
			again := rec
			again.Checkpoint = 11
			require.NoError(t, n.Step(request(protocol.Merge, again)))
			require.Equal(t, []ops.Record{again}, n.MergeJournal())
			require.Equal(t, want, take(n))
		})
	}

	t.Run("while preparing: no second PrepareMerge", func(t *testing.T) {
		n := preparing(t)
		before := snap(n)
		require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
		require.Equal(t, before, snap(n))
		require.False(t, n.HasReady())
	})
}

func TestStepMergeRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		preload []protocol.Dispatcher
		span    ops.Span
		srcs    []ops.DispatcherID
		cause   error
	}{
		{
			name:    "not adjacent",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    t1All, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "short of the end",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.Working, 1), disp("b", t1a2, ops.Working, 1)},
			span:    t1All, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "beyond the end",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    ops.Span{Table: 1, End: "p"}, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "not from the start",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    ops.Span{Table: 1, Start: "f"}, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "a source of another table",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t2b, ops.Working, 1)},
			span:    t1All, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "the merged span in another table",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    t2All, srcs: []ops.DispatcherID{"a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "a source twice",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    t1a, srcs: []ops.DispatcherID{"a", "a"}, cause: node.ErrBadMerge,
		},
		{
			name:    "the sources twice round",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    t1All, srcs: []ops.DispatcherID{"a", "b", "a", "b"}, cause: node.ErrBadMerge,
		},
		{
			name:    "an extra source after the open end",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1)},
			span:    t1All, srcs: []ops.DispatcherID{"a", "b", "a"}, cause: node.ErrBadMerge,
		},
		{
			name: "three sources, one off the span",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.Working, 1), disp("b", t1a2, ops.Working, 1),
				disp("c", t2b, ops.Working, 1)},
			span: t1a, srcs: []ops.DispatcherID{"a", "b", "c"}, cause: node.ErrBadMerge,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.preload...)
			before := snap(n)
			err := n.Step(mergeReq("m", tc.span, 1, tc.srcs...))
			requireRefused(t, err, protocol.Merge, "m", 1, tc.cause)
			require.Equal(t, before, snap(n))
			require.Empty(t, n.MergeJournal())
		})
	}
}

// TestRefusedMergeKeepsJournal: a refused merge changes nothing, also when the merge
// journal already holds an entry for the merged id (a committed merge whose dispatchers
// were swept before the journal cleanup ran).
func TestRefusedMergeKeepsJournal(t *testing.T) {
	n := committedSwept(t)
	require.NoError(t, n.Preload(disp("a", t1a1, ops.Working, 1), disp("b", t1b, ops.Working, 1)))
	before := snap(n)
	err := n.Step(mergeReq("m", t1All, 1, "a", "b"))
	requireRefused(t, err, protocol.Merge, "m", 1, node.ErrBadMerge)
	require.Equal(t, before, snap(n))

	// Two sources that start at the same key: the tiling follows the first one listed.
	err = n.Step(mergeReq("z", t1All, 1, "a", "b"))
	requireRefused(t, err, protocol.Merge, "z", 1, node.ErrBadMerge)
	require.Equal(t, before, snap(n))
}

// TestMergeOverwriteRefused: a Merge for a merged dispatcher the node has is refused when
// it names other sources (or another span) than the merge in progress: overwriting the
// journal would let the merge checks commit and abort the wrong dispatchers, until two
// active dispatchers that are not closing cover the same keys. The later steps are run
// without checking their errors: whatever the node allows, no two overlap.
func TestMergeOverwriteRefused(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1),
		disp("c", t2a, ops.Working, 1), disp("x", t2b, ops.Working, 1))
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	require.NoError(t, n.Step(mergeReq("y", t2All, 1, "c", "x")))
	requireRefused(t, n.Step(mergeReq("m", t1All, 1, "c", "x")), protocol.Merge, "m", 1, node.ErrBadMerge) // m's sources are a and b
	requireRefused(t, n.Step(mergeReq("m", t2All, 1, "a", "b")), protocol.Merge, "m", 1, node.ErrBadMerge) // m's span is t1All
	_ = n.Prepared("m")
	_ = n.CommitMerge("m")
	_ = n.Working("m")
	_ = n.Step(mergeReq("y", t2All, 1, "a", "b")) // y's sources are c and x
	_ = n.Step(removeReq("y", t2All, 1))
	_ = n.AbortMerge("y")
	require.Empty(t, activeOverlaps(n))
}

// TestMergeResendAfterAbort: a late duplicate of an aborted merge's request re-journals
// the closing merged dispatcher (as the spec does) and the next merge check aborts it
// again, but leaves its sources waiting for the later merge of the same span.
func TestMergeResendAfterAbort(t *testing.T) {
	n := preparing(t)
	require.NoError(t, n.Step(removeReq("m", t1All, 1)))
	require.NoError(t, n.AbortMerge("m")) // a and b Working again; m closing, still Preparing
	require.NoError(t, n.Step(mergeReq("y", t1All, 1, "a", "b")))
	_ = n.Step(mergeReq("m", t1All, 1, "a", "b")) // the late duplicate
	n.Tick()
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
		removing(disp("m", t1All, ops.Preparing, 3)), disp("y", t1All, ops.Preparing, 3)}, n.Dispatchers())
}

// TestAbortLeavesSourcesOfAnotherMerge: aborting a merge sends back to Working only the
// sources no other journaled merge, pre-commit and not closing, waits on: here a second
// merge of the same sources, MergeReady, keeps them (and a Preparing one would too).
func TestAbortLeavesSourcesOfAnotherMerge(t *testing.T) {
	for _, other := range []ops.ComponentState{ops.MergeReady, ops.Preparing} {
		n := newNode(t, 1)
		require.NoError(t, n.Restore(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 1,
			Dispatchers: []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
				removing(disp("m1", t1All, ops.Preparing, 3)), disp("m2", t1All, other, 3)},
			Merges: []ops.Record{mergeRec("m1", t1All, 1, "a", "b"), mergeRec("m2", t1All, 1, "a", "b")}}))
		require.NoError(t, n.AbortMerge("m1"))
		for _, id := range []ops.DispatcherID{"a", "b"} {
			d, ok := n.Dispatcher(id)
			require.True(t, ok)
			require.Equal(t, ops.WaitingMerge, d.State, "%s, the other merge %s", id, other)
		}
	}
}
