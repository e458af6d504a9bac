package node_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func TestNewAndAccessors(t *testing.T) {
	n, err := node.New(node.Config{Node: self, Changefeed: cf, Owner: 4})
	require.NoError(t, err)
	require.Equal(t, self, n.Name())
	require.Equal(t, ops.Epoch(4), n.Owner())
	d, r, m := n.Len()
	require.Equal(t, [3]int{0, 0, 0}, [3]int{d, r, m})
	require.Empty(t, n.Dispatchers())
	require.Empty(t, n.RemoveJournal())
	require.Empty(t, n.MergeJournal())
	require.False(t, n.HasReady())
	require.Empty(t, n.Enabled())
	_, ok := n.Dispatcher("a")
	require.False(t, ok)

	for _, tc := range []struct {
		name string
		cfg  node.Config
	}{
		{"no node name", node.Config{Changefeed: cf, Owner: 1}},
		{"no changefeed", node.Config{Node: self, Owner: 1}},
		{"neither", node.Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := node.New(tc.cfg)
			require.Nil(t, n)
			require.ErrorIs(t, err, node.ErrInvalidDispatcher)
			require.EqualError(t, err, "node: invalid dispatcher: need a node name and a changefeed")
		})
	}
}

func TestStepCreate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		preload []protocol.Dispatcher
		req     protocol.Request
		want    []protocol.Dispatcher // nil: the node must not change at all
		effects []node.Effect
		refuse  error
	}{
		{
			name: "new dispatcher starts Initializing at the record's checkpoint",
			req:  createReq("a", t1a, 1, 7),
			want: []protocol.Dispatcher{disp("a", t1a, ops.Initializing, 7)},
			effects: []node.Effect{
				{Kind: node.EffectCreate, ID: "a", Span: t1a, Checkpoint: 7},
			},
		},
		{
			name:    "next to a Working dispatcher",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 4)},
			req:     createReq("b", t1b, 1, 9),
			want:    []protocol.Dispatcher{disp("a", t1a, ops.Working, 4), disp("b", t1b, ops.Initializing, 9)},
			effects: []node.Effect{{Kind: node.EffectCreate, ID: "b", Span: t1b, Checkpoint: 9}},
		},
		{
			name:    "same keys of another table",
			preload: []protocol.Dispatcher{disp("a", t1All, ops.Working, 4)},
			req:     createReq("c", t2All, 1, 2),
			want:    []protocol.Dispatcher{disp("a", t1All, ops.Working, 4), disp("c", t2All, ops.Initializing, 2)},
			effects: []node.Effect{{Kind: node.EffectCreate, ID: "c", Span: t2All, Checkpoint: 2}},
		},
		{
			name:    "existing id dropped silently",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 4)},
			req:     createReq("a", t1All, 1, 9),
		},
		{
			name:    "existing closing id dropped silently",
			preload: []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 4))},
			req:     createReq("a", t1a, 1, 9),
		},
		{
			name:    "overlapping a Working dispatcher refused",
			preload: []protocol.Dispatcher{disp("a", t1a, ops.Working, 4)},
			req:     createReq("x", t1mid, 1, 9),
			refuse:  node.ErrOverlap,
		},
		{
			name:    "overlapping an Initializing dispatcher refused",
			preload: []protocol.Dispatcher{disp("b", t1b, ops.Initializing, 4)},
			req:     createReq("x", t1All, 1, 9),
			refuse:  node.ErrOverlap,
		},
		{
			name:    "overlapping a WaitingMerge dispatcher refused",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.WaitingMerge, 4)},
			req:     createReq("x", t1a, 1, 9),
			refuse:  node.ErrOverlap,
		},
		{
			name:    "overlapping a Preparing dispatcher refused",
			preload: []protocol.Dispatcher{disp("m", t1All, ops.Preparing, 4)},
			req:     createReq("x", t1a2, 1, 9),
			refuse:  node.ErrOverlap,
		},
		{
			name: "overlapping one of several refused",
			preload: []protocol.Dispatcher{disp("a", t1a1, ops.Working, 1), removing(disp("b", t1a2, ops.Working, 1)),
				disp("c", t1b, ops.Working, 1)},
			req:    createReq("x", t1mid, 1, 9),
			refuse: node.ErrOverlap,
		},
		{
			name:    "overlapping only closing dispatchers admitted",
			preload: []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 4)), removing(disp("b", t1b, ops.WaitingMerge, 6))},
			req:     createReq("x", t1mid, 1, 9),
			want: []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 4)), removing(disp("b", t1b, ops.WaitingMerge, 6)),
				disp("x", t1mid, ops.Initializing, 9)},
			effects: []node.Effect{{Kind: node.EffectCreate, ID: "x", Span: t1mid, Checkpoint: 9}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, 1, tc.preload...)
			before := snap(n)
			err := n.Step(tc.req)
			if tc.refuse != nil {
				re := requireRefused(t, err, protocol.Create, tc.req.Record.ID, 1, tc.refuse)
				require.Contains(t, re.Error(), `node n1: Create of "x" from epoch 1 refused: span overlaps a dispatcher that is not closing: `)
				require.Equal(t, before, snap(n))
				return
			}
			require.NoError(t, err)
			if tc.want == nil {
				require.Equal(t, before, snap(n))
				require.False(t, n.HasReady())
				return
			}
			require.Equal(t, tc.want, n.Dispatchers())
			require.Empty(t, n.RemoveJournal())
			require.Empty(t, n.MergeJournal())
			require.Equal(t, node.Ready{Effects: tc.effects}, take(n))
		})
	}
}

