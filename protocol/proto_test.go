package protocol_test

import (
	"bytes"
	"encoding"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	pb "github.com/opfsm/opfsm/protocol/protocolpb"
)

// TestProtoRoundTrip: random messages of every type decode to what was encoded, and
// AppendBinary appends exactly MarshalBinary's bytes.
func TestProtoRoundTrip(t *testing.T) {
	g := newGen(1)
	for i := range 300 {
		req := g.request()
		var gotReq protocol.Request
		roundTripProto(t, req, &gotReq)
		require.Equal(t, normRequest(req), gotReq, "request %d", i)

		rep := g.report(g.r.IntN(20))
		var gotRep protocol.StatusReport
		roundTripProto(t, rep, &gotRep)
		require.Equal(t, normReport(rep), gotRep, "report %d", i)

		ans := g.answer(g.r.IntN(20), 3)
		var gotAns protocol.BootstrapAnswer
		roundTripProto(t, ans, &gotAns)
		require.Equal(t, normAnswer(ans), gotAns, "answer %d", i)

		snap := g.snapshot()
		var gotSnap protocol.Snapshot
		roundTripProto(t, snap, &gotSnap)
		require.Equal(t, normSnapshot(snap), gotSnap, "snapshot %d", i)
	}
}

type binaryMessage interface {
	encoding.BinaryMarshaler
	encoding.BinaryAppender
}

func roundTripProto(t *testing.T, v binaryMessage, out encoding.BinaryUnmarshaler) {
	t.Helper()
	data, err := v.MarshalBinary()
	require.NoError(t, err)
	prefix := []byte("prefix")
	appended, err := v.AppendBinary(prefix[:len(prefix):len(prefix)])
	require.NoError(t, err)
	require.Equal(t, append([]byte("prefix"), data...), appended)
	require.NoError(t, out.UnmarshalBinary(data))
}

// TestProtoAgainstGenerated is the differential check against the generated code: (a)
// the hand-written encoding is byte for byte proto.Marshal's, and proto.Unmarshal reads
// it back to the original; (b) the hand-written decoder reads proto.Marshal's output back
// to the original.
func TestProtoAgainstGenerated(t *testing.T) {
	g := newGen(3)
	for i := range 300 {
		req := g.request()
		differential(t, req, toPBRequest(req), &pb.Request{}, &protocol.Request{}, normRequest(req),
			func(m proto.Message) any { return normRequest(fromPBRequest(m.(*pb.Request))) },
			func(u encoding.BinaryUnmarshaler) any { return *u.(*protocol.Request) })

		rep := g.report(g.r.IntN(20))
		differential(t, rep, toPBReport(rep), &pb.StatusReport{}, &protocol.StatusReport{}, normReport(rep),
			func(m proto.Message) any { return fromPBReport(m.(*pb.StatusReport)) },
			func(u encoding.BinaryUnmarshaler) any { return *u.(*protocol.StatusReport) })

		ans := g.answer(g.r.IntN(20), 3)
		differential(t, ans, toPBAnswer(ans), &pb.BootstrapAnswer{}, &protocol.BootstrapAnswer{}, normAnswer(ans),
			func(m proto.Message) any { return fromPBAnswer(m.(*pb.BootstrapAnswer)) },
			func(u encoding.BinaryUnmarshaler) any { return *u.(*protocol.BootstrapAnswer) })

		snap := g.snapshot()
		differential(t, snap, toPBSnapshot(snap), &pb.Snapshot{}, &protocol.Snapshot{}, normSnapshot(snap),
			func(m proto.Message) any { return fromPBSnapshot(m.(*pb.Snapshot)) },
			func(u encoding.BinaryUnmarshaler) any { return *u.(*protocol.Snapshot) })
		_ = i
	}
}

