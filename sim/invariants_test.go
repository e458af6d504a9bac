package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

const cf = ops.ChangefeedID("cf")

var (
	spanA = ops.Span{Table: 100, Start: "", End: "m"}
	spanB = ops.Span{Table: 100, Start: "m", End: ""}
	spanM = ops.Span{Table: 100, Start: "", End: ""}
)

// core is node n obeying epoch 1 with the given Working dispatchers.
func core(t *testing.T, n ops.NodeID, ds ...protocol.Dispatcher) *node.Node {
	t.Helper()
	nd, err := node.New(node.Config{Node: n, Changefeed: cf, Owner: 1})
	require.NoError(t, err)
	require.NoError(t, nd.Preload(ds...))
	return nd
}

// halves is node B with "a" and "b" Working.
func halves(t *testing.T) *node.Node {
	return core(t, "B", protocol.Dispatcher{ID: "a", Span: spanA, State: ops.Working}, protocol.Dispatcher{ID: "b", Span: spanB, State: ops.Working})
}

func step(t *testing.T, nd *node.Node, kind protocol.Kind, rec ops.Record) {
	t.Helper()
	rec.Changefeed, rec.Epoch = cf, 1
	require.NoError(t, nd.Step(protocol.Request{Changefeed: cf, Epoch: 1, Kind: kind, Record: rec}))
}

func mergeRec() ops.Record {
	return ops.Record{ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning, Span: spanM, Origin: "B", Sources: []ops.DispatcherID{"a", "b"}}
}

func removeRec(id ops.DispatcherID) ops.Record {
	return ops.Record{ID: id, Type: ops.TypeRemove, State: ops.RemoveRunning, Origin: "B"}
}

func TestNoDuplicateActiveDispatcher(t *testing.T) {
	b, c := halves(t), core(t, "C")
	require.NoError(t, NoDuplicateActiveDispatcher([]*node.Node{b, c}))

	// A merge in progress is fine: the target is not active before its commit point, and
	// the sources are not active after it.
	step(t, b, protocol.Merge, mergeRec())
	require.NoError(t, b.Prepared("m"))
	require.NoError(t, NoDuplicateActiveDispatcher([]*node.Node{b, c}))
	require.NoError(t, b.CommitMerge("m"))
	require.NoError(t, NoDuplicateActiveDispatcher([]*node.Node{b, c}))

	// The seeded shape of every S1 bug: a second active copy of a key elsewhere.
	step(t, c, protocol.Create, ops.Record{ID: "b2", Type: ops.TypeAdd, State: ops.AddRunning, Span: ops.Span{Table: 100, Start: "x", End: ""}, Dest: "C"})
	err := NoDuplicateActiveDispatcher([]*node.Node{b, c})
	var v *Violation
	require.ErrorAs(t, err, &v)
	require.Equal(t, "NoDuplicateActiveDispatcher", v.Property)
	require.Contains(t, v.Detail, "b2")

	// Another table's identical keys do not overlap.
	d := core(t, "D", protocol.Dispatcher{ID: "t2", Span: ops.Span{Table: 200}, State: ops.Working})
	require.NoError(t, NoDuplicateActiveDispatcher([]*node.Node{halves(t), d}))
}

func TestRemoveJournalSound(t *testing.T) {
	for _, bug := range []bool{false, true} {
		m := halves(t)
		seeded.SetNodeBugs(m, seeded.NodeBugs{JournalMissingRemove: bug})
		step(t, m, protocol.Remove, removeRec("a"))
		require.NoError(t, m.Closed("a", 0))
		// A resent Remove reaches the node after the sweep.
		step(t, m, protocol.Remove, removeRec("a"))
		err := RemoveJournalSound([]*node.Node{m})
		if !bug {
			require.NoError(t, err)
			continue
		}
		var v *Violation
		require.ErrorAs(t, err, &v)
		require.Equal(t, "RemoveJournalSound", v.Property)
	}
}

// TestMergesJournaled: a merge in progress is journaled through its prepare and commit;
// with merge_not_journaled the check names the merged dispatcher before its commit and,
// once that one is being removed, a source still waiting for it.
func TestMergesJournaled(t *testing.T) {
	b := halves(t)
	step(t, b, protocol.Merge, mergeRec())
	require.NoError(t, MergesJournaled([]*node.Node{b}))
	require.NoError(t, b.Prepared("m"))
	require.NoError(t, MergesJournaled([]*node.Node{b}))
	require.NoError(t, b.CommitMerge("m"))
	require.NoError(t, MergesJournaled([]*node.Node{b}))

	bad := halves(t)
	seeded.SetNodeBugs(bad, seeded.NodeBugs{MergeNotJournaled: true})
	step(t, bad, protocol.Merge, mergeRec())
	var v *Violation
	require.ErrorAs(t, MergesJournaled([]*node.Node{halves(t), bad}), &v)
	require.Equal(t, "MergesJournaled", v.Property)
	require.Contains(t, v.Detail, "merged dispatcher m")
	step(t, bad, protocol.Remove, removeRec("m"))
	require.ErrorAs(t, MergesJournaled([]*node.Node{bad}), &v)
	require.Contains(t, v.Detail, "source a waiting")
}

// TestNodeBinding: the controller refuses unbound Scheduling tasks on insertion, so the
// check is shown to fail on task lists built by hand.
func TestNodeBinding(t *testing.T) {
	ok := []ops.Task{{ID: "a", Sched: ops.Absent}, {ID: "b", Sched: ops.Replicating, Node: "B"}}
	require.NoError(t, NodeBinding(ok))
	for _, bad := range []ops.Task{{ID: "x", Sched: ops.Scheduling}, {ID: "y", Sched: ops.Absent, Node: "B"}} {
		var v *Violation
		require.ErrorAs(t, NodeBinding(append(ok, bad)), &v)
		require.Equal(t, "NodeBinding", v.Property)
	}
}

// TestMayOverlapNeverMissesOne: the quick test S1 runs on every step finds every layout
// with an overlap, a span inside a wide earlier one that a narrower one follows included,
// and clears the layouts without one.
func TestMayOverlapNeverMissesOne(t *testing.T) {
	sp := func(tb ops.TableID, start, end string) ops.Span { return ops.Span{Table: tb, Start: start, End: end} }
	cases := []struct {
		name    string
		spans   []ops.Span
		overlap bool
	}{
		{"tiles", []ops.Span{sp(1, "", "m"), sp(1, "m", ""), sp(2, "", "")}, false},
		{"gap", []ops.Span{sp(1, "", "g"), sp(1, "m", "")}, false},
		{"tables apart", []ops.Span{sp(1, "", ""), sp(2, "", "")}, false},
		{"same start", []ops.Span{sp(1, "a", "c"), sp(1, "a", "z")}, true},
		{"to the table end", []ops.Span{sp(1, "a", ""), sp(1, "x", "y")}, true},
		{"inside a wide earlier one", []ops.Span{sp(1, "a", "z"), sp(1, "b", "c"), sp(1, "d", "e")}, true},
		{"past a narrower one", []ops.Span{sp(1, "a", "z"), sp(1, "b", "c"), sp(1, "y", "")}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ns []*node.Node
			for i, s := range tc.spans {
				ns = append(ns, core(t, ops.NodeID(rune('A'+i)), protocol.Dispatcher{ID: ops.DispatcherID(rune('a' + i)), Span: s, State: ops.Working}))
			}
			require.Equal(t, tc.overlap, mayOverlap(ns))
			require.Equal(t, tc.overlap, NoDuplicateActiveDispatcher(ns) != nil)
		})
	}
}
