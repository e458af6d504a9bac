package transport

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/testgen"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The messages the tests send: valid ones of every kind, of changefeed "cf".

const testCF ops.ChangefeedID = "cf"

// requests returns one request of every kind, of epoch e.
func requests(e ops.Epoch) []protocol.Request {
	sp := ops.Span{Table: 7, Start: "a", End: "m"}
	return []protocol.Request{
		{Changefeed: testCF, Epoch: e, Kind: protocol.Bootstrap},
		{Changefeed: testCF, Epoch: e, Kind: protocol.Create, Record: ops.Record{Changefeed: testCF, ID: "d1", Type: ops.TypeAdd,
			State: ops.AddRunning, Epoch: e, Span: sp, Dest: "B", Checkpoint: 42}},
		{Changefeed: testCF, Epoch: e, Kind: protocol.Remove, Record: ops.Record{Changefeed: testCF, ID: "d2", Type: ops.TypeMove,
			State: ops.MoveRemoveOrigin, Epoch: e, Span: sp, Origin: "B", Dest: "C", Checkpoint: 1 << 40}},
		{Changefeed: testCF, Epoch: e, Kind: protocol.Remove, Record: ops.Record{Changefeed: testCF, ID: "d3\u00e9", Type: ops.TypeSplit,
			State: ops.SplitRunning, Epoch: e, Span: ops.Span{Table: -3, Start: "", End: ""}, Origin: "B",
			SplitSpans: []ops.Span{{Table: -3, End: "k"}, {Table: -3, Start: "k"}}}},
		{Changefeed: testCF, Epoch: e, Kind: protocol.Merge, Record: ops.Record{Changefeed: testCF, ID: "m", Type: ops.TypeMerge,
			State: ops.MergeRunning, Epoch: e, Span: ops.Span{Table: 7, Start: "a", End: "z"}, Origin: "B",
			Sources: []ops.DispatcherID{"s1", "s2"}}},
	}
}

// createRequest is a Create of epoch e for dispatcher id.
func createRequest(e ops.Epoch, id int) protocol.Request {
	r := requests(e)[1]
	r.Record.ID = ops.DispatcherID("d" + strconv.Itoa(id))
	return r
}

// report is a status report of node n, epoch e, with k statuses.
func report(n ops.NodeID, e ops.Epoch, k int) protocol.StatusReport {
	r := protocol.StatusReport{Changefeed: testCF, Node: n, Epoch: e}
	for i := range k {
		r.Statuses = append(r.Statuses, ops.Status{ID: ops.DispatcherID("t" + strconv.Itoa(i)), State: ops.ComponentState(i % 7),
			Checkpoint: uint64(i) * 1000})
	}
	return r
}

// answers returns bootstrap answers of epoch e: an empty one and some of
// testgen.BigSnapshot's, which carry every kind of journal entry.
func answers(e ops.Epoch) []protocol.BootstrapAnswer {
	out := []protocol.BootstrapAnswer{{Node: "A", Changefeed: testCF, Epoch: e}}
	for _, a := range testgen.BigSnapshot(600).Answers[:6] {
		a.Changefeed, a.Epoch = testCF, e
		out = append(out, a)
	}
	return out
}

// reencode is m's protobuf form, the canonical way to compare two decoded messages (a
// decoder may give an empty list where the original had nil).
func reencode(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	return b
}
