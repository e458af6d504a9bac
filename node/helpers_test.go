package node_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

const (
	cf    = ops.ChangefeedID("cf")
	self  = ops.NodeID("n1")
	other = ops.NodeID("n2")
)

// The spans of the tests: two tables, halves, quarters and a span across the halves.
var (
	t1All = ops.Span{Table: 1}
	t1a   = ops.Span{Table: 1, End: "k"}
	t1b   = ops.Span{Table: 1, Start: "k"}
	t1a1  = ops.Span{Table: 1, End: "f"}
	t1a2  = ops.Span{Table: 1, Start: "f", End: "k"}
	t1mid = ops.Span{Table: 1, Start: "f", End: "p"}
	t2All = ops.Span{Table: 2}
	t2a   = ops.Span{Table: 2, End: "k"}
	t2b   = ops.Span{Table: 2, Start: "k"}
)

// newNode returns a node of changefeed cf named n1 obeying owner, with ds preloaded.
func newNode(t testing.TB, owner ops.Epoch, ds ...protocol.Dispatcher) *node.Node {
	t.Helper()
	n, err := node.New(node.Config{Node: self, Changefeed: cf, Owner: owner})
	require.NoError(t, err)
	require.NoError(t, n.Preload(ds...))
	return n
}

// withBugs switches seeded bugs on in n and returns it.
func withBugs(n *node.Node, b seeded.NodeBugs) *node.Node {
	seeded.SetNodeBugs(n, b)
	return n
}

func disp(id ops.DispatcherID, s ops.Span, st ops.ComponentState, ckpt uint64) protocol.Dispatcher {
	return protocol.Dispatcher{ID: id, Span: s, State: st, Checkpoint: ckpt}
}

func removing(d protocol.Dispatcher) protocol.Dispatcher {
	d.Removing = true
	return d
}

func addRec(id ops.DispatcherID, s ops.Span, e ops.Epoch, ckpt uint64) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: ops.TypeAdd, State: ops.AddRunning, Epoch: e, Span: s, Dest: self, Checkpoint: ckpt}
}

func removeRec(id ops.DispatcherID, s ops.Span, e ops.Epoch) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: e, Span: s, Origin: self, Hook: ops.HookDelete}
}

func moveRec(id ops.DispatcherID, s ops.Span, e ops.Epoch) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: e, Span: s, Origin: self, Dest: other}
}

func mergeRec(id ops.DispatcherID, s ops.Span, e ops.Epoch, srcs ...ops.DispatcherID) ops.Record {
	return ops.Record{Changefeed: cf, ID: id, Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: e, Span: s, Origin: self, Sources: srcs}
}

func request(kind protocol.Kind, rec ops.Record) protocol.Request {
	return protocol.Request{Changefeed: cf, Epoch: rec.Epoch, Kind: kind, Record: rec}
}

func createReq(id ops.DispatcherID, s ops.Span, e ops.Epoch, ckpt uint64) protocol.Request {
	return request(protocol.Create, addRec(id, s, e, ckpt))
}

func removeReq(id ops.DispatcherID, s ops.Span, e ops.Epoch) protocol.Request {
	return request(protocol.Remove, removeRec(id, s, e))
}

func mergeReq(id ops.DispatcherID, s ops.Span, e ops.Epoch, srcs ...ops.DispatcherID) protocol.Request {
	return request(protocol.Merge, mergeRec(id, s, e, srcs...))
}

func bootstrapReq(e ops.Epoch) protocol.Request {
	return protocol.Request{Changefeed: cf, Epoch: e, Kind: protocol.Bootstrap}
}

// state is everything observable of a node but its pending Ready's contents.
type state struct {
	Owner       ops.Epoch
	Dispatchers []protocol.Dispatcher
	Removes     []ops.Record
	Merges      []ops.Record
	HasReady    bool
}

func snap(n *node.Node) state {
	return state{Owner: n.Owner(), Dispatchers: n.Dispatchers(), Removes: cloneRecords(n.RemoveJournal()),
		Merges: cloneRecords(n.MergeJournal()), HasReady: n.HasReady()}
}

