package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"google.golang.org/grpc"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// ClientHandler is what a maintainer host gives its Client. For one node, calls come in
// the order the node sent the messages, from one goroutine at a time (across reconnects
// too); calls for different nodes may overlap (the host serialises them with its own
// lock). n is the node the session was opened to (SetNode); seq is the node's number for
// the message. Messages arrive decoded and validated by package protocol; their epoch is
// not checked (the maintainer fences it).
type ClientHandler interface {
	// Status is called for each status report of node n.
	Status(n ops.NodeID, seq uint64, r protocol.StatusReport)
	// Answer is called for each bootstrap answer of node n.
	Answer(n ops.NodeID, seq uint64, a protocol.BootstrapAnswer)
}

// Client is the maintainer side: one maintainer epoch's sessions to the nodes of its
// changefeed, one per node. Its methods are safe for concurrent use.
//
// Each node has a send queue and one session at a time. A session that breaks is reopened
// after a short backoff (50 ms, doubling up to 500 ms) until RemoveNode or Close; the
// message being written when it broke, and any the node had not read yet, are lost, while
// what is still queued is sent on the reopened session.
type Client struct {
	cf    ops.ChangefeedID
	epoch ops.Epoch
	h     ClientHandler
	log   *zap.Logger
	opts  options
	hello []byte // the encoded Hello frame

	mu     sync.Mutex
	links  map[ops.NodeID]*link
	seqs   map[ops.NodeID]uint64 // the last seq sent to each node; kept after RemoveNode
	closed bool

	wg    sync.WaitGroup
	stats counters
}

// link is a Client's connection to one node at one address: a goroutine that keeps a
// session open and writes the node's queue to it.
type link struct {
	node   ops.NodeID
	addr   string
	queue  chan []byte // encoded ToNode frames; handed on to the next link of the node
	ctx    context.Context
	cancel context.CancelFunc
	// discard: the node was removed or the Client closed, so the link drops what is
	// queued when it ends (else the queue passes to the link that replaces it).
	discard atomic.Bool
	prev    <-chan struct{} // the replaced link's done, waited for before connecting
	done    chan struct{}
}

func (l *link) fields() []zap.Field {
	return []zap.Field{zap.String("node", string(l.node)), zap.String("addr", l.addr)}
}

// NewClient makes the Client of maintainer epoch of changefeed cf; maintainer names it in
// its Hellos (for the nodes' logs), h receives statuses and answers. A nil log logs
// nothing. Options: WithQueueSize. A changefeed that is empty or not UTF-8, or epoch 0,
// makes every node refuse the sessions (logged).
func NewClient(cf ops.ChangefeedID, epoch ops.Epoch, maintainer string, h ClientHandler, log *zap.Logger, opts ...Option) *Client {
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("changefeed", string(cf)), zap.Uint64("epoch", uint64(epoch)))
	if cf == "" || epoch == 0 || !utf8.ValidString(string(cf)) || !utf8.ValidString(maintainer) {
		log.Error("nodes will refuse this client's sessions: it needs a UTF-8 changefeed, an epoch and a UTF-8 name",
			zap.String("maintainer", maintainer))
	}
	return &Client{
		cf: cf, epoch: epoch, h: h, log: log, opts: newOptions(defaultClientQueue, opts),
		hello: encodeHelloFrame(0, hello{changefeed: cf, epoch: epoch, maintainer: maintainer}),
		links: map[ops.NodeID]*link{}, seqs: map[ops.NodeID]uint64{},
	}
}

