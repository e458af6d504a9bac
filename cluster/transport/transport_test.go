package transport

import (
	"context"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Every test here runs real gRPC over loopback listeners on 127.0.0.1:0 and closes what
// it starts with t.Cleanup, failed or not.

const waitFor = 5 * time.Second

// delivery is one request a node received.
type delivery struct {
	s   SessionInfo
	seq uint64
	req protocol.Request
}

// nodeRec is a Handler that records what it is handed; gate, when set, holds each call
// until it can receive from it.
type nodeRec struct {
	mu      sync.Mutex
	got     []delivery
	gate    chan struct{}
	waiting atomic.Int32 // calls held at the gate
}

func (h *nodeRec) Request(s SessionInfo, seq uint64, req protocol.Request) {
	if h.gate != nil {
		h.waiting.Add(1)
		<-h.gate
		h.waiting.Add(-1)
	}
	h.mu.Lock()
	h.got = append(h.got, delivery{s, seq, req})
	h.mu.Unlock()
}

func (h *nodeRec) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// inbound is one message a maintainer received.
type inbound struct {
	node   ops.NodeID
	seq    uint64
	status *protocol.StatusReport
	answer *protocol.BootstrapAnswer
}

// maintRec is a ClientHandler that records what it is handed; gate as nodeRec's.
type maintRec struct {
	mu   sync.Mutex
	got  []inbound
	gate chan struct{}
}

func (h *maintRec) Status(n ops.NodeID, seq uint64, r protocol.StatusReport) {
	h.add(inbound{node: n, seq: seq, status: &r})
}

func (h *maintRec) Answer(n ops.NodeID, seq uint64, a protocol.BootstrapAnswer) {
	h.add(inbound{node: n, seq: seq, answer: &a})
}

func (h *maintRec) add(in inbound) {
	if h.gate != nil {
		<-h.gate
	}
	h.mu.Lock()
	h.got = append(h.got, in)
	h.mu.Unlock()
}

func (h *maintRec) received() []inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// startServer serves a new Server of changefeed cf on addr ("" for a free loopback port)
// and returns it and its address; cleanup stops it and checks that Serve returned nil.
func startServer(t *testing.T, cf ops.ChangefeedID, h Handler, addr string, opts ...Option) (*Server, string) {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	s := NewServer(cf, h, zaptest.NewLogger(t), opts...)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Stop()
		require.NoError(t, <-served)
	})
	return s, l.Addr().String()
}

func newClient(t *testing.T, epoch ops.Epoch, name string, h ClientHandler, opts ...Option) *Client {
	t.Helper()
	c := NewClient(testCF, epoch, name, h, zaptest.NewLogger(t), opts...)
	t.Cleanup(c.Close)
	return c
}