func differential(t *testing.T, v encoding.BinaryMarshaler, asPB, intoPB proto.Message, into encoding.BinaryUnmarshaler,
	want any, fromPB func(proto.Message) any, deref func(encoding.BinaryUnmarshaler) any) {
	t.Helper()
	hand, err := v.MarshalBinary()
	require.NoError(t, err)
	gen, err := proto.Marshal(asPB)
	require.NoError(t, err)
	require.True(t, bytes.Equal(gen, hand), "encodings differ:\nhand %x\ngen  %x", hand, gen)
	require.Equal(t, proto.Size(asPB), len(hand))

	require.NoError(t, proto.Unmarshal(hand, intoPB))                  // (a)
	require.Equal(t, want, fromPB(intoPB))                             // (a)
	require.NoError(t, into.UnmarshalBinary(gen), "%x", gen)           // (b)
	require.Equal(t, want, deref(into))                                // (b)
	require.True(t, proto.Equal(asPB, intoPB), "generated round trip") // the conversions agree
}

// TestProtoEnumsMatchGo: every Go enum value has a wire value one larger whose name is the
// Go name in UPPER_SNAKE, and no wire value is left over; protocol.proto and the Go enums
// cannot drift apart unnoticed.
func TestProtoEnumsMatchGo(t *testing.T) {
	check := func(prefix string, wire map[int32]string, goNames []string) {
		t.Helper()
		require.Len(t, wire, len(goNames)+1, prefix)
		require.Equal(t, prefix+"_UNSPECIFIED", wire[0])
		for i, n := range goNames {
			require.Equal(t, prefix+"_"+upperSnake(n), wire[int32(i+1)], "%s %d", prefix, i)
		}
	}
	var types, states, hooks, kinds []string
	for v := ops.TypeAdd; v <= ops.TypeOccupy; v++ {
		types = append(types, v.String())
	}
	for v := ops.Initializing; v <= ops.Removed; v++ {
		states = append(states, v.String())
	}
	for v := ops.HookNone; v <= ops.HookDelete; v++ {
		hooks = append(hooks, v.String())
	}
	for v := protocol.Create; v <= protocol.Bootstrap; v++ {
		kinds = append(kinds, v.String())
	}
	check("OPERATOR_TYPE", pb.OperatorType_name, types)
	check("COMPONENT_STATE", pb.ComponentState_name, states)
	check("REMOVE_HOOK", pb.RemoveHook_name, hooks)
	check("KIND", pb.Kind_name, kinds)
	// One past the last Go value is not a value.
	require.Equal(t, "Type(6)", (ops.TypeOccupy + 1).String())
	require.Equal(t, "ComponentState(7)", (ops.Removed + 1).String())
	require.Equal(t, "RemoveHook(3)", (ops.HookDelete + 1).String())
	require.Equal(t, "Kind(4)", (protocol.Bootstrap + 1).String())
}

var camel = regexp.MustCompile(`([a-z])([A-Z])`)

func upperSnake(s string) string { return strings.ToUpper(camel.ReplaceAllString(s, "${1}_${2}")) }

// TestProtoEncodeRefuses: what the schema cannot carry is an encoding error, and
// AppendBinary leaves its buffer alone.
func TestProtoEncodeRefuses(t *testing.T) {
	rec := ops.Record{Changefeed: "cf", ID: "d1", Type: ops.TypeAdd, State: ops.AddRunning, Epoch: 7, Dest: "B"}
	bad := rec
	bad.Dest = "B\xff"
	tests := []struct {
		name     string
		v        binaryMessage
		sentinel error
	}{
		{"request: unknown kind", protocol.Request{Changefeed: "cf", Epoch: 7, Kind: 9}, protocol.ErrUnknownKind},
		{"request: bad UTF-8", protocol.Request{Changefeed: "cf\xc3", Epoch: 7, Kind: protocol.Bootstrap}, protocol.ErrInvalidMessage},
		{"request: bad UTF-8 in record", protocol.Request{Changefeed: "cf", Epoch: 7, Kind: protocol.Create, Record: bad}, protocol.ErrInvalidMessage},
		{"request: unknown type", protocol.Request{Changefeed: "cf", Epoch: 7, Kind: protocol.Create, Record: ops.Record{Type: 40}}, ops.ErrUnknownType},
		{"request: unknown hook", protocol.Request{Changefeed: "cf", Epoch: 7, Kind: protocol.Remove, Record: ops.Record{Hook: 40}}, ops.ErrInvalidRecord},
		{"report: unknown state", protocol.StatusReport{Statuses: []ops.Status{{ID: "d", State: 9}}}, ops.ErrUnknownComponentState},
		{"report: bad UTF-8", protocol.StatusReport{Node: "\xff"}, protocol.ErrInvalidMessage},
		{"answer: unknown state", protocol.BootstrapAnswer{Dispatchers: []protocol.Dispatcher{{ID: "d", State: 9}}}, ops.ErrUnknownComponentState},
		{"answer: bad UTF-8 key", protocol.BootstrapAnswer{Dispatchers: []protocol.Dispatcher{{ID: "d", Span: ops.Span{Start: "\xff"}}}}, protocol.ErrInvalidMessage},
		{"answer: bad record", protocol.BootstrapAnswer{Merges: []ops.Record{bad}}, protocol.ErrInvalidMessage},
		{"snapshot: bad answer", protocol.Snapshot{Answers: []protocol.BootstrapAnswer{{Node: "\xff"}}}, protocol.ErrInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.MarshalBinary()
			require.ErrorIs(t, err, tt.sentinel)
			buf := []byte("keep")
			out, err := tt.v.AppendBinary(buf)
			require.ErrorIs(t, err, tt.sentinel)
			require.Equal(t, []byte("keep"), out)
		})
	}
}

