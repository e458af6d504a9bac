package transport

import (
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
)

// MaxFrameSize is the largest frame either side sends or accepts, in bytes: room for the
// bootstrap answer of a node with about a million dispatchers. A larger message is not
// sent; it is dropped and counted, and logged as an error.
const MaxFrameSize = 256 << 20

// Timing of the transport.
const (
	// minBackoff and maxBackoff bound the wait before a broken stream is reopened (it
	// doubles from the first to the second while reopening fails) and gRPC's own wait
	// between connection attempts.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 500 * time.Millisecond
	// healthyAfter is how long a stream must have lived for the next reopen to wait
	// minBackoff again.
	healthyAfter = time.Second
	// keepaliveTime and keepaliveTimeout: each side pings a connection that was quiet for
	// keepaliveTime and closes it when the ping is not answered within keepaliveTimeout,
	// so a peer that vanished without closing its connection is noticed.
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
	// connectTimeout bounds one connection attempt to a node.
	connectTimeout = 5 * time.Second
)

// Default queue sizes, in frames. A node's queue holds status reports and answers (one
// report carries every status of a heartbeat); a maintainer's holds requests, which come
// in bursts when it recovers (every restored operator's request at once).
const (
	defaultServerQueue = 256
	defaultClientQueue = 8192
)

// serviceDesc is what protoc-gen-go-grpc would generate for cluster.proto's
// DispatcherManager. It is written by hand because the generated server and client would
// speak in clusterpb's types, which the transport does not use: its codec encodes frames
// from, and decodes them into, package protocol's types directly (no copy through
// generated messages on the hot path), and the module does not carry protoc-gen-go-grpc.
var serviceDesc = grpc.ServiceDesc{
	ServiceName: "opfsm.cluster.v1.DispatcherManager",
	HandlerType: (*sessionServer)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Session",
		Handler:       func(srv any, stream grpc.ServerStream) error { return srv.(sessionServer).serveSession(stream) },
		ServerStreams: true,
		ClientStreams: true,
	}},
	Metadata: "cluster/transport/cluster.proto",
}

// sessionMethod is the full name of the Session method.
const sessionMethod = "/opfsm.cluster.v1.DispatcherManager/Session"

// sessionServer is what serves the DispatcherManager service: *Server.
type sessionServer interface {
	serveSession(stream grpc.ServerStream) error
}

// codecName names the frame codec. It is forced on both ends (grpc.ForceServerCodecV2,
// grpc.ForceCodecV2) and never registered, so the process's global "proto" codec stays as
// it is.
const codecName = "opfsm-cluster-frames"

// contentSubtype is what the client announces: the frames are protobuf messages of
// cluster.proto, so the wire says "application/grpc+proto" and a server generated from
// the schema in any language reads them.
const contentSubtype = "proto"

// codec moves frames through gRPC. An outgoing frame is already encoded (a []byte), so
// Marshal only hands it over. Unmarshal decodes straight from gRPC's buffers into a
// *inToNode or *inFromNode and never fails on the frame's content: a frame that does not
// decode comes back with its error, so the receiver drops it and counts it, and the
// stream (whose later frames are intact: gRPC delimits messages) goes on.
type codec struct{}

var _ encoding.CodecV2 = codec{}

// inToNode is a received ToNode frame, or why it did not decode.
type inToNode struct {
	frame toNode
	err   error
}

// inFromNode is a received FromNode frame, or why it did not decode.
type inFromNode struct {
	frame fromNode
	err   error
}

// Name implements encoding.CodecV2.
func (codec) Name() string { return codecName }

// Marshal implements encoding.CodecV2: v is an encoded frame.
func (codec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("transport: codec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

// Unmarshal implements encoding.CodecV2. The decoders copy what they keep, so the buffers
// may be freed when it returns.
func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	var b []byte
	if len(data) == 1 {
		b = data[0].ReadOnlyData()
	} else {
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		b = buf.ReadOnlyData()
	}
	switch in := v.(type) {
	case *inToNode:
		in.frame, in.err = decodeToNode(b)
	case *inFromNode:
		in.frame, in.err = decodeFromNode(b)
	default:
		return fmt.Errorf("transport: codec cannot unmarshal into %T", v)
	}
	return nil
}

// serverOptions are the gRPC options of every Server.
func serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec{}),
		grpc.MaxRecvMsgSize(MaxFrameSize),
		grpc.MaxSendMsgSize(MaxFrameSize),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}),
		grpc.WaitForHandlers(true),
	}
}

// dialOptions are the gRPC options of every connection of a Client.
func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: minBackoff, Multiplier: 2, Jitter: 0.2, MaxDelay: maxBackoff},
			MinConnectTimeout: connectTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
	}
}

// callOptions are the options of every Session stream a Client opens.
func callOptions() []grpc.CallOption {
	return []grpc.CallOption{
		grpc.ForceCodecV2(codec{}),
		grpc.CallContentSubtype(contentSubtype),
		grpc.MaxCallRecvMsgSize(MaxFrameSize),
		grpc.MaxCallSendMsgSize(MaxFrameSize),
	}
}
