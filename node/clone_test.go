package node_test

import (
	"errors"
	"fmt"
	"sync"
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

// A step is one thing done to a node: a request, a host event, a check, or the host
// taking the node's Ready.
type step func(n *node.Node) error

func req(r protocol.Request) step { return func(n *node.Node) error { return n.Step(r) } }

func act(k node.ActionKind, id ops.DispatcherID) step {
	return func(n *node.Node) error { return n.Apply(node.Action{Kind: k, ID: id}) }
}

func closed(id ops.DispatcherID, ckpt uint64) step {
	return func(n *node.Node) error { return n.Closed(id, ckpt) }
}

func advanced(id ops.DispatcherID, ckpt uint64) step {
	return func(n *node.Node) error { return n.Advanced(id, ckpt) }
}

func tick(n *node.Node) error    { n.Tick(); return nil }
func ready(n *node.Node) error   { _ = n.Ready(); return nil }
func advance(n *node.Node) error { n.Advance(); return nil }

// run takes steps on n, each of which must succeed.
func run(t *testing.T, n *node.Node, steps ...step) {
	t.Helper()
	for i, s := range steps {
		require.NoError(t, s(n), "step %d", i)
	}
}

var t3 = ops.Span{Table: 3}

// worn is a node whose storage has room to grow in place: a, b (table 1), x (table 2) and
// s (table 3) Working and c (table 2) closing with its Remove journaled, after s was
// removed, swept and created again (a freed slot taken back in the dispatchers, the remove
// journal and table 3's list), a bootstrap answered, and its Ready taken (the outbox keeps
// its arrays).
func worn(t *testing.T) *node.Node {
	n := newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3), disp("c", t2a, ops.Working, 7),
		disp("x", t2b, ops.Working, 2), disp("s", t3, ops.Working, 9))
	run(t, n, req(removeReq("s", t3, 1)), closed("s", 9), req(createReq("s", t3, 1, 9)), act(node.ActWorking, "s"),
		req(removeReq("c", t2a, 1)), req(bootstrapReq(1)), ready, advance)
	return n
}

// prepared is preparing after its merged dispatcher m became MergeReady; failed, after m
// failed to prepare; sourcesClosing, after both sources of m got a Remove.
func prepared(t *testing.T) *node.Node {
	n := preparing(t)
	run(t, n, act(node.ActPrepared, "m"))
	return n
}

func failed(t *testing.T) *node.Node {
	n := preparing(t)
	run(t, n, act(node.ActPrepareFail, "m"), ready, advance)
	return n
}

func sourcesClosing(t *testing.T) *node.Node {
	n := preparing(t)
	run(t, n, req(removeReq("a", t1a, 1)), req(removeReq("b", t1b, 1)), ready, advance)
	return n
}

// committed is prepared after m committed and started: its sources are closing.
func committed(t *testing.T) *node.Node {
	n := prepared(t)
	run(t, n, act(node.ActCommit, "m"), act(node.ActWorking, "m"), ready, advance)
	return n
}

func richAnswers(t *testing.T) *node.Node   { return rich(t, true) }
func richNoAnswers(t *testing.T) *node.Node { return rich(t, false) }

// A write is one way of changing a node: steps taken on the node build returns.
type write struct {
	name  string
	build func(t *testing.T) *node.Node
	steps []step
	// host: the steps change what Ready returned, as a host may, Effect.Sources included:
	// a node that was never cloned shares those with its journal, so no reference node
	// can repeat such steps.
	host bool
}