// Hand-built protobuf: every field of a message is one of these.
func vfield(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func sfield(num protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
}

func mfield(num protowire.Number, parts ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), cat(parts...))
}

// Valid hand-built messages the rejection cases take apart. Field numbers are those of
// protocol.proto.
var (
	wSpan      = cat(vfield(1, 1), sfield(2, "a"), sfield(3, "b"))
	wAddRecord = cat(sfield(1, "cf"), sfield(2, "d1"), vfield(3, 1), sfield(4, "Running"), vfield(5, 7),
		mfield(6, wSpan), sfield(8, "B"), vfield(12, 1))
	wRemoveRecord = cat(sfield(1, "cf"), sfield(2, "d1"), vfield(3, 2), sfield(4, "Running"), vfield(5, 7),
		mfield(6, wSpan), sfield(7, "A"), vfield(12, 3))
	wDispatcher = cat(sfield(1, "d1"), mfield(2, wSpan), vfield(3, 2))
)

func wRequest(kind uint64, record ...[]byte) []byte {
	return cat(vfield(1, 1), sfield(2, "cf"), vfield(3, 7), vfield(4, kind), cat(record...))
}

func wReport(statuses ...[]byte) []byte {
	return cat(vfield(1, 1), sfield(2, "cf"), sfield(3, "A"), vfield(4, 7), cat(statuses...))
}

func wAnswer(parts ...[]byte) []byte {
	return cat(vfield(1, 1), sfield(2, "A"), sfield(3, "cf"), vfield(4, 7), cat(parts...))
}

func wSnapshot(parts ...[]byte) []byte {
	return cat(vfield(1, 1), sfield(2, "cf"), vfield(3, 7), vfield(4, 100), cat(parts...))
}

