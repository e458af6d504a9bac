package clusterpb

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/protocol/protocolpb"
)

// TestGetters: every getter answers its field on a message and its zero value on a nil
// one, and a oneof getter answers only for the body that is set.
func TestGetters(t *testing.T) {
	hello := &Hello{Changefeed: "cf", Epoch: 3, Maintainer: "m"}
	req := &protocolpb.Request{Changefeed: "cf"}
	status := &protocolpb.StatusReport{Changefeed: "cf"}
	answer := &protocolpb.BootstrapAnswer{Changefeed: "cf"}
	t.Run("ToNode", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			m     *ToNode
			seq   uint64
			body  isToNode_Body
			hello *Hello
			req   *protocolpb.Request
		}{
			{"nil", nil, 0, nil, nil, nil},
			{"hello", &ToNode{Seq: 1, Body: &ToNode_Hello{Hello: hello}}, 1, &ToNode_Hello{Hello: hello}, hello, nil},
			{"request", &ToNode{Seq: 2, Body: &ToNode_Request{Request: req}}, 2, &ToNode_Request{Request: req}, nil, req},
			{"no body", &ToNode{Seq: 3}, 3, nil, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.Equal(t, tc.seq, tc.m.GetSeq())
				require.Equal(t, tc.body, tc.m.GetBody())
				require.Same(t, tc.hello, tc.m.GetHello())
				require.Same(t, tc.req, tc.m.GetRequest())
			})
		}
	})
	t.Run("Hello", func(t *testing.T) {
		var none *Hello
		require.Equal(t, "", none.GetChangefeed())
		require.Zero(t, none.GetEpoch())
		require.Equal(t, "", none.GetMaintainer())
		require.Equal(t, "cf", hello.GetChangefeed())
		require.Equal(t, uint64(3), hello.GetEpoch())
		require.Equal(t, "m", hello.GetMaintainer())
	})
	t.Run("FromNode", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			m      *FromNode
			seq    uint64
			body   isFromNode_Body
			status *protocolpb.StatusReport
			answer *protocolpb.BootstrapAnswer
		}{
			{"nil", nil, 0, nil, nil, nil},
			{"status", &FromNode{Seq: 1, Body: &FromNode_Status{Status: status}}, 1, &FromNode_Status{Status: status}, status, nil},
			{"answer", &FromNode{Seq: 2, Body: &FromNode_Answer{Answer: answer}}, 2, &FromNode_Answer{Answer: answer}, nil, answer},
			{"no body", &FromNode{Seq: 3}, 3, nil, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.Equal(t, tc.seq, tc.m.GetSeq())
				require.Equal(t, tc.body, tc.m.GetBody())
				require.Same(t, tc.status, tc.m.GetStatus())
				require.Same(t, tc.answer, tc.m.GetAnswer())
			})
		}
	})
}

// TestReflection: the messages reflect as the schema names them, through a nil pointer
// too, and survive a round trip through proto.Marshal.
func TestReflection(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    proto.Message
		nilM proto.Message
		full string
	}{
		{"ToNode", &ToNode{Seq: 7, Body: &ToNode_Hello{Hello: &Hello{Changefeed: "cf", Epoch: 1}}}, (*ToNode)(nil), "opfsm.cluster.v1.ToNode"},
		{"Hello", &Hello{Changefeed: "cf", Epoch: 1, Maintainer: "m"}, (*Hello)(nil), "opfsm.cluster.v1.Hello"},
		{"FromNode", &FromNode{Seq: 7, Body: &FromNode_Status{Status: &protocolpb.StatusReport{Node: "n"}}}, (*FromNode)(nil), "opfsm.cluster.v1.FromNode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.full, string(tc.m.ProtoReflect().Descriptor().FullName()))
			require.Equal(t, tc.full, string(tc.nilM.ProtoReflect().Descriptor().FullName()))
			require.False(t, tc.nilM.ProtoReflect().IsValid(), "a nil message is not valid")
			require.True(t, tc.m.ProtoReflect().IsValid())
			b, err := proto.Marshal(tc.m)
			require.NoError(t, err)
			back := tc.m.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(b, back))
			require.True(t, proto.Equal(tc.m, back))
			// A message whose state was reset reflects again without losing its type.
			proto.Reset(back)
			require.Equal(t, tc.full, string(back.ProtoReflect().Descriptor().FullName()))
		})
	}
	_, idx := (&ToNode{}).Descriptor()
	require.Equal(t, []int{0}, idx)
	raw, idx := (&Hello{}).Descriptor()
	require.Equal(t, []int{1}, idx)
	require.NotEmpty(t, raw)
	_, idx = (&FromNode{}).Descriptor()
	require.Equal(t, []int{2}, idx)
}