func TestStepRemove(t *testing.T) {
	t.Run("existing dispatcher closes and is journaled", func(t *testing.T) {
		n := newNode(t, 3, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Initializing, 2))
		rec := removeRec("a", t1a, 3)
		require.NoError(t, n.Step(request(protocol.Remove, rec)))
		require.Equal(t, []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 5)), disp("b", t1b, ops.Initializing, 2)}, n.Dispatchers())
		require.Equal(t, []ops.Record{rec}, n.RemoveJournal())
		require.Equal(t, ops.Epoch(3), n.RemoveJournal()[0].Epoch)
		require.Empty(t, n.MergeJournal())
		require.Equal(t, node.Ready{Effects: []node.Effect{{Kind: node.EffectClose, ID: "a", Span: t1a}}}, take(n))

		// A repeat (here a move of the same dispatcher) re-journals without a second Close.
		again := moveRec("a", t1a, 3)
		require.NoError(t, n.Step(request(protocol.Remove, again)))
		require.Equal(t, []ops.Record{again}, n.RemoveJournal())
		require.Equal(t, removing(disp("a", t1a, ops.Working, 5)), n.Dispatchers()[0])
		require.False(t, n.HasReady())
		require.Equal(t, node.Ready{}, take(n))
	})

	t.Run("repeat before Ready leaves one Close", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Initializing, 5))
		require.NoError(t, n.Step(removeReq("a", t1a, 1)))
		require.NoError(t, n.Step(removeReq("a", t1a, 1)))
		require.Equal(t, node.Ready{Effects: []node.Effect{{Kind: node.EffectClose, ID: "a", Span: t1a}}}, take(n))
		d, r, m := n.Len()
		require.Equal(t, [3]int{1, 1, 0}, [3]int{d, r, m})
	})

	t.Run("a dispatcher already closing is journaled without a Close", func(t *testing.T) {
		n := newNode(t, 1, removing(disp("a", t1a, ops.WaitingMerge, 5)))
		require.NoError(t, n.Step(removeReq("a", t1a, 1)))
		require.Equal(t, []ops.Record{removeRec("a", t1a, 1)}, n.RemoveJournal())
		require.False(t, n.HasReady())
	})

	t.Run("missing dispatcher answers Stopped and journals nothing", func(t *testing.T) {
		n := newNode(t, 2, disp("a", t1a, ops.Working, 5))
		require.NoError(t, n.Step(removeReq("x", t1b, 2)))
		require.Empty(t, n.RemoveJournal())
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 5)}, n.Dispatchers())
		require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(2, st("x", ops.Stopped, 0))}}, take(n))
	})
}