// TestProtoRejects: each class of bad input, built by hand, is refused with the right
// sentinel, message and field, and leaves the receiver as it was.
func TestProtoRejects(t *testing.T) {
	valid := wRequest(1, mfield(5, wAddRecord))
	tests := []struct {
		name     string
		in       []byte
		into     func() any
		sentinel error
		msg      string
		field    string
	}{
		{"request: not protobuf", []byte("{\"v\":1}"), newRequest, fsm.ErrMalformed, "request", "15"},
		{"request: field number 0", cat(valid, []byte{0x00, 0x01}), newRequest, fsm.ErrMalformed, "request", ""},
		{"request: field number too large", cat(valid, protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), []byte{0}), newRequest,
			fsm.ErrMalformed, "request", ""},
		{"request: empty (no version)", nil, newRequest, fsm.ErrUnknownVersion, "request", "version"},
		{"request: future version", cat(valid, vfield(1, 2)), newRequest, fsm.ErrUnknownVersion, "request", "version"},
		{"request: huge version", cat(valid, vfield(1, 1<<32+1)), newRequest, fsm.ErrUnknownVersion, "request", "version"},
		{"request: truncated", valid[:len(valid)-1], newRequest, fsm.ErrMalformed, "request", "record"},
		{"request: truncated record", cat(wRequest(1), protowire.AppendTag(nil, 5, protowire.BytesType), []byte{50, 1}), newRequest,
			fsm.ErrMalformed, "request", "record"},
		{"request: invalid varint", cat(valid, protowire.AppendTag(nil, 3, protowire.VarintType), bytes.Repeat([]byte{0xff}, 11)),
			newRequest, fsm.ErrMalformed, "request", "epoch"},
		{"request: wrong wire type", cat(valid, vfield(2, 5)), newRequest, fsm.ErrMalformed, "request", "changefeed"},
		{"request: wrong wire type in record", wRequest(1, mfield(5, wAddRecord, vfield(8, 5))), newRequest, fsm.ErrMalformed, "operator record", "dest"},
		{"request: not UTF-8", cat(valid, sfield(2, "cf\xff")), newRequest, fsm.ErrMalformed, "request", "changefeed"},
		{"request: missing kind", cat(vfield(1, 1), sfield(2, "cf"), vfield(3, 7)), newRequest, protocol.ErrUnknownKind, "request", "kind"},
		{"request: unknown kind", wRequest(5, mfield(5, wAddRecord)), newRequest, protocol.ErrUnknownKind, "request", "kind"},
		{"request: missing changefeed", cat(vfield(1, 1), vfield(3, 7), vfield(4, 4)), newRequest, fsm.ErrMissingField, "request", "changefeed"},
		{"request: epoch 0", cat(vfield(1, 1), sfield(2, "cf"), vfield(4, 4)), newRequest, protocol.ErrInvalidMessage, "request", "epoch"},
		{"request: create without record", wRequest(1), newRequest, fsm.ErrMissingField, "request", "record"},
		{"request: record without span", wRequest(1, mfield(5, bytes.Replace(wAddRecord, mfield(6, wSpan), nil, 1))), newRequest,
			fsm.ErrMissingField, "operator record", "span"},
		{"request: record without type", wRequest(1, mfield(5, bytes.Replace(wAddRecord, vfield(3, 1), nil, 1))), newRequest,
			ops.ErrUnknownType, "operator record", "type"},
		{"request: unknown type", wRequest(1, mfield(5, wAddRecord, vfield(3, 7))), newRequest, ops.ErrUnknownType, "operator record", "type"},
		{"request: record without hook", wRequest(1, mfield(5, bytes.Replace(wAddRecord, vfield(12, 1), nil, 1))), newRequest,
			ops.ErrInvalidRecord, "operator record", "hook"},
		{"request: unknown hook", wRequest(2, mfield(5, wRemoveRecord, vfield(12, 4))), newRequest, ops.ErrInvalidRecord, "operator record", "hook"},
		{"request: unknown state", wRequest(1, mfield(5, wAddRecord, sfield(4, "Dancing"))), newRequest, fsm.ErrUnknownState, "operator record", "state"},
		{"request: invalid record", wRequest(1, mfield(5, wAddRecord, sfield(7, "A"))), newRequest, ops.ErrInvalidRecord, "operator record", "origin"},
		{"request: record of another epoch", wRequest(1, mfield(5, wAddRecord, vfield(5, 8))), newRequest, protocol.ErrEpochMismatch, "request", "record"},
		{"request: bootstrap with a record", wRequest(4, mfield(5, wAddRecord)), newRequest, protocol.ErrInvalidMessage, "request", "record"},
		{"request: create without destination", wRequest(1, mfield(5, wRemoveRecord)), newRequest, protocol.ErrInvalidMessage, "request", "record"},
		{"request: bad span key", wRequest(1, mfield(5, wAddRecord, mfield(6, sfield(2, "\xc3")))), newRequest, fsm.ErrMalformed, "operator record", "span"},
		{"request: unknown field truncated", cat(valid, sfield(99, "x")[:3]), newRequest, fsm.ErrMalformed, "request", "99"},
		{"request: stray end group", cat(valid, protowire.AppendTag(nil, 20, protowire.EndGroupType)), newRequest, fsm.ErrMalformed, "request", "20"},

		{"report: future version", cat(wReport(), vfield(1, 2)), newReport, fsm.ErrUnknownVersion, "status report", "version"},
		{"report: missing node", cat(vfield(1, 1), sfield(2, "cf")), newReport, fsm.ErrMissingField, "status report", "node"},
		{"report: status without state", wReport(mfield(5, sfield(1, "d1"))), newReport, ops.ErrUnknownComponentState, "status report", "state"},
		{"report: unknown state", wReport(mfield(5, sfield(1, "d1"), vfield(2, 8))), newReport, ops.ErrUnknownComponentState, "status report", "state"},
		{"report: status without id", wReport(mfield(5, vfield(2, 2))), newReport, protocol.ErrInvalidMessage, "status report", "statuses"},
		{"report: statuses of the wrong wire type", wReport(vfield(5, 2)), newReport, fsm.ErrMalformed, "status report", "statuses"},

		{"answer: no version", wAnswer()[2:], newAnswer, fsm.ErrUnknownVersion, "bootstrap answer", "version"},
		{"answer: missing changefeed", cat(vfield(1, 1), sfield(2, "A")), newAnswer, fsm.ErrMissingField, "bootstrap answer", "changefeed"},
		{"answer: dispatcher without span", wAnswer(mfield(5, sfield(1, "d1"), vfield(3, 2))), newAnswer, fsm.ErrMissingField, "dispatcher", "span"},
		{"answer: dispatcher without id", wAnswer(mfield(5, mfield(2, wSpan), vfield(3, 2))), newAnswer, fsm.ErrMissingField, "dispatcher", "id"},
		{"answer: dispatcher without state", wAnswer(mfield(5, sfield(1, "d1"), mfield(2, wSpan))), newAnswer, ops.ErrUnknownComponentState, "dispatcher", "state"},
		{"answer: unknown state", wAnswer(mfield(5, wDispatcher, vfield(3, 99))), newAnswer, ops.ErrUnknownComponentState, "dispatcher", "state"},
		{"answer: bad key", wAnswer(mfield(5, wDispatcher, mfield(2, sfield(3, "\xff")))), newAnswer, fsm.ErrMalformed, "dispatcher", "span"},
		{"answer: truncated dispatcher", cat(wAnswer(), protowire.AppendTag(nil, 5, protowire.BytesType), []byte{100}, wDispatcher), newAnswer,
			fsm.ErrMalformed, "bootstrap answer", "dispatchers"},
		{"answer: invalid journaled record", wAnswer(mfield(6, bytes.Replace(wRemoveRecord, sfield(7, "A"), nil, 1))), newAnswer,
			ops.ErrInvalidRecord, "operator record", "origin"},
		{"answer: merge journal of the wrong wire type", wAnswer(vfield(7, 1)), newAnswer, fsm.ErrMalformed, "bootstrap answer", "merges"},
		{"answer: future version after a bad dispatcher", cat(wAnswer(mfield(5, vfield(3, 99))), vfield(1, 2)), newAnswer,
			fsm.ErrUnknownVersion, "bootstrap answer", "version"},

		{"snapshot: future version", cat(wSnapshot(), vfield(1, 2)), newSnapshot, fsm.ErrUnknownVersion, "snapshot", "version"},
		{"snapshot: answer of a future version", wSnapshot(mfield(6, wAnswer(), vfield(1, 2))), newSnapshot, fsm.ErrUnknownVersion, "bootstrap answer", "version"},
		{"snapshot: answer without node", wSnapshot(mfield(6, vfield(1, 1), sfield(3, "cf"))), newSnapshot, fsm.ErrMissingField, "bootstrap answer", "node"},
		{"snapshot: tables of the wrong wire type", wSnapshot(protowire.AppendFixed64(protowire.AppendTag(nil, 5, protowire.Fixed64Type), 1)),
			newSnapshot, fsm.ErrMalformed, "snapshot", "tables"},
		{"snapshot: packed tables truncated", wSnapshot(mfield(5, []byte{1, 2, 0x80})), newSnapshot, fsm.ErrMalformed, "snapshot", "tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			into := tt.into()
			err := into.(encoding.BinaryUnmarshaler).UnmarshalBinary(tt.in)
			requireDecodeError(t, err, tt.sentinel, tt.msg, tt.field)
			require.Equal(t, tt.into(), into, "receiver changed on error")
		})
	}
}