// writes are the ways of changing a node, each from a node where it changes something.
// The first step of each is the first write of some part of the node's storage after a
// Clone: a dispatcher's state, the dispatchers' index, the lists by table, a journal, the
// pending Ready, the owner.
func writes() []write {
	ws := []write{
		{name: "merge", build: halves, steps: []step{req(mergeReq("m", t1All, 1, "a", "b"))}},
		{name: "merge again", build: preparing, steps: []step{req(mergeReq("m", t1All, 1, "a", "b"))}},
		{name: "Prepared", build: preparing, steps: []step{act(node.ActPrepared, "m")}},
		{name: "PrepareFailed", build: preparing, steps: []step{act(node.ActPrepareFail, "m")}},
		{name: "CommitMerge", build: prepared, steps: []step{act(node.ActCommit, "m")}},
		{name: "AbortMerge resuming its sources", build: failed, steps: []step{act(node.ActAbortMerge, "m")}},
		{name: "AbortMerge of closing sources", build: sourcesClosing, steps: []step{act(node.ActAbortMerge, "m")}},
		{name: "AbortMerge without its merged dispatcher", build: committedSwept, steps: []step{act(node.ActAbortMerge, "m")}},
		// A journal cleanup must wait for both: the sweeps of the sources change the table's
		// list only in the node that swept them.
		{name: "Closed, both sources of a merge", build: committed, steps: []step{closed("a", 0), closed("b", 0)}},
		{name: "CleanupMergeJournal", build: committedSwept, steps: []step{act(node.ActJournalCleanup, "m")}},
		{name: "Restore", build: func(t *testing.T) *node.Node { return newNode(t, 1) }, steps: []step{func(n *node.Node) error {
			return n.Restore(protocol.BootstrapAnswer{Changefeed: cf, Epoch: 3,
				Dispatchers: []protocol.Dispatcher{disp("a", t1a, ops.WaitingMerge, 5), disp("b", t1b, ops.WaitingMerge, 3),
					disp("m", t1All, ops.Preparing, 3), removing(disp("r", t2All, ops.Working, 7))},
				Removes: []ops.Record{removeRec("r", t2All, 3)}, Merges: []ops.Record{mergeRec("m", t1All, 3, "a", "b")}})
		}}},
		{name: "remove of a missing dispatcher, journaled", build: func(t *testing.T) *node.Node {
			return withBugs(newNode(t, 1), seeded.NodeBugs{JournalMissingRemove: true})
		}, steps: []step{req(removeReq("q", t2All, 1))}},
		{name: "Closed, its table's list with room", build: worn, steps: []step{closed("c", 8)}},
		{name: "create into a freed slot", build: worn, steps: []step{req(removeReq("a", t1a, 1)), closed("a", 0),
			req(createReq("a", t1a, 1, 6))}},
	}
	for _, r := range []struct {
		name  string
		build func(t *testing.T) *node.Node
	}{{"", richAnswers}, {"/no answers", richNoAnswers}} {
		for _, w := range []write{
			{name: "Working", steps: []step{act(node.ActWorking, "m")}},
			{name: "Advanced", steps: []step{advanced("y", 99)}},
			{name: "Closed, journaled", steps: []step{closed("c", 8)}},
			{name: "Closed, not journaled", steps: []step{closed("a", 0)}},
			{name: "Tick", steps: []step{tick}},
			{name: "create", steps: []step{req(createReq("z", ops.Span{Table: 6}, 2, 0))}},
			{name: "create in a table the node has", steps: []step{req(createReq("z", t2a, 2, 0))}},
			{name: "remove", steps: []step{req(removeReq("x", t2b, 2))}},
			{name: "remove again", steps: []step{req(removeReq("c", t2a, 2))}},
			{name: "remove of a missing dispatcher", steps: []step{req(removeReq("q", t2All, 2))}},
			{name: "bootstrap", steps: []step{req(bootstrapReq(3))}},
			{name: "bootstrap again", steps: []step{req(bootstrapReq(2))}},
			{name: "Advance", steps: []step{advance}},
			{name: "Ready, Advance and Tick", steps: []step{ready, advance, tick}},
			{name: "preload", steps: []step{func(n *node.Node) error {
				return n.Preload(disp("p", ops.Span{Table: 9}, ops.Working, 1))
			}}},
			{name: "host events and checks", steps: []step{closed("a", 0), act(node.ActWorking, "m"), advanced("b", 99),
				closed("s", 0), tick}},
			{name: "requests", steps: []step{req(bootstrapReq(5)), req(removeReq("y", ops.Span{Table: 4}, 5)),
				req(createReq("z", ops.Span{Table: 6}, 5, 0)), req(removeReq("x", t2b, 5)), closed("x", 0),
				req(createReq("w", t2b, 5, 0))}},
			{name: "what Ready returns", host: true, steps: []step{func(n *node.Node) error {
				rd := n.Ready()
				rd.Reports[0].Statuses[0] = st("junk", ops.Removed, 1)
				rd.Effects[0].Sources[0] = "junk"
				rd.Effects[1] = node.Effect{ID: "junk"}
				if len(rd.Answers) > 0 {
					rd.Answers[0] = protocol.BootstrapAnswer{Node: "junk"}
				}
				return nil
			}}},
		} {
			w.name, w.build = w.name+r.name, r.build
			ws = append(ws, w)
		}
	}
	return ws
}