// SetNode opens the session to node n at addr (host:port), or, if n has one at another
// address, reopens it there (what is queued for n moves to the new session, which starts
// once the old one has ended). A call with n's current address does nothing.
func (c *Client) SetNode(n ops.NodeID, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	old := c.links[n]
	if old != nil && old.addr == addr {
		return
	}
	l := &link{node: n, addr: addr, done: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if old != nil {
		l.queue, l.prev = old.queue, old.done
		old.cancel()
	} else {
		l.queue = make(chan []byte, c.opts.queue)
	}
	c.links[n] = l
	c.wg.Add(1)
	go c.run(l)
}

// RemoveNode closes the session to n and drops what is queued for it. Handler calls for
// n in progress may still finish after it returns.
func (c *Client) RemoveNode(n ops.NodeID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.links[n]; l != nil {
		delete(c.links, n)
		l.discard.Store(true)
		l.cancel()
	}
}

// Send queues req for node n and returns its seq: n's requests are numbered from 1, across
// reconnects and SetNode, and written in that order. It does not block. ok is false when n
// is unknown (seq 0), when req is not of this Client's changefeed and epoch or cannot be
// encoded (seq 0, logged), or when n's queue is full (the message is lost under its seq).
func (c *Client) Send(n ops.NodeID, req protocol.Request) (seq uint64, ok bool) {
	b, err := c.encode(req)
	if err != nil {
		c.stats.dropped.Add(1)
		c.log.Error("cannot send request", zap.String("node", string(n)), zap.Error(err))
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.links[n]
	if l == nil {
		return 0, false
	}
	c.seqs[n]++
	seq = c.seqs[n]
	select {
	case l.queue <- b.frame(seq):
		return seq, true
	default:
		c.stats.dropped.Add(1)
		c.log.Debug("request dropped: queue full", append(l.fields(), zap.Uint64("seq", seq))...)
		return seq, false
	}
}

// encode checks that req is of this Client's epoch and encodes it.
func (c *Client) encode(req protocol.Request) (body, error) {
	if req.Changefeed != c.cf || req.Epoch != c.epoch {
		return body{}, fmt.Errorf("request of changefeed %q epoch %d from a client of changefeed %q epoch %d",
			req.Changefeed, req.Epoch, c.cf, c.epoch)
	}
	b, err := encodeBody(toNodeRequest, req)
	if err == nil && b.size() > MaxFrameSize-headroom {
		err = errTooLarge(b.size())
	}
	return b, err
}

// Close closes every session, drops what is queued and waits for every goroutine of the
// Client, which includes any handler call in progress: do not call it from a handler, or
// while holding a lock a handler call waits for. Later calls do nothing but wait.
func (c *Client) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		for n, l := range c.links {
			delete(c.links, n)
			l.discard.Store(true)
			l.cancel()
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// Stats returns the Client's counts.
func (c *Client) Stats() Stats { return c.stats.stats() }

// run keeps l's session open until l is cancelled.
func (c *Client) run(l *link) {
	defer c.wg.Done()
	defer close(l.done)
	if l.prev != nil {
		<-l.prev
	}
	defer func() {
		if !l.discard.Load() {
			return
		}
		for {
			select {
			case <-l.queue:
				c.stats.dropped.Add(1)
			default:
				return
			}
		}
	}()
	if l.ctx.Err() != nil {
		return
	}
	cc, err := grpc.NewClient(l.addr, dialOptions()...)
	if err != nil {
		c.log.Error("bad node address", append(l.fields(), zap.Error(err))...)
		<-l.ctx.Done()
		return
	}
	defer func() { _ = cc.Close() }()
	delay, failures := minBackoff, 0
	for {
		started := time.Now()
		err := c.session(l, cc)
		if l.ctx.Err() != nil {
			return
		}
		if time.Since(started) >= healthyAfter {
			delay, failures = minBackoff, 0
		}
		failures++
		if failures == 1 {
			c.log.Warn("session to node broke; reopening", append(l.fields(), zap.Error(err))...)
		} else {
			c.log.Debug("session to node still down", append(l.fields(), zap.Int("attempts", failures), zap.Error(err))...)
		}
		wait := delay/2 + rand.N(delay/2+1) // jitter: between half and all of delay
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.ctx.Done():
			t.Stop()
			return
		}
		delay = min(2*delay, maxBackoff)
	}
}

// session opens one stream to l's node, sends the Hello and then the queue, and hands
// what the node sends to the handler, until the stream breaks or l is cancelled. It
// returns why the stream ended, after its receive goroutine has ended.
func (c *Client) session(l *link, cc *grpc.ClientConn) error {
	ctx, cancel := context.WithCancel(l.ctx)
	defer cancel()
	stream, err := cc.NewStream(ctx, &serviceDesc.Streams[0], sessionMethod, callOptions()...)
	if err != nil {
		return err
	}
	recvErr := make(chan error, 1)
	go func() { recvErr <- c.receive(ctx, l, stream) }()
	// broken waits for the receive side, which reports why the stream ended (a send only
	// says that it did).
	broken := func() error {
		select {
		case err := <-recvErr:
			return err
		case <-l.ctx.Done():
			cancel()
			<-recvErr
			return l.ctx.Err()
		}
	}
	if err := stream.SendMsg(c.hello); err != nil {
		return broken()
	}
	c.stats.sessions.Add(1)
	c.log.Debug("session opened", l.fields()...)
	for {
		select {
		case f := <-l.queue:
			if err := stream.SendMsg(f); err != nil {
				c.stats.dropped.Add(1)
				return broken()
			}
			c.stats.sent.Add(1)
		case err := <-recvErr:
			return err
		case <-l.ctx.Done():
			cancel()
			<-recvErr
			return l.ctx.Err()
		}
	}
}

// receive hands the node's frames to the handler until the stream ends or ctx is done.
func (c *Client) receive(ctx context.Context, l *link, stream grpc.ClientStream) error {
	for {
		var in inFromNode
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if in.err != nil {
			c.stats.rejected.Add(1)
			c.log.Warn("frame rejected", append(l.fields(), zap.Error(in.err))...)
			continue
		}
		c.stats.received.Add(1)
		if f := &in.frame; f.isAnswer {
			c.h.Answer(l.node, f.seq, f.answer)
		} else {
			c.h.Status(l.node, f.seq, f.status)
		}
	}
}