// rawSession opens a Session stream to addr without a Client, to send any bytes.
func rawSession(t *testing.T, addr string) grpc.ClientStream {
	t.Helper()
	cc, err := grpc.NewClient(addr, dialOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := cc.NewStream(ctx, &serviceDesc.Streams[0], sessionMethod, callOptions()...)
	require.NoError(t, err)
	return stream
}

// openOnCleanup closes gate when the test ends, unless it is closed already, so a failed
// test does not leave a handler blocked (Stop and Close wait for handler calls). Call it
// after the Server or Client whose handler waits is started: cleanups run last first.
func openOnCleanup(t *testing.T, gate chan struct{}) (open func()) {
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	return open
}

// pass lets one held handler call through gate.
func pass(t *testing.T, gate chan struct{}) {
	t.Helper()
	select {
	case gate <- struct{}{}:
	case <-time.After(waitFor):
		t.Fatal("no handler call waits at the gate")
	}
}

// reqFrame is the ToNode frame of seq carrying req.
func reqFrame(t *testing.T, seq uint64, req protocol.Request) []byte {
	t.Helper()
	b, err := encodeRequestFrame(seq, req)
	require.NoError(t, err)
	return b
}

// TestRequestsInOrder: a Client's requests reach the node in the order sent, numbered
// from 1, with the session's epoch and name.
func TestRequestsInOrder(t *testing.T) {
	node := &nodeRec{}
	srv, addr := startServer(t, testCF, node, "")
	c := newClient(t, 3, "maint-3", &maintRec{})

	seq, ok := c.Send("A", createRequest(3, 0))
	require.False(t, ok, "unknown node")
	require.Zero(t, seq)
	c.SetNode("A", addr)
	c.SetNode("A", addr) // the same address: nothing changes
	seq, ok = c.Send("A", createRequest(4, 0))
	require.False(t, ok, "another epoch")
	require.Zero(t, seq)

	const n = 500
	var want []protocol.Request
	for i := range n {
		req := createRequest(3, i)
		if i%50 == 0 {
			req = requests(3)[i%len(requests(3))]
		}
		seq, ok := c.Send("A", req)
		require.True(t, ok)
		require.Equal(t, uint64(i+1), seq)
		want = append(want, req)
	}
	require.Eventually(t, func() bool { return len(node.deliveries()) == n }, waitFor, 5*time.Millisecond)
	for i, d := range node.deliveries() {
		require.Equal(t, uint64(i+1), d.seq)
		require.Equal(t, reencode(t, want[i]), reencode(t, d.req), i)
		require.Equal(t, ops.Epoch(3), d.s.Epoch)
		require.Equal(t, "maint-3", d.s.Maintainer)
		require.NotEmpty(t, d.s.Remote)
	}
	require.Equal(t, Stats{Sessions: 1, Sent: n, Dropped: 1}, c.Stats()) // the other epoch's request
	require.Equal(t, Stats{Sessions: 1, Received: n}, srv.Stats())
	sessions := srv.Sessions()
	require.Len(t, sessions, 1)
	require.Equal(t, SessionInfo{ID: 1, Epoch: 3, Maintainer: "maint-3", Remote: sessions[0].Remote}, sessions[0])
}

// TestReportsReachTheirEpoch: a report or answer goes to the sessions of its epoch only,
// and every message of the node carries the next seq of the node.
func TestReportsReachTheirEpoch(t *testing.T) {
	srv, addr := startServer(t, testCF, &nodeRec{}, "")
	m1, m2 := &maintRec{}, &maintRec{}
	newClient(t, 1, "m1", m1).SetNode("A", addr)
	newClient(t, 2, "m2", m2).SetNode("A", addr)
	require.Eventually(t, func() bool { return len(srv.Sessions()) == 2 }, waitFor, 5*time.Millisecond)

	rep := report("A", 1, 3)
	ans := answers(2)[1]
	seq, n := srv.SendReport(1, rep)
	require.Equal(t, uint64(1), seq)
	require.Equal(t, 1, n)
	seq, n = srv.SendAnswer(2, ans)
	require.Equal(t, uint64(2), seq)
	require.Equal(t, 1, n)
	seq, n = srv.SendReport(7, report("A", 7, 1))
	require.Zero(t, seq, "no session of epoch 7")
	require.Zero(t, n)
	seq, n = srv.SendReport(2, report("A", 2, 1))
	require.Equal(t, uint64(3), seq)
	require.Equal(t, 1, n)

	require.Eventually(t, func() bool { return len(m1.received()) == 1 && len(m2.received()) == 2 }, waitFor, 5*time.Millisecond)
	got1, got2 := m1.received(), m2.received()
	require.Equal(t, ops.NodeID("A"), got1[0].node)
	require.Equal(t, uint64(1), got1[0].seq)
	require.NotNil(t, got1[0].status)
	require.Equal(t, reencode(t, rep), reencode(t, *got1[0].status))
	require.Equal(t, uint64(2), got2[0].seq)
	require.NotNil(t, got2[0].answer)
	require.Equal(t, reencode(t, ans), reencode(t, *got2[0].answer))
	require.Equal(t, uint64(3), got2[1].seq)
	require.NotNil(t, got2[1].status)
	require.Equal(t, Stats{Sessions: 2, Sent: 3}, srv.Stats())
}

// TestRefusals: a Hello of another changefeed is refused with FAILED_PRECONDITION naming
// both, a stream that does not start with a Hello with INVALID_ARGUMENT; after the Hello,
// frames that do not decode or do not belong are dropped and counted, and the session
// goes on.
func TestRefusals(t *testing.T) {
	node := &nodeRec{}
	srv, addr := startServer(t, "other-cf", node, "")

	stream := rawSession(t, addr)
	require.NoError(t, stream.SendMsg(encodeHelloFrame(0, hello{changefeed: testCF, epoch: 1, maintainer: "m"})))
	err := stream.RecvMsg(&inFromNode{})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	require.Contains(t, err.Error(), `"other-cf"`)
	require.Contains(t, err.Error(), `"cf"`)

	stream = rawSession(t, addr)
	require.NoError(t, stream.SendMsg(reqFrame(t, 1, requests(1)[0])))
	err = stream.RecvMsg(&inFromNode{})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	stream = rawSession(t, addr)
	require.NoError(t, stream.SendMsg([]byte{0xff}))
	err = stream.RecvMsg(&inFromNode{})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, err.Error(), "ToNode frame")

	// A Client of the wrong changefeed keeps being refused, and never registers.
	c := newClient(t, 1, "m", &maintRec{})
	c.SetNode("A", addr)
	require.Eventually(t, func() bool { return srv.Stats().Rejected >= 5 }, waitFor, 5*time.Millisecond)
	require.Empty(t, srv.Sessions())

	// After a good Hello, bad frames are dropped.
	srv, addr = startServer(t, "other-cf", node, "")
	good := requests(1)[0]
	good.Changefeed = "other-cf"
	stream = rawSession(t, addr)
	require.NoError(t, stream.SendMsg(encodeHelloFrame(0, hello{changefeed: "other-cf", epoch: 1})))
	require.NoError(t, stream.SendMsg([]byte{0x1a, 0x01, 0xff}))                                     // a request that does not decode
	require.NoError(t, stream.SendMsg(encodeHelloFrame(0, hello{changefeed: "other-cf", epoch: 1}))) // a second hello
	wrongEpoch := good
	wrongEpoch.Epoch = 2
	require.NoError(t, stream.SendMsg(reqFrame(t, 2, wrongEpoch)))
	require.NoError(t, stream.SendMsg(reqFrame(t, 3, good)))
	require.Eventually(t, func() bool { return len(node.deliveries()) == 1 }, waitFor, 5*time.Millisecond)
	require.Equal(t, uint64(3), node.deliveries()[0].seq)
	require.Equal(t, Stats{Sessions: 1, Received: 1, Rejected: 3}, srv.Stats())
	require.Len(t, srv.Sessions(), 1)
}