func cloneRecords(rs []ops.Record) []ops.Record {
	if rs == nil {
		return nil
	}
	out := make([]ops.Record, len(rs))
	for i, r := range rs {
		r.Sources = slices.Clone(r.Sources)
		r.SplitSpans = slices.Clone(r.SplitSpans)
		r.SplitTargets = slices.Clone(r.SplitTargets)
		out[i] = r
	}
	return out
}

// take returns a deep copy of n's Ready and advances n.
func take(n *node.Node) node.Ready {
	rd := peek(n)
	n.Advance()
	return rd
}

// peek returns a deep copy of n's Ready without advancing.
func peek(n *node.Node) node.Ready {
	rd := n.Ready()
	var out node.Ready
	for _, r := range rd.Reports {
		r.Statuses = slices.Clone(r.Statuses)
		out.Reports = append(out.Reports, r)
	}
	for _, e := range rd.Effects {
		e.Sources = slices.Clone(e.Sources)
		out.Effects = append(out.Effects, e)
	}
	for _, a := range rd.Answers {
		a.Dispatchers = slices.Clone(a.Dispatchers)
		a.Removes = cloneRecords(a.Removes)
		a.Merges = cloneRecords(a.Merges)
		out.Answers = append(out.Answers, a)
	}
	return out
}

// report is the StatusReport n1 sends under epoch e.
func report(e ops.Epoch, sts ...ops.Status) protocol.StatusReport {
	return protocol.StatusReport{Changefeed: cf, Node: self, Epoch: e, Statuses: sts}
}

func st(id ops.DispatcherID, s ops.ComponentState, ckpt uint64) ops.Status {
	return ops.Status{ID: id, State: s, Checkpoint: ckpt}
}

// requireRefused checks that err is a *node.RefusedError (not wrapped) of n1 for kind, id and epoch
// wrapping cause.
func requireRefused(t *testing.T, err error, kind protocol.Kind, id ops.DispatcherID, e ops.Epoch, cause error) *node.RefusedError {
	t.Helper()
	re, ok := err.(*node.RefusedError) // the error itself, not wrapped: Step's contract
	require.True(t, ok, "%T %v", err, err)
	require.Equal(t, self, re.Node)
	require.Equal(t, kind, re.Kind)
	require.Equal(t, id, re.ID)
	require.Equal(t, e, re.Epoch)
	require.ErrorIs(t, err, cause)
	return re
}

// halves is a node obeying epoch 1 with a (t1a, checkpoint 5) and b (t1b, checkpoint 3)
// Working.
func halves(t *testing.T) *node.Node {
	return newNode(t, 1, disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3))
}

// preparing is halves after the merge of a and b into m (t1All) started.
func preparing(t *testing.T) *node.Node {
	n := halves(t)
	require.NoError(t, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	_ = n.Ready()
	n.Advance()
	return n
}

// committedSwept is a merge of a and b into m that committed, whose sources and merged
// dispatcher were then all swept (m after a Remove) while the journal cleanup never ran:
// the merge journal still holds m and the node has no dispatcher.
func committedSwept(t *testing.T) *node.Node {
	n := preparing(t)
	require.NoError(t, n.Prepared("m"))
	require.NoError(t, n.CommitMerge("m"))
	require.NoError(t, n.Closed("a", 0))
	require.NoError(t, n.Closed("b", 0))
	require.NoError(t, n.Working("m"))
	require.NoError(t, n.Step(removeReq("m", t1All, 1)))
	require.NoError(t, n.Closed("m", 0))
	_ = n.Ready()
	n.Advance()
	d, r, m := n.Len()
	require.Equal(t, [3]int{0, 0, 1}, [3]int{d, r, m})
	return n
}

// active: Initializing or Working, not closing.
func active(d protocol.Dispatcher) bool {
	return !d.Removing && (d.State == ops.Initializing || d.State == ops.Working)
}

// activeOverlaps lists the pairs of active dispatchers of n that share a key.
func activeOverlaps(n *node.Node) [][2]ops.DispatcherID {
	var out [][2]ops.DispatcherID
	ds := n.Dispatchers()
	for i, x := range ds {
		for _, y := range ds[i+1:] {
			if active(x) && active(y) && x.Span.Overlaps(y.Span) {
				out = append(out, [2]ops.DispatcherID{x.ID, y.ID})
			}
		}
	}
	return out
}