func TestStepFence(t *testing.T) {
	reqs := []struct {
		kind protocol.Kind
		req  func(e ops.Epoch) protocol.Request
	}{
		{protocol.Create, func(e ops.Epoch) protocol.Request { return createReq("x", t2All, e, 1) }},
		{protocol.Create, func(e ops.Epoch) protocol.Request { return createReq("a", t1a, e, 1) }},
		{protocol.Remove, func(e ops.Epoch) protocol.Request { return removeReq("a", t1a, e) }},
		{protocol.Remove, func(e ops.Epoch) protocol.Request { return removeReq("x", t2All, e) }},
		{protocol.Merge, func(e ops.Epoch) protocol.Request { return mergeReq("m", t1All, e, "a", "b") }},
	}
	for _, r := range reqs {
		for _, e := range []ops.Epoch{1, 3} {
			req := r.req(e)
			t.Run(req.Kind.String()+"/"+string(req.Record.ID)+"/"+fmt.Sprint("epoch", e), func(t *testing.T) {
				n := halves(t)
				require.NoError(t, n.Step(bootstrapReq(2)))
				_ = n.Ready()
				n.Advance()
				// A merge journal entry and a remove journal entry to compare.
				require.NoError(t, n.Preload(disp("c", t2a, ops.Working, 1)))
				require.NoError(t, n.Step(removeReq("c", t2a, 2)))
				require.NoError(t, n.Step(mergeReq("m", t1All, 2, "a", "b")))
				nd, nr, nm := n.Len()
				require.Equal(t, [3]int{4, 1, 1}, [3]int{nd, nr, nm})
				before := snap(n)
				err := n.Step(req)
				re := requireRefused(t, err, r.kind, req.Record.ID, e, node.ErrFenced)
				require.Contains(t, re.Error(), "fenced: not from the maintainer the node obeys: epoch")
				require.Equal(t, before, snap(n))
				require.Equal(t, ops.Epoch(2), n.Owner())
			})
		}
	}

	t.Run("bootstrap of an older epoch", func(t *testing.T) {
		n := newNode(t, 3, disp("a", t1a, ops.Working, 1))
		before := snap(n)
		err := n.Step(bootstrapReq(2))
		re := requireRefused(t, err, protocol.Bootstrap, "", 2, node.ErrFenced)
		require.EqualError(t, re, `node n1: Bootstrap of "" from epoch 2 refused: fenced: not from the maintainer the node obeys: bootstrap of epoch 2, the node obeys 3`)
		require.Equal(t, before, snap(n))
		require.Equal(t, node.Ready{}, take(n))
	})

	t.Run("current epoch passes", func(t *testing.T) {
		n := newNode(t, 2)
		require.NoError(t, n.Step(createReq("x", t2All, 2, 1)))
		require.Len(t, n.Dispatchers(), 1)
	})
}

func TestStepWrongChangefeed(t *testing.T) {
	for _, req := range []protocol.Request{
		createReq("x", t2All, 1, 1),
		removeReq("a", t1a, 1),
		mergeReq("m", t1All, 1, "a", "b"),
		bootstrapReq(2),
	} {
		for _, feed := range []ops.ChangefeedID{"other", ""} {
			t.Run(req.Kind.String()+"/"+string(feed), func(t *testing.T) {
				n := halves(t)
				req := req
				req.Changefeed = feed
				req.Record.Changefeed = feed
				before := snap(n)
				err := n.Step(req)
				requireRefused(t, err, req.Kind, req.Record.ID, req.Epoch, node.ErrWrongChangefeed)
				var de *fsm.DecodeError
				require.False(t, errors.As(err, &de))
				require.Equal(t, before, snap(n))
			})
		}
	}
}

