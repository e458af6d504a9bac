package transport

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/cluster/transport/clusterpb"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/protocol/protocolpb"
)

// The hand codec against the schema: hand-encoded frames are what proto.Marshal writes
// for the same generated message and read back by proto.Unmarshal with equal content, and
// what the generated code writes decodes by hand to the same messages.

// asPB reads a protocol message's bytes into a fresh generated message.
func asPB[M proto.Message](t *testing.T, b []byte, m M) M {
	t.Helper()
	require.NoError(t, proto.Unmarshal(b, m))
	return m
}

// sameBytes requires that the hand frame reads into pb with proto.Unmarshal and that
// proto.Marshal writes it back byte for byte.
func sameBytes(t *testing.T, hand []byte, pb proto.Message) {
	t.Helper()
	got := pb.ProtoReflect().New().Interface()
	require.NoError(t, proto.Unmarshal(hand, got))
	require.True(t, proto.Equal(pb, got), "proto.Unmarshal of the hand frame:\n got %v\nwant %v", got, pb)
	back, err := proto.MarshalOptions{Deterministic: true}.Marshal(pb)
	require.NoError(t, err)
	require.Equal(t, back, hand, "proto.Marshal and the hand encoder disagree")
}

func TestSchemaToNode(t *testing.T) {
	for _, seq := range seqs {
		h := hello{changefeed: testCF, epoch: 12, maintainer: "m\u00e9"}
		pb := &clusterpb.ToNode{Seq: seq, Body: &clusterpb.ToNode_Hello{Hello: &clusterpb.Hello{
			Changefeed: string(h.changefeed), Epoch: uint64(h.epoch), Maintainer: h.maintainer}}}
		sameBytes(t, encodeHelloFrame(seq, h), pb)
		wire, err := proto.Marshal(pb)
		require.NoError(t, err)
		got, err := decodeToNode(wire)
		require.NoError(t, err)
		require.Equal(t, toNode{seq: seq, isHello: true, hello: h}, got)

		for _, req := range requests(12) {
			pb := &clusterpb.ToNode{Seq: seq, Body: &clusterpb.ToNode_Request{
				Request: asPB(t, reencode(t, req), &protocolpb.Request{})}}
			hand, err := encodeRequestFrame(seq, req)
			require.NoError(t, err)
			sameBytes(t, hand, pb)
			wire, err := proto.Marshal(pb)
			require.NoError(t, err)
			got, err := decodeToNode(wire)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.False(t, got.isHello)
			require.Equal(t, reencode(t, req), reencode(t, got.request))
		}
	}
}

func TestSchemaFromNode(t *testing.T) {
	for _, seq := range seqs {
		for _, r := range []protocol.StatusReport{report("B", 4, 0), report("n\u00e9", 4, 30)} {
			pb := &clusterpb.FromNode{Seq: seq, Body: &clusterpb.FromNode_Status{
				Status: asPB(t, reencode(t, r), &protocolpb.StatusReport{})}}
			hand, err := encodeStatusFrame(seq, r)
			require.NoError(t, err)
			sameBytes(t, hand, pb)
			wire, err := proto.Marshal(pb)
			require.NoError(t, err)
			got, err := decodeFromNode(wire)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.False(t, got.isAnswer)
			require.Equal(t, reencode(t, r), reencode(t, got.status))
		}
		for _, a := range answers(4) {
			pb := &clusterpb.FromNode{Seq: seq, Body: &clusterpb.FromNode_Answer{
				Answer: asPB(t, reencode(t, a), &protocolpb.BootstrapAnswer{})}}
			hand, err := encodeAnswerFrame(seq, a)
			require.NoError(t, err)
			sameBytes(t, hand, pb)
			wire, err := proto.Marshal(pb)
			require.NoError(t, err)
			got, err := decodeFromNode(wire)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.True(t, got.isAnswer)
			require.Equal(t, reencode(t, a), reencode(t, got.answer))
		}
	}
}

// TestSchemaNames: the hand-written service description names what the schema declares.
func TestSchemaNames(t *testing.T) {
	sd := clusterpb.File_cluster_transport_cluster_proto.Services().Get(0)
	require.Equal(t, serviceDesc.ServiceName, string(sd.FullName()))
	m := sd.Methods().Get(0)
	require.Equal(t, serviceDesc.Streams[0].StreamName, string(m.Name()))
	require.Equal(t, sessionMethod, "/"+string(sd.FullName())+"/"+string(m.Name()))
	require.True(t, m.IsStreamingClient())
	require.True(t, m.IsStreamingServer())
	require.Equal(t, "opfsm.cluster.v1.ToNode", string(m.Input().FullName()))
	require.Equal(t, "opfsm.cluster.v1.FromNode", string(m.Output().FullName()))
	// The field numbers the hand codec uses.
	to := m.Input().Fields()
	require.EqualValues(t, seqField, to.ByName("seq").Number())
	require.EqualValues(t, toNodeHello, to.ByName("hello").Number())
	require.EqualValues(t, toNodeRequest, to.ByName("request").Number())
	from := m.Output().Fields()
	require.EqualValues(t, seqField, from.ByName("seq").Number())
	require.EqualValues(t, fromNodeStatus, from.ByName("status").Number())
	require.EqualValues(t, fromNodeAnswer, from.ByName("answer").Number())
	h := to.ByName("hello").Message().Fields()
	require.EqualValues(t, helloChangefeed, h.ByName("changefeed").Number())
	require.EqualValues(t, helloEpoch, h.ByName("epoch").Number())
	require.EqualValues(t, helloMaintainer, h.ByName("maintainer").Number())
}
