package transport

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/cluster/transport/clusterpb"
	"github.com/opfsm/opfsm/internal/testgen"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// BenchmarkFrame encodes and decodes one frame of each kind with the hand codec, and
// decodes it with the generated code for comparison: a request (a move's Remove), a
// heartbeat's report of 1,000 statuses, and the bootstrap answer of a node with 1,000
// dispatchers and their journals.
func BenchmarkFrame(b *testing.B) {
	ans := testgen.BigSnapshot(100_000).Answers[0]
	cases := []struct {
		name   string
		num    protowire.Number
		msg    interface{ AppendBinary([]byte) ([]byte, error) }
		decode func([]byte) error
		pb     func() proto.Message
	}{
		{"request", toNodeRequest, requests(3)[2], func(f []byte) error { _, err := decodeToNode(f); return err },
			func() proto.Message { return &clusterpb.ToNode{} }},
		{"status-1000", fromNodeStatus, report("B", 3, 1000), func(f []byte) error { _, err := decodeFromNode(f); return err },
			func() proto.Message { return &clusterpb.FromNode{} }},
		{"answer-1000", fromNodeAnswer, ans, func(f []byte) error { _, err := decodeFromNode(f); return err },
			func() proto.Message { return &clusterpb.FromNode{} }},
	}
	for _, c := range cases {
		body, err := encodeBody(c.num, c.msg)
		if err != nil {
			b.Fatal(err)
		}
		frame := body.frame(1 << 20)
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for i := range b.N {
				body, err := encodeBody(c.num, c.msg)
				if err != nil {
					b.Fatal(err)
				}
				_ = body.frame(uint64(i))
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for range b.N {
				if err := c.decode(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/decode-generated", func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for range b.N {
				if err := proto.Unmarshal(frame, c.pb()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSession sends requests from a Client to a Server over loopback gRPC: the time
// per request from Send to the Handler, both ends in this process.
func BenchmarkSession(b *testing.B) {
	var got atomic.Int64
	srv := NewServer(testCF, handlerFunc(func(SessionInfo, uint64, protocol.Request) { got.Add(1) }), nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	c := NewClient(testCF, 3, "m", nopClient{}, nil, WithQueueSize(b.N+1))
	defer c.Close()
	c.SetNode("A", l.Addr().String())
	req := requests(3)[2]
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, ok := c.Send("A", req); !ok {
			b.Fatal("queue full")
		}
	}
	for got.Load() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
}

type handlerFunc func(SessionInfo, uint64, protocol.Request)

func (f handlerFunc) Request(s SessionInfo, seq uint64, r protocol.Request) { f(s, seq, r) }

type nopClient struct{}

func (nopClient) Status(ops.NodeID, uint64, protocol.StatusReport)    {}
func (nopClient) Answer(ops.NodeID, uint64, protocol.BootstrapAnswer) {}