// TestCloneIndependent: a write to a clone leaves the original as it was, and a write to
// the original leaves the clone as it was, for every kind of write; the written node
// ends as if it had never been cloned.
func TestCloneIndependent(t *testing.T) {
	for _, w := range writes() {
		for _, side := range []string{"clone", "original"} {
			t.Run(w.name+"/"+side, func(t *testing.T) {
				want := w.build(t) // built alike, never cloned
				n := w.build(t)
				kept, written := n, n.Clone()
				if side == "original" {
					kept, written = written, kept
				}
				run(t, written, w.steps...)
				requireSame(t, want, kept)
				if !w.host {
					ref := w.build(t)
					run(t, ref, w.steps...)
					requireSame(t, ref, written)
				}
			})
		}
	}
}

// another is a write of any node that adds to its dispatchers, their index and lists by
// table, and to each of the pending Ready's arrays: a dispatcher in a table of its own
// (and its Create), a Stopped status, a bootstrap answer.
var another = []step{
	func(n *node.Node) error { return n.Step(createReq("zz", ops.Span{Table: 99}, n.Owner(), 0)) },
	func(n *node.Node) error { return n.Step(removeReq("zq", ops.Span{Table: 98}, n.Owner())) },
	func(n *node.Node) error { return n.Step(bootstrapReq(n.Owner())) },
}

// TestCloneBothWritten: each write on one of a clone and its original and another write
// on the other, in either order, leave each as if it had been written alone, also where
// their storage had room to grow in place (a freed slot, a table's list, the outbox's
// arrays), which writing one alone does not show.
func TestCloneBothWritten(t *testing.T) {
	for _, w := range writes() {
		if w.host {
			continue
		}
		for _, side := range []string{"clone", "original"} {
			for _, order := range []string{"first", "second"} {
				t.Run(w.name+"/"+side+"/"+order, func(t *testing.T) {
					n := w.build(t)
					other, written := n, n.Clone()
					if side == "original" {
						other, written = written, other
					}
					if order == "first" {
						run(t, written, w.steps...)
						run(t, other, another...)
					} else {
						run(t, other, another...)
						run(t, written, w.steps...)
					}
					want, ref := w.build(t), w.build(t)
					run(t, want, another...)
					run(t, ref, w.steps...)
					requireSame(t, want, other)
					requireSame(t, ref, written)
				})
			}
		}
	}
}

// TestCloneWrittenInTurns: a clone and its original written in turns, each its own way,
// are each after every step as if it had been written alone.
func TestCloneWrittenInTurns(t *testing.T) {
	for i, a := range wornScripts {
		for j, b := range wornScripts {
			if i == j {
				continue
			}
			t.Run(fmt.Sprintf("%d,%d", i, j), func(t *testing.T) {
				n, wantA, wantB := worn(t), worn(t), worn(t)
				c := n.Clone()
				for k := range max(len(a), len(b)) {
					if k < len(a) {
						require.NoError(t, a[k](n), "original, step %d", k)
						require.NoError(t, a[k](wantA))
					}
					if k < len(b) {
						require.NoError(t, b[k](c), "clone, step %d", k)
						require.NoError(t, b[k](wantB))
					}
					requireSame(t, wantA, n)
					requireSame(t, wantB, c)
				}
			})
		}
	}
}

// cycle removes, sweeps and creates again dispatcher id, then hands out the Ready.
func cycle(id ops.DispatcherID, s ops.Span, ckpt uint64) []step {
	return []step{req(removeReq(id, s, 1)), closed(id, ckpt), req(createReq(id, s, 1, ckpt)), act(node.ActWorking, id), ready,
		advance}
}

// wornScripts change a worn node, each its own way; the first write of some part (a
// dispatcher, the index, a journal, the pending Ready's statuses, effects or answers) is
// the same in several of them, with other contents.
var wornScripts = [][]step{
	cycle("a", t1a, 5),
	cycle("x", t2b, 2),
	{closed("c", 8), req(createReq("c", t2a, 1, 8)), act(node.ActWorking, "c"), tick, ready},
	{req(mergeReq("m", t1All, 1, "a", "b")), act(node.ActPrepared, "m"), act(node.ActCommit, "m"), closed("a", 0), ready,
		advance, closed("b", 0)},
	{req(bootstrapReq(2)), advanced("s", 20), tick, ready, advance, req(removeReq("q", t2All, 2))},
	{req(createReq("z", ops.Span{Table: 6}, 1, 0)), act(node.ActWorking, "z"), req(bootstrapReq(1))},
	{req(createReq("w", ops.Span{Table: 7}, 1, 0)), req(removeReq("w", ops.Span{Table: 7}, 1)), closed("w", 1)},
	{req(removeReq("q", t2All, 1)), tick},
	{req(bootstrapReq(3)), req(removeReq("b", t1b, 3))},
}

