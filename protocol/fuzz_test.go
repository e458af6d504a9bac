package protocol_test

import (
	"encoding"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/protocol"
	pb "github.com/opfsm/opfsm/protocol/protocolpb"
)

// The fuzz targets: one per message and encoding. Each asserts that the decoder does not
// panic, fails only with a *fsm.DecodeError and then leaves its receiver alone, and that
// what it accepts re-encodes (in both encodings) and decodes to an equal value. The proto
// targets also check the generated code: where the hand-written decoder succeeds,
// proto.Unmarshal succeeds too and reads the same message.

// codec is what the targets need of a message type T.
type codec[T any] struct {
	old  T                     // what a receiver holds before decoding
	norm func(T) T             // maps empty lists to nil
	pb   func() proto.Message  // a fresh generated message
	from func(proto.Message) T // converts it back
	seed func(g gen) T         // a random valid message
	ptr  func(*T) decodable    // *T's methods
	val  func(T) (json.Marshaler, binaryMessage)
}

type decodable interface {
	json.Unmarshaler
	encoding.BinaryUnmarshaler
}

var (
	requestCodec = codec[protocol.Request]{
		old:  protocol.Request{Changefeed: "old", Epoch: 1, Kind: protocol.Bootstrap},
		norm: normRequest,
		pb:   func() proto.Message { return &pb.Request{} },
		from: func(m proto.Message) protocol.Request { return fromPBRequest(m.(*pb.Request)) },
		seed: func(g gen) protocol.Request { return g.request() },
		ptr:  func(v *protocol.Request) decodable { return v },
		val:  func(v protocol.Request) (json.Marshaler, binaryMessage) { return v, v },
	}
	reportCodec = codec[protocol.StatusReport]{
		old:  protocol.StatusReport{Changefeed: "old", Node: "old"},
		norm: normReport,
		pb:   func() proto.Message { return &pb.StatusReport{} },
		from: func(m proto.Message) protocol.StatusReport { return fromPBReport(m.(*pb.StatusReport)) },
		seed: func(g gen) protocol.StatusReport { return g.report(g.r.IntN(5)) },
		ptr:  func(v *protocol.StatusReport) decodable { return v },
		val:  func(v protocol.StatusReport) (json.Marshaler, binaryMessage) { return v, v },
	}
	answerCodec = codec[protocol.BootstrapAnswer]{
		old:  protocol.BootstrapAnswer{Changefeed: "old", Node: "old"},
		norm: normAnswer,
		pb:   func() proto.Message { return &pb.BootstrapAnswer{} },
		from: func(m proto.Message) protocol.BootstrapAnswer { return fromPBAnswer(m.(*pb.BootstrapAnswer)) },
		seed: func(g gen) protocol.BootstrapAnswer { return g.answer(g.r.IntN(4), 2) },
		ptr:  func(v *protocol.BootstrapAnswer) decodable { return v },
		val:  func(v protocol.BootstrapAnswer) (json.Marshaler, binaryMessage) { return v, v },
	}
	snapshotCodec = codec[protocol.Snapshot]{
		old:  protocol.Snapshot{Changefeed: "old", Epoch: 1},
		norm: normSnapshot,
		pb:   func() proto.Message { return &pb.Snapshot{} },
		from: func(m proto.Message) protocol.Snapshot { return fromPBSnapshot(m.(*pb.Snapshot)) },
		seed: func(g gen) protocol.Snapshot { return g.snapshot() },
		ptr:  func(v *protocol.Snapshot) decodable { return v },
		val:  func(v protocol.Snapshot) (json.Marshaler, binaryMessage) { return v, v },
	}
)

// seedJSON and seedProto add valid encodings of random messages to the corpus.
func seedJSON[T any](f *testing.F, c codec[T]) {
	g := newGen(7)
	for range 8 {
		j, _ := c.val(c.seed(g))
		data, err := j.MarshalJSON()
		require.NoError(f, err)
		f.Add(data)
	}
}

func seedProto[T any](f *testing.F, c codec[T]) {
	g := newGen(7)
	for range 8 {
		_, b := c.val(c.seed(g))
		data, err := b.MarshalBinary()
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte{})
}

// requireRefused checks a decoding failure: a *fsm.DecodeError, the receiver untouched.
func requireRefused[T any](t *testing.T, c codec[T], err error, got T) {
	t.Helper()
	var de *fsm.DecodeError
	require.True(t, errors.As(err, &de), "%T is not a *fsm.DecodeError: %v", err, err)
	require.Equal(t, c.old, got, "receiver changed on error")
}

// requireReencodes checks that an accepted value v re-encodes, in both encodings, to
// something that decodes to v.
func requireReencodes[T any](t *testing.T, c codec[T], v T) {
	t.Helper()
	j, b := c.val(v)
	data, err := j.MarshalJSON()
	require.NoError(t, err)
	var fromJSON T
	require.NoError(t, c.ptr(&fromJSON).UnmarshalJSON(data), "%s", data)
	require.Equal(t, c.norm(v), c.norm(fromJSON))

	data, err = b.MarshalBinary()
	require.NoError(t, err)
	var fromProto T
	require.NoError(t, c.ptr(&fromProto).UnmarshalBinary(data), "%x", data)
	require.Equal(t, c.norm(v), c.norm(fromProto))
}

func fuzzJSON[T any](f *testing.F, c codec[T]) {
	seedJSON(f, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		got := c.old
		if err := c.ptr(&got).UnmarshalJSON(data); err != nil {
			requireRefused(t, c, err, got)
			return
		}
		requireReencodes(t, c, got)
	})
}

func fuzzProto[T any](f *testing.F, c codec[T]) {
	seedProto(f, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		got := c.old
		if err := c.ptr(&got).UnmarshalBinary(data); err != nil {
			requireRefused(t, c, err, got)
			return
		}
		m := c.pb()
		require.NoError(t, proto.Unmarshal(data, m), "the generated code refuses what the hand-written decoder accepts")
		require.Equal(t, c.norm(got), c.norm(c.from(m)), "the generated code reads another message")
		requireReencodes(t, c, got)
	})
}

// FuzzRequestJSON fuzzes Request.UnmarshalJSON.
func FuzzRequestJSON(f *testing.F) { fuzzJSON(f, requestCodec) }

// FuzzRequestProto fuzzes Request.UnmarshalBinary against the generated code.
func FuzzRequestProto(f *testing.F) { fuzzProto(f, requestCodec) }

// FuzzStatusReportJSON fuzzes StatusReport.UnmarshalJSON.
func FuzzStatusReportJSON(f *testing.F) { fuzzJSON(f, reportCodec) }

// FuzzStatusReportProto fuzzes StatusReport.UnmarshalBinary against the generated code.
func FuzzStatusReportProto(f *testing.F) { fuzzProto(f, reportCodec) }

// FuzzBootstrapAnswerJSON fuzzes BootstrapAnswer.UnmarshalJSON.
func FuzzBootstrapAnswerJSON(f *testing.F) { fuzzJSON(f, answerCodec) }

// FuzzBootstrapAnswerProto fuzzes BootstrapAnswer.UnmarshalBinary against the generated
// code.
func FuzzBootstrapAnswerProto(f *testing.F) { fuzzProto(f, answerCodec) }

// FuzzSnapshotJSON fuzzes Snapshot.UnmarshalJSON.
func FuzzSnapshotJSON(f *testing.F) { fuzzJSON(f, snapshotCodec) }

// FuzzSnapshotProto fuzzes Snapshot.UnmarshalBinary against the generated code.
func FuzzSnapshotProto(f *testing.F) { fuzzProto(f, snapshotCodec) }
