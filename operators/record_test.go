package operators

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
)

// randomRecord builds a valid record of a random type and state.
func randomRecord(r *rand.Rand) Record {
	typ := Type(r.IntN(int(TypeOccupy) + 1))
	def := defs[typ]
	nodes := []NodeID{"A", "B", "C"}
	rec := Record{
		Changefeed: "cf", ID: DispatcherID("d" + string(rune('a'+r.IntN(26)))), Type: typ,
		State: fsmState(r.IntN(len(def.States()))), Epoch: Epoch(r.IntN(9)),
		Span: span(TableID(r.IntN(5)), "", ""), Checkpoint: uint64(r.IntN(1000)),
	}
	switch typ {
	case TypeAdd:
		rec.Dest = nodes[r.IntN(3)]
	case TypeRemove, TypeOccupy:
		rec.Origin = nodes[r.IntN(3)]
		if typ == TypeRemove {
			rec.Hook = RemoveHook(r.IntN(3))
		}
	case TypeMove:
		rec.Origin, rec.Dest = nodes[r.IntN(3)], nodes[r.IntN(3)]
	case TypeSplit:
		rec.Origin = nodes[r.IntN(3)]
		rec.SplitSpans = []Span{span(rec.Span.Table, "", "k"), span(rec.Span.Table, "k", "")}
		if r.IntN(2) == 0 {
			rec.SplitTargets = []NodeID{nodes[r.IntN(3)], nodes[r.IntN(3)]}
		}
	case TypeMerge:
		rec.Origin = nodes[r.IntN(3)]
		rec.Sources = []DispatcherID{"s1", "s2", "s3"}[:2+r.IntN(2)]
	}
	return rec
}

// TestRecordRoundTrip is a property test: every valid record survives encode, decode and
// restore-then-record unchanged.
func TestRecordRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		rec := randomRecord(r)
		require.NoError(t, rec.Validate(), "%+v", rec)
		data, err := json.Marshal(rec)
		require.NoError(t, err)
		got, err := DecodeRecord(data)
		require.NoError(t, err, string(data))
		require.Equal(t, rec, got)
		op, err := fromRecord(got)
		require.NoError(t, err)
		require.Equal(t, rec, op.Record("cf", rec.Epoch))
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	cases := []struct {
		name, data, field string
		err               error
	}{
		{"unknown version", `{"v":2,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""},"dest":"B"}`, "v", fsm.ErrUnknownVersion},
		{"unknown type", `{"v":1,"type":"teleport","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""}}`, "type", ErrUnknownType},
		{"unknown state for the type", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"AddDest","epoch":1,"span":{"table":1,"start":"","end":""},"dest":"B"}`, "state", fsm.ErrUnknownState},
		{"missing span", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":1,"dest":"B"}`, "span", fsm.ErrMissingField},
		{"missing epoch", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","span":{"table":1,"start":"","end":""},"dest":"B"}`, "epoch", fsm.ErrMissingField},
		{"unknown field", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""},"dest":"B","color":"red"}`, "color", fsm.ErrUnknownField},
		{"move without dest", `{"v":1,"type":"move","changefeed":"cf","id":"d","state":"AddDest","epoch":1,"span":{"table":1,"start":"","end":""},"origin":"B"}`, "dest", ErrInvalidRecord},
		{"merge with one source", `{"v":1,"type":"merge","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""},"origin":"B","sources":["a"]}`, "sources", ErrInvalidRecord},
		{"split spans with a gap", `{"v":1,"type":"split","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""},"origin":"B","splitSpans":[{"table":1,"start":"","end":"a"},{"table":1,"start":"b","end":""}]}`, "splitSpans", ErrSplitSpans},
		{"reversed span", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"z","end":"a"},"dest":"B"}`, "span", ErrInvalidSpan},
		{"add with sources", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""},"dest":"B","sources":["a","b"]}`, "sources", ErrInvalidRecord},
		{"negative epoch", `{"v":1,"type":"add","changefeed":"cf","id":"d","state":"Running","epoch":-1,"span":{"table":1,"start":"","end":""},"dest":"B"}`, "epoch", fsm.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(tc.data))
			require.ErrorIs(t, err, tc.err)
			var de *fsm.DecodeError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.field, de.Field)
		})
	}
}

// FuzzDecodeRecord: any bytes give a valid record or a typed decode error, never a panic.
func FuzzDecodeRecord(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 12; i++ {
		data, _ := json.Marshal(randomRecord(r))
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"type":"split","splitSpans":[null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := DecodeRecord(data)
		if err != nil {
			var de *fsm.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("decoded an invalid record: %v", err)
		}
		if _, err := fromRecord(rec); err != nil {
			t.Fatalf("valid record does not restore: %v", err)
		}
	})
}

func TestRecordCloneSharesNoSlice(t *testing.T) {
	orig := Record{Changefeed: "cf", ID: "m", Type: TypeSplit, State: SplitRunning, Span: span(1, "", ""),
		SplitSpans: []Span{span(1, "", "k"), span(1, "k", "")}, SplitTargets: []NodeID{"A", "B"}, Sources: []DispatcherID{"a"}}
	c := orig.Clone()
	require.Equal(t, orig, c)
	c.SplitSpans[0], c.SplitTargets[0], c.Sources[0] = span(2, "", ""), "Z", "z"
	require.Equal(t, span(1, "", "k"), orig.SplitSpans[0])
	require.Equal(t, NodeID("A"), orig.SplitTargets[0])
	require.Equal(t, DispatcherID("a"), orig.Sources[0])
	require.Equal(t, "Running", orig.StateName())
	require.Equal(t, "State(9)", Record{Type: Type(99), State: 9}.StateName())
}

// TestRestoredParametersOnlyWhereNeeded: an operator restored from a record has the
// split and merge parameters (extra) only when the record has some: add, remove and move
// keep none.
func TestRestoredParametersOnlyWhereNeeded(t *testing.T) {
	for _, tc := range []struct {
		rec   Record
		extra bool
	}{
		{Record{Changefeed: cf, ID: "d", Type: TypeMove, State: MoveAddDest, Span: span(1, "", ""), Origin: "A", Dest: "B"}, false},
		{Record{Changefeed: cf, ID: "d", Type: TypeSplit, State: SplitRunning, Span: span(1, "", ""), Origin: "A",
			SplitSpans: []Span{span(1, "", "k"), span(1, "k", "")}}, true},
		{Record{Changefeed: cf, ID: "m", Type: TypeMerge, State: MergeRunning, Span: span(1, "", ""), Origin: "A",
			Sources: []DispatcherID{"a", "b"}}, true},
	} {
		o, err := fromRecord(tc.rec)
		require.NoError(t, err)
		require.Equal(t, tc.extra, o.extra != nil, tc.rec.Type.String())
	}
}