// TestCloneConcurrent: goroutines clone one node at once, read it, and write their clones
// (go test -race checks that no two of them touch the same memory unsynchronized); each
// clone ends as if it had been written alone, the original as it was.
func TestCloneConcurrent(t *testing.T) {
	n := worn(t)
	clones := make([]*node.Node, 4*len(wornScripts))
	errs := make([]error, len(clones))
	var wg sync.WaitGroup
	for i := range clones {
		wg.Go(func() {
			c := n.Clone()
			_ = n.Enabled()
			_, _ = n.Dispatcher("a")
			_, _, _ = n.Len()
			n.EachDispatcher(func(protocol.Dispatcher) {})
			_, _, _, _ = n.Dispatchers(), n.RemoveJournal(), n.MergeJournal(), n.HasReady()
			script := wornScripts[i%len(wornScripts)]
			if i%2 == 1 { // a clone of a clone, half of them
				errs[i] = script[0](c)
				c = c.Clone()
				script = script[1:]
			}
			for _, s := range script {
				errs[i] = errors.Join(errs[i], s(c))
			}
			clones[i] = c
		})
	}
	wg.Wait()
	for i, c := range clones {
		require.NoError(t, errs[i], "clone %d", i)
		want := worn(t)
		run(t, want, wornScripts[i%len(wornScripts)]...)
		requireSame(t, want, c)
	}
	requireSame(t, worn(t), n)
}

var sink *node.Node // keeps a clone on the heap, as a model checker's are

// TestCloneCopiesOnWrite: a clone allocates the node and nothing else; its first change to
// a dispatcher copies the dispatchers' values, and nothing else, and the next one copies
// nothing; a sweep copies the remove journal only if the journal has the dispatcher, and
// then only the records it keeps.
func TestCloneCopiesOnWrite(t *testing.T) {
	n := rich(t, true)
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { sink = n.Clone() }))
	require.Equal(t, 2.0, testing.AllocsPerRun(100, func() {
		sink = n.Clone()
		require.NoError(t, sink.Advanced("y", 99))
		require.NoError(t, sink.Advanced("m", 99))
	}))
	y, ok := n.Dispatcher("y")
	require.True(t, ok)
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { // a checkpoint that does not rise writes nothing
		sink = n.Clone()
		require.NoError(t, sink.Advanced("y", y.Checkpoint))
	}))

	// In merged a and b, closing since their merge committed, have no remove journal
	// entry; journaled is the same but for r, closing with a remove journal entry.
	merged := newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3), disp("r", t2All, ops.Working, 1))
	run(t, merged, req(mergeReq("m", t1All, 1, "a", "b")), act(node.ActPrepared, "m"), act(node.ActCommit, "m"), ready, advance)
	journaled := merged.Clone()
	run(t, journaled, req(removeReq("r", t2All, 1)), ready, advance)
	sweep := func(n *node.Node, id ops.DispatcherID) float64 {
		return testing.AllocsPerRun(100, func() {
			sink = n.Clone()
			require.NoError(t, sink.Closed(id, 0))
		})
	}
	require.Equal(t, sweep(merged, "a"), sweep(journaled, "a"))
	// r's record is all its journal holds: the clone drops it instead of copying it.
	require.Equal(t, sweep(merged, "a"), sweep(journaled, "r"))
}

// TestCloneOwnsAnswers: a clone's pending bootstrap answers share nothing with the
// original's, nor with either's journals.
func TestCloneOwnsAnswers(t *testing.T) {
	want := rich(t, true)

	// Changing the clone's pending answers leaves the original as it was.
	n := rich(t, true)
	c := n.Clone()
	rd := c.Ready()
	a := rd.Answers[len(rd.Answers)-1]
	a.Dispatchers[0].State = ops.Removed
	a.Removes[1].SplitSpans[0] = ops.Span{Table: 99}
	a.Merges[0].Sources[0] = "junk"
	requireSame(t, want, n)

	// Changing the original's journals leaves the clone's pending answers as they were.
	n2 := rich(t, true)
	c2 := n2.Clone()
	run(t, n2, closed("c", 0), req(removeReq("y", ops.Span{Table: 4}, 2)), closed("a", 0), closed("b", 0),
		act(node.ActWorking, "m"), act(node.ActJournalCleanup, "m"))
	_, removes, merges := n2.Len()
	require.Equal(t, [2]int{2, 0}, [2]int{removes, merges})
	requireSame(t, want, c2)
}