func TestStepInvalid(t *testing.T) {
	mismatch := createReq("x", t2All, 1, 1)
	mismatch.Record.Epoch = 2
	boot := bootstrapReq(2)
	boot.Record = addRec("x", t2All, 2, 1)
	bootFeed := bootstrapReq(2)
	bootFeed.Record.Changefeed = cf
	zero := removeReq("a", t1a, 1)
	zero.Epoch, zero.Record.Epoch = 0, 0
	unknown := createReq("x", t2All, 1, 1)
	unknown.Kind = 9
	noDest := createReq("x", t2All, 1, 1)
	noDest.Record.Dest = ""
	wrongType := request(protocol.Merge, addRec("m", t1All, 1, 1))
	removeMerge := request(protocol.Remove, mergeRec("m", t1All, 1, "a", "b"))
	oneSource := mergeReq("m", t1All, 1, "a")
	recFeed := createReq("x", t2All, 1, 1)
	recFeed.Record.Changefeed = "other"
	badSpan := createReq("x", ops.Span{Table: 1, Start: "p", End: "f"}, 1, 1)
	noOrigin := removeReq("a", t1a, 1)
	noOrigin.Record.Origin = ""
	noOrigin.Record.Type = ops.TypeAdd
	noOrigin.Record.Dest = self
	noOrigin.Record.Hook = ops.HookNone

	for _, tc := range []struct {
		name  string
		req   protocol.Request
		cause error
	}{
		{"record epoch differs from the envelope's", mismatch, protocol.ErrEpochMismatch},
		{"record changefeed differs from the envelope's", recFeed, protocol.ErrEpochMismatch},
		{"bootstrap with a record", boot, protocol.ErrInvalidMessage},
		{"bootstrap with a record's changefeed", bootFeed, protocol.ErrInvalidMessage},
		{"epoch 0", zero, protocol.ErrInvalidMessage},
		{"unknown kind", unknown, protocol.ErrUnknownKind},
		{"create without destination", noDest, ops.ErrInvalidRecord},
		{"merge with an add record", wrongType, protocol.ErrInvalidMessage},
		{"remove with a merge record", removeMerge, protocol.ErrInvalidMessage},
		{"merge of one source", oneSource, ops.ErrInvalidRecord},
		{"empty span", badSpan, ops.ErrInvalidSpan},
		{"remove with an add record", noOrigin, protocol.ErrInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := preparing(t)
			require.NoError(t, n.Step(removeReq("a", t1a, 1)))
			_ = n.Ready()
			n.Advance()
			before := snap(n)
			err := n.Step(tc.req)
			requireRefused(t, err, tc.req.Kind, tc.req.Record.ID, tc.req.Epoch, tc.cause)
			var de *fsm.DecodeError
			require.ErrorAs(t, err, &de)
			require.NotErrorIs(t, err, node.ErrFenced)
			require.Equal(t, before, snap(n))
		})
	}
}

func TestStepBootstrap(t *testing.T) {
	for _, e := range []ops.Epoch{1, 2, 7} {
		t.Run(fmt.Sprint("epoch", e), func(t *testing.T) {
			n := newNode(t, 1, disp("c", t2a, ops.Working, 4), disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3),
				disp("x", t2b, ops.Initializing, 6))
			mrec := mergeRec("m", t1All, 1, "a", "b")
			rrec := removeRec("c", t2a, 1)
			require.NoError(t, n.Step(request(protocol.Merge, mrec)))
			require.NoError(t, n.Step(request(protocol.Remove, rrec)))
			_ = n.Ready()
			n.Advance()

			require.NoError(t, n.Step(bootstrapReq(e)))
			require.Equal(t, e, n.Owner())
			want := protocol.BootstrapAnswer{
				Node: self, Changefeed: cf, Epoch: e,
				Dispatchers: []protocol.Dispatcher{
					disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
					removing(disp("c", t2a, ops.Working, 4)), disp("m", t1All, ops.Preparing, 3), disp("x", t2b, ops.Initializing, 6),
				},
				Removes: []ops.Record{rrec},
				Merges:  []ops.Record{mrec},
			}
			require.Equal(t, node.Ready{Answers: []protocol.BootstrapAnswer{want}}, take(n))

			// The node obeys e now: a request of e passes, one of epoch 1 (if older) is fenced,
			// and statuses carry e.
			require.NoError(t, n.Step(removeReq("q", t2All, e)))
			if e > 1 {
				requireRefused(t, n.Step(removeReq("q", t2All, 1)), protocol.Remove, "q", 1, node.ErrFenced)
			}
			require.Equal(t, node.Ready{Reports: []protocol.StatusReport{report(e, st("q", ops.Stopped, 0))}}, take(n))
		})
	}

	t.Run("empty node", func(t *testing.T) {
		n := newNode(t, 0)
		require.NoError(t, n.Step(bootstrapReq(1)))
		rd := take(n)
		require.Equal(t, []protocol.BootstrapAnswer{{Node: self, Changefeed: cf, Epoch: 1,
			Dispatchers: []protocol.Dispatcher{}, Removes: []ops.Record{}, Merges: []ops.Record{}}}, rd.Answers)
		require.Empty(t, rd.Reports)
		require.Empty(t, rd.Effects)
	})

	t.Run("answers in order", func(t *testing.T) {
		n := newNode(t, 1, disp("a", t1a, ops.Working, 5))
		require.NoError(t, n.Step(bootstrapReq(2)))
		require.NoError(t, n.Step(removeReq("a", t1a, 2)))
		require.NoError(t, n.Step(bootstrapReq(3)))
		requireRefused(t, n.Step(bootstrapReq(2)), protocol.Bootstrap, "", 2, node.ErrFenced)
		rd := take(n)
		require.Len(t, rd.Answers, 2)
		require.Equal(t, ops.Epoch(2), rd.Answers[0].Epoch)
		require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 5)}, rd.Answers[0].Dispatchers)
		require.Empty(t, rd.Answers[0].Removes)
		require.Equal(t, ops.Epoch(3), rd.Answers[1].Epoch)
		require.Equal(t, []protocol.Dispatcher{removing(disp("a", t1a, ops.Working, 5))}, rd.Answers[1].Dispatchers)
		require.Equal(t, []ops.Record{removeRec("a", t1a, 2)}, rd.Answers[1].Removes)
		require.Equal(t, []node.Effect{{Kind: node.EffectClose, ID: "a", Span: t1a}}, rd.Effects)
	})
}