// TestReconnect: a Server that stops breaks the stream; the Client reopens it to a new
// Server at the same address, then, told so, at another one, and its seqs never restart.
func TestReconnect(t *testing.T) {
	node1, node2, node3 := &nodeRec{}, &nodeRec{}, &nodeRec{}
	srv1, addr := startServer(t, testCF, node1, "")
	c := newClient(t, 4, "m", &maintRec{})
	c.SetNode("A", addr)

	// sendUntil sends a request every few milliseconds until node has one.
	var sent []uint64
	sendUntil := func(node *nodeRec) {
		require.Eventually(t, func() bool {
			if seq, ok := c.Send("A", createRequest(4, len(sent))); ok {
				sent = append(sent, seq)
			}
			return len(node.deliveries()) > 0
		}, waitFor, 10*time.Millisecond)
	}
	sendUntil(node1)
	srv1.Stop()
	require.Empty(t, srv1.Sessions())

	_, _ = startServer(t, testCF, node2, addr)
	sendUntil(node2)

	_, addr3 := startServer(t, testCF, node3, "")
	c.SetNode("A", addr3)
	sendUntil(node3)

	// Every node saw increasing seqs, each later node only seqs above the earlier ones'.
	var last uint64
	for _, node := range []*nodeRec{node1, node2, node3} {
		for _, d := range node.deliveries() {
			require.Greater(t, d.seq, last)
			last = d.seq
		}
	}
	require.LessOrEqual(t, last, sent[len(sent)-1])
	require.GreaterOrEqual(t, c.Stats().Sessions, uint64(3))
}

// TestQueueOverflow: a full queue drops the message and counts it, on both sides, and
// every message is either delivered or counted as dropped.
func TestQueueOverflow(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close()) // nothing listens: the queue is never read
		c := newClient(t, 1, "m", &maintRec{}, WithQueueSize(4))
		c.SetNode("A", addr)
		for i := range 10 {
			seq, ok := c.Send("A", createRequest(1, i))
			require.Equal(t, uint64(i+1), seq)
			require.Equal(t, i < 4, ok, i)
		}
		require.Equal(t, uint64(6), c.Stats().Dropped)
		c.RemoveNode("A") // drops the 4 queued
		require.Eventually(t, func() bool { return c.Stats().Dropped == 10 }, waitFor, 5*time.Millisecond)
		_, ok := c.Send("A", createRequest(1, 0))
		require.False(t, ok)
		c.SetNode("A", addr)
		seq, ok := c.Send("A", createRequest(1, 0))
		require.True(t, ok)
		require.Equal(t, uint64(11), seq, "seqs go on after RemoveNode")
	})
	t.Run("server", func(t *testing.T) {
		srv, addr := startServer(t, testCF, &nodeRec{}, "", WithQueueSize(2))
		m := &maintRec{gate: make(chan struct{})}
		newClient(t, 1, "m", m).SetNode("A", addr)
		open := openOnCleanup(t, m.gate)
		require.Eventually(t, func() bool { return len(srv.Sessions()) == 1 }, waitFor, 5*time.Millisecond)
		// The maintainer reads nothing, so flow control stops the sender and the queue fills.
		big := report("A", 1, 5000)
		sent := 0
		for srv.Stats().Dropped == 0 && sent < 2000 {
			_, n := srv.SendReport(1, big)
			require.LessOrEqual(t, n, 1)
			sent++
		}
		require.Positive(t, srv.Stats().Dropped, "the queue never filled")
		open()
		require.Eventually(t, func() bool {
			st := srv.Stats()
			return st.Sent+st.Dropped == uint64(sent) && len(m.received()) == int(st.Sent)
		}, waitFor, 5*time.Millisecond)
		var last uint64
		for _, in := range m.received() {
			require.Greater(t, in.seq, last)
			last = in.seq
		}
	})
}