// TestProtoAccepts: what a sender may write beyond what this encoder writes: unknown
// fields (skipped), fields out of order, repeated scalars (the last wins), a record in
// pieces (merged), unpacked tables, an explicit zero.
func TestProtoAccepts(t *testing.T) {
	unknown := cat(sfield(99, "future"), vfield(98, 3), protowire.AppendFixed32(protowire.AppendTag(nil, 97, protowire.Fixed32Type), 1),
		protowire.AppendTag(nil, 96, protowire.StartGroupType), vfield(1, 1), protowire.AppendTag(nil, 96, protowire.EndGroupType))
	want := protocol.Request{Changefeed: "cf", Epoch: 7, Kind: protocol.Create, Record: ops.Record{Changefeed: "cf", ID: "d1",
		Type: ops.TypeAdd, State: ops.AddRunning, Epoch: 7, Span: ops.Span{Table: 1, Start: "a", End: "b"}, Dest: "B"}}
	inputs := map[string][]byte{
		"unknown fields":       cat(unknown, wRequest(1, mfield(5, wAddRecord, unknown, mfield(6, wSpan, unknown)))),
		"reversed":             cat(mfield(5, wAddRecord), vfield(4, 1), vfield(3, 7), sfield(2, "cf"), vfield(1, 1)),
		"last scalar wins":     cat(vfield(1, 3), sfield(2, "other"), wRequest(1, mfield(5, sfield(8, "C"), wAddRecord))),
		"record in pieces":     wRequest(1, mfield(5, wAddRecord[:len(wAddRecord)-5]), mfield(5, wAddRecord[len(wAddRecord)-5:])),
		"explicit zero":        wRequest(1, mfield(5, wAddRecord, vfield(13, 0))),
		"span merged":          wRequest(1, mfield(5, wAddRecord, mfield(6, sfield(3, "b")))),
		"explicit zero record": cat(wRequest(1, mfield(5, wAddRecord)), vfield(99, 0)),
	}
	for name, in := range inputs {
		var got protocol.Request
		require.NoError(t, got.UnmarshalBinary(in), name)
		require.Equal(t, want, got, name)
		var gen pb.Request
		require.NoError(t, proto.Unmarshal(in, &gen), name)
		require.Equal(t, want, fromPBRequest(&gen), name)
	}

	var snap protocol.Snapshot
	require.NoError(t, snap.UnmarshalBinary(wSnapshot(vfield(5, 3), mfield(5, []byte{4, 5}), vfield(5, 6))))
	require.Equal(t, []ops.TableID{3, 4, 5, 6}, snap.Tables)

	var ans protocol.BootstrapAnswer
	require.NoError(t, ans.UnmarshalBinary(wAnswer(mfield(5, wDispatcher, vfield(4, 2)), mfield(6, wRemoveRecord))))
	require.Equal(t, []protocol.Dispatcher{{ID: "d1", Span: ops.Span{Table: 1, Start: "a", End: "b"}, State: ops.Working, Removing: true}}, ans.Dispatchers)
	require.Equal(t, ops.HookDelete, ans.Removes[0].Hook)
}

// TestProtoAnswerSharesInput: a decoded answer's strings are substrings of one copy of
// the input: changing the input afterwards changes nothing, and decoding a dispatcher
// allocates nothing of its own.
func TestProtoAnswerSharesInput(t *testing.T) {
	ans := newGen(5).answer(1000, 0)
	ans.Removes, ans.Merges = nil, nil
	data, err := ans.MarshalBinary()
	require.NoError(t, err)
	var got protocol.BootstrapAnswer
	require.NoError(t, got.UnmarshalBinary(data))
	for i := range data {
		data[i] = 0
	}
	require.Equal(t, normAnswer(ans), got)

	data, err = ans.MarshalBinary()
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(20, func() {
		var a protocol.BootstrapAnswer
		if err := a.UnmarshalBinary(data); err != nil {
			panic(err)
		}
	})
	require.LessOrEqual(t, allocs, 2.0, "one string, one dispatcher slice")
}