func TestStepLogging(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	n, err := node.New(node.Config{Node: self, Changefeed: cf, Owner: 1, Logger: zap.New(core)})
	require.NoError(t, err)

	require.NoError(t, n.Step(bootstrapReq(1))) // same epoch: no owner change logged
	require.Zero(t, logs.Len())
	require.NoError(t, n.Step(bootstrapReq(3)))
	entries := logs.TakeAll()
	require.Len(t, entries, 1)
	require.Equal(t, zapcore.InfoLevel, entries[0].Level)
	require.Equal(t, "maintainer changed", entries[0].Message)
	require.Equal(t, map[string]any{"node": "n1", "from": uint64(1), "to": uint64(3)}, entries[0].ContextMap())

	require.Error(t, n.Step(createReq("x", t1All, 2, 1)))
	entries = logs.TakeAll()
	require.Len(t, entries, 1)
	require.Equal(t, zapcore.DebugLevel, entries[0].Level)
	require.Equal(t, "request refused", entries[0].Message)
	ctx := entries[0].ContextMap()
	require.Equal(t, "n1", ctx["node"])
	require.Equal(t, "Create", ctx["kind"])
	require.Equal(t, "x", ctx["id"])
	require.Equal(t, uint64(2), ctx["epoch"])
	require.Contains(t, ctx["error"], "fenced")

	// Accepted requests and statuses log nothing.
	require.NoError(t, n.Step(createReq("x", t1All, 3, 1)))
	require.NoError(t, n.Working("x"))
	n.Tick()
	require.Zero(t, logs.Len())

	// A logger above debug level drops refusals.
	infoCore, infoLogs := observer.New(zapcore.InfoLevel)
	n2, err := node.New(node.Config{Node: self, Changefeed: cf, Owner: 1, Logger: zap.New(infoCore)})
	require.NoError(t, err)
	require.Error(t, n2.Step(createReq("x", t1All, 2, 1)))
	require.Zero(t, infoLogs.Len())
}

// TestEachDispatcher: EachDispatcher visits exactly the dispatchers Dispatchers lists, once
// each, also after a sweep freed a slot.
func TestEachDispatcher(t *testing.T) {
	n := newNode(t, 1, disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1), disp("c", ops.Span{Table: 2}, ops.Working, 1))
	require.NoError(t, n.Step(removeReq("b", t1b, 1)))
	require.NoError(t, n.Closed("b", 2))
	var seen []protocol.Dispatcher
	n.EachDispatcher(func(d protocol.Dispatcher) { seen = append(seen, d) })
	slices.SortFunc(seen, func(x, y protocol.Dispatcher) int { return strings.Compare(string(x.ID), string(y.ID)) })
	require.Equal(t, n.Dispatchers(), seen)
	require.Len(t, seen, 2)
}

// TestJournalInIDOrder: RemoveJournal lists its records by dispatcher id whatever the
// order they were written in (a snapshot and a model checker's fingerprint rely on it).
func TestJournalInIDOrder(t *testing.T) {
	var ds []protocol.Dispatcher
	var want []ops.Record
	for i := range 12 {
		id := ops.DispatcherID(fmt.Sprintf("d%02d", i))
		sp := ops.Span{Table: ops.TableID(i + 1)}
		ds = append(ds, disp(id, sp, ops.Working, 1))
		want = append(want, removeRec(id, sp, 1))
	}
	n := newNode(t, 1, ds...)
	for i := len(ds) - 1; i >= 0; i-- {
		require.NoError(t, n.Step(removeReq(ds[i].ID, ds[i].Span, 1)))
	}
	require.Equal(t, want, n.RemoveJournal())
	requireWalks(t, n)
}