// TestReplacedSession: a Hello of an epoch that already has a session ends the older
// one, and the newer one's requests are handed over only after the older one's last.
func TestReplacedSession(t *testing.T) {
	node := &nodeRec{gate: make(chan struct{})}
	srv, addr := startServer(t, testCF, node, "")
	open := openOnCleanup(t, node.gate)
	old := rawSession(t, addr)
	require.NoError(t, old.SendMsg(encodeHelloFrame(0, hello{changefeed: testCF, epoch: 5, maintainer: "old"})))
	require.NoError(t, old.SendMsg(reqFrame(t, 1, createRequest(5, 1))))
	require.Eventually(t, func() bool { return node.waiting.Load() == 1 }, waitFor, 5*time.Millisecond)

	stream := rawSession(t, addr)
	require.NoError(t, stream.SendMsg(encodeHelloFrame(0, hello{changefeed: testCF, epoch: 5, maintainer: "new"})))
	require.NoError(t, stream.SendMsg(reqFrame(t, 2, createRequest(5, 2))))
	err := old.RecvMsg(&inFromNode{})
	require.Equal(t, codes.Aborted, status.Code(err), "%v", err)
	pass(t, node.gate) // the older session's request
	pass(t, node.gate) // the newer session's
	open()
	require.Eventually(t, func() bool { return len(node.deliveries()) == 2 }, waitFor, 5*time.Millisecond)
	got := node.deliveries()
	require.Equal(t, "old", got[0].s.Maintainer)
	require.Equal(t, "new", got[1].s.Maintainer)
	require.Eventually(t, func() bool { s := srv.Sessions(); return len(s) == 1 && s[0].Maintainer == "new" }, waitFor, 5*time.Millisecond)

	seq, n := srv.SendReport(5, report("A", 5, 1))
	require.Equal(t, 1, n)
	var in inFromNode
	require.NoError(t, stream.RecvMsg(&in))
	require.NoError(t, in.err)
	require.Equal(t, seq, in.frame.seq)
}

// TestGracefulStop: what is queued is sent before the sessions end, and then the Server
// takes no more messages.
func TestGracefulStop(t *testing.T) {
	srv, addr := startServer(t, testCF, &nodeRec{}, "")
	m := &maintRec{}
	newClient(t, 1, "m", m).SetNode("A", addr)
	require.Eventually(t, func() bool { return len(srv.Sessions()) == 1 }, waitFor, 5*time.Millisecond)
	for range 100 {
		_, n := srv.SendReport(1, report("A", 1, 100))
		require.Equal(t, 1, n)
	}
	srv.GracefulStop()
	require.Eventually(t, func() bool { return len(m.received()) == 100 }, waitFor, 5*time.Millisecond)
	require.Equal(t, Stats{Sessions: 1, Sent: 100}, srv.Stats())
	_, n := srv.SendReport(1, report("A", 1, 1))
	require.Zero(t, n)
}

// TestNoGoroutineLeft: once a Client is closed and a Server stopped, with sessions open,
// messages in flight and a node unreachable, every goroutine they started has ended.
func TestNoGoroutineLeft(t *testing.T) {
	cycle := func() {
		srv := NewServer(testCF, &nodeRec{}, nil)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		c := NewClient(testCF, 1, "m", &maintRec{}, nil)
		c.SetNode("A", l.Addr().String())
		c.SetNode("B", "127.0.0.1:1") // refused: reconnecting
		for i := range 50 {
			c.Send("A", createRequest(1, i))
			c.Send("B", createRequest(1, i))
		}
		require.Eventually(t, func() bool { return srv.Stats().Received == 50 }, waitFor, 5*time.Millisecond)
		srv.SendReport(1, report("A", 1, 10))
		done := make(chan struct{})
		go func() { c.Close(); srv.Stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Fatal("Close and Stop did not return")
		}
		require.NoError(t, <-served)
	}
	cycle()
	// Every goroutine that runs gRPC's or this package's code must end. (Comparing
	// runtime.NumGoroutine before and after also counts the runtime's own goroutines while
	// they run finalizers or cleanups, which come and go.)
	var left []string
	deadline := time.Now().Add(waitFor)
	for {
		left = ours()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Empty(t, left, "goroutines left:\n%s", strings.Join(left, "\n\n"))
}

// ours returns the stacks of the goroutines, other than the caller's, that run code of
// gRPC or of this package.
func ours() []string {
	buf := make([]byte, 1<<20)
	var left []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "transport.ours(") {
			continue
		}
		if strings.Contains(g, "google.golang.org/grpc") || strings.Contains(g, "cluster/transport.(*") {
			left = append(left, g)
		}
	}
	return left
}
