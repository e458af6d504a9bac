package transport

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// errStopping ends the sessions of a Server that stops, and refuses new ones.
var errStopping = status.Error(codes.Unavailable, "node is stopping")

// SessionInfo describes a session as the node sees it.
type SessionInfo struct {
	// ID numbers the sessions of a Server from 1, in the order their Hellos were accepted.
	ID uint64
	// Epoch is the maintainer epoch of the Hello.
	Epoch ops.Epoch
	// Maintainer is the maintainer's name from the Hello (may be empty).
	Maintainer string
	// Remote is the maintainer's network address.
	Remote string
}

// Handler is what a node host gives its Server.
type Handler interface {
	// Request is called for each request of a session, in the order the maintainer sent
	// them, from that session's receive goroutine: calls for one session never overlap,
	// calls for different sessions may (the host serialises them with its own lock). seq is
	// the maintainer's number for the request (a gap is a lost request). The request is
	// decoded and validated (protocol.Request.UnmarshalBinary), and its changefeed and
	// epoch are the session's. The requests of a session that replaced an older one of
	// its epoch are handed over only once the older session's last call returned.
	Request(s SessionInfo, seq uint64, req protocol.Request)
}

// Server is the node side: it serves the DispatcherManager service for one changefeed,
// hands each session's requests to its Handler, and sends status reports and bootstrap
// answers to the sessions of their epoch. Its methods are safe for concurrent use.
//
// A Hello of an epoch that already has a session replaces it: the older session is ended
// and its last request handed over before the newer one's first, so requests of one epoch
// reach the Handler in order even when the maintainer reconnects.
type Server struct {
	cf   ops.ChangefeedID
	h    Handler
	log  *zap.Logger
	opts options
	grpc *grpc.Server

	mu       sync.Mutex
	sessions map[*session]struct{}
	stopping bool
	seq      uint64 // the last FromNode seq
	lastID   uint64

	// wg counts every session's send and receive goroutines (gRPC waits for its handlers).
	wg    sync.WaitGroup
	stats counters
}

// session is one open session of a Server.
type session struct {
	info  SessionInfo
	queue chan []byte // encoded FromNode frames

	kill      chan struct{} // closed: end the session now, with the status why
	killOnce  sync.Once
	why       error
	drain     chan struct{} // closed: send what is queued, then end (GracefulStop)
	drainOnce sync.Once

	recvErr   chan error    // the receive goroutine's end (capacity 1)
	delivered chan struct{} // closed once the receive goroutine hands over nothing more
}

// end ends the session now; why is the status its stream ends with (the first one given
// counts).
func (ss *session) end(why error) {
	ss.killOnce.Do(func() { ss.why = why; close(ss.kill) })
}

func (ss *session) finishSends() { ss.drainOnce.Do(func() { close(ss.drain) }) }

func (ss *session) fields() []zap.Field {
	return []zap.Field{zap.Uint64("session", ss.info.ID), zap.Uint64("epoch", uint64(ss.info.Epoch)),
		zap.String("maintainer", ss.info.Maintainer), zap.String("remote", ss.info.Remote)}
}

// NewServer makes the Server of a node of changefeed cf; h receives the requests. A nil
// log logs nothing. Options: WithQueueSize.
func NewServer(cf ops.ChangefeedID, h Handler, log *zap.Logger, opts ...Option) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("changefeed", string(cf)))
	s := &Server{cf: cf, h: h, log: log, opts: newOptions(defaultServerQueue, opts), sessions: map[*session]struct{}{}}
	s.grpc = grpc.NewServer(serverOptions()...)
	s.grpc.RegisterService(&serviceDesc, s)
	return s
}

// Serve accepts connections on l until Stop or GracefulStop; it returns nil then, and
// otherwise the listener's error. It may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	if err := s.grpc.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Stop ends every session at once, as a killed process would (queued messages are
// dropped), closes the listeners and waits for the session goroutines, which includes any
// Handler call in progress: do not call it from a Handler, or while holding a lock a
// Handler call waits for.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopping = true
	for ss := range s.sessions {
		ss.end(errStopping)
	}
	s.mu.Unlock()
	s.grpc.Stop()
	s.wg.Wait()
}

// GracefulStop refuses new sessions and messages, sends every session what it has queued,
// then ends the sessions and waits as Stop does. It blocks while a maintainer does not
// read, or has opened a stream without sending its Hello; Stop, called meanwhile, ends
// it.
func (s *Server) GracefulStop() {
	s.mu.Lock()
	s.stopping = true
	for ss := range s.sessions {
		ss.finishSends()
	}
	s.mu.Unlock()
	s.grpc.GracefulStop()
	s.wg.Wait()
}

// SendReport queues r on every open session whose Hello epoch is epoch (normally
// r.Epoch). It returns the seq the message carries (0 if no session has that epoch) and
// on how many sessions it was queued. It encodes r before it returns, so r's slices may be
// reused at once. It does not block: a full queue drops the message (counted in Stats).
func (s *Server) SendReport(epoch ops.Epoch, r protocol.StatusReport) (seq uint64, n int) {
	b, err := encodeBody(fromNodeStatus, r)
	return s.enqueue(epoch, b, err, "status report")
}

// SendAnswer queues a on every open session whose Hello epoch is epoch (normally a.Epoch),
// as SendReport does.
func (s *Server) SendAnswer(epoch ops.Epoch, a protocol.BootstrapAnswer) (seq uint64, n int) {
	b, err := encodeBody(fromNodeAnswer, a)
	return s.enqueue(epoch, b, err, "bootstrap answer")
}

func (s *Server) enqueue(epoch ops.Epoch, b body, err error, what string) (seq uint64, n int) {
	if err == nil && b.size() > MaxFrameSize-headroom {
		err = errTooLarge(b.size())
	}
	if err != nil {
		s.stats.dropped.Add(1)
		s.log.Error("cannot send "+what, zap.Uint64("epoch", uint64(epoch)), zap.Error(err))
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return 0, 0
	}
	var frame []byte
	for ss := range s.sessions {
		if ss.info.Epoch != epoch {
			continue
		}
		if frame == nil {
			s.seq++
			seq, frame = s.seq, b.frame(s.seq)
		}
		select {
		case ss.queue <- frame:
			n++
		default:
			s.stats.dropped.Add(1)
			s.log.Debug(what+" dropped: queue full", append(ss.fields(), zap.Uint64("seq", seq))...)
		}
	}
	return seq, n
}

// Sessions returns the open sessions, oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	out := make([]SessionInfo, 0, len(s.sessions))
	for ss := range s.sessions {
		out = append(out, ss.info)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Stats returns the Server's counts.
func (s *Server) Stats() Stats { return s.stats.stats() }

// serveSession is the Session method: it checks the Hello, registers the session, runs its
// send and receive goroutines and returns when the session ends.
func (s *Server) serveSession(stream grpc.ServerStream) error {
	var first inToNode
	if err := stream.RecvMsg(&first); err != nil {
		return err
	}
	if err := s.checkHello(first); err != nil {
		s.stats.rejected.Add(1)
		s.log.Warn("session refused", zap.Error(err))
		return err
	}
	h := first.frame.hello
	ss := &session{
		info:      SessionInfo{Epoch: h.epoch, Maintainer: h.maintainer},
		queue:     make(chan []byte, s.opts.queue),
		kill:      make(chan struct{}),
		drain:     make(chan struct{}),
		recvErr:   make(chan error, 1),
		delivered: make(chan struct{}),
	}
	if p, ok := peer.FromContext(stream.Context()); ok && p.Addr != nil {
		ss.info.Remote = p.Addr.String()
	}

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return errStopping
	}
	s.lastID++
	ss.info.ID = s.lastID
	var older []*session
	for o := range s.sessions {
		if o.info.Epoch == ss.info.Epoch {
			older = append(older, o)
		}
	}
	s.sessions[ss] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	s.stats.sessions.Add(1)
	s.log.Info("session opened", ss.fields()...)
	for _, o := range older {
		s.log.Info("session replaced by a newer one of its epoch", append(o.fields(), zap.Uint64("by", ss.info.ID))...)
		o.end(status.Errorf(codes.Aborted, "replaced by a newer session of epoch %d", o.info.Epoch))
	}

	sendDone := make(chan struct{})
	unregistered := make(chan struct{})
	go s.send(stream, ss, sendDone, unregistered)
	go s.receive(stream, ss, older)

	var err error
	select {
	case err = <-ss.recvErr:
		if errors.Is(err, io.EOF) {
			err = nil // the maintainer closed the stream
		}
	case <-sendDone:
		// drained for GracefulStop, or a send failed (the receive side says why)
	case <-ss.kill:
		err = ss.why
	case <-stream.Context().Done():
		err = stream.Context().Err()
	}
	ss.end(nil) // whatever ended it: the send and receive goroutines stop too
	s.mu.Lock()
	delete(s.sessions, ss)
	s.mu.Unlock()
	close(unregistered)
	s.log.Info("session closed", append(ss.fields(), zap.Error(err))...)
	return err
}

// checkHello is the gRPC status error that refuses a session's first frame, or nil.
func (s *Server) checkHello(first inToNode) error {
	switch {
	case first.err != nil:
		return status.Errorf(codes.InvalidArgument, "bad first frame: %v", first.err)
	case !first.frame.isHello:
		return status.Error(codes.InvalidArgument, "the first frame of a session must be a hello, not a request")
	case first.frame.hello.changefeed != s.cf:
		h := first.frame.hello
		return status.Errorf(codes.FailedPrecondition, "this node serves changefeed %q; hello of changefeed %q (maintainer %q, epoch %d)",
			s.cf, h.changefeed, h.maintainer, h.epoch)
	}
	return nil
}

// send writes the session's queue to the stream until the session ends, a send fails, or
// GracefulStop asked for the queue to be emptied. Once the session is unregistered (nothing
// queues on it any more), it drops what is left.
func (s *Server) send(stream grpc.ServerStream, ss *session, sendDone, unregistered chan struct{}) {
	defer s.wg.Done()
	s.pump(stream, ss)
	close(sendDone)
	<-unregistered
	for {
		select {
		case <-ss.queue:
			s.stats.dropped.Add(1)
		default:
			return
		}
	}
}

func (s *Server) pump(stream grpc.ServerStream, ss *session) {
	write := func(f []byte) bool {
		if err := stream.SendMsg(f); err != nil {
			s.stats.dropped.Add(1)
			s.log.Debug("send failed", append(ss.fields(), zap.Error(err))...)
			return false
		}
		s.stats.sent.Add(1)
		return true
	}
	for {
		select {
		case f := <-ss.queue:
			if !write(f) {
				return
			}
		case <-ss.kill:
			return
		case <-ss.drain:
			for {
				select {
				case f := <-ss.queue:
					if !write(f) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// receive hands the session's requests to the Handler, once every older session of its
// epoch handed over its last one, until the stream or the session ends.
func (s *Server) receive(stream grpc.ServerStream, ss *session, older []*session) {
	defer s.wg.Done()
	defer close(ss.delivered)
	for _, o := range older {
		select {
		case <-o.delivered:
		case <-ss.kill:
			ss.recvErr <- nil
			return
		}
	}
	for {
		var in inToNode
		if err := stream.RecvMsg(&in); err != nil {
			ss.recvErr <- err
			return
		}
		select {
		case <-ss.kill:
			ss.recvErr <- nil
			return
		default:
		}
		if err := s.checkFrame(ss, in); err != nil {
			s.stats.rejected.Add(1)
			s.log.Warn("frame rejected", append(ss.fields(), zap.Uint64("seq", in.frame.seq), zap.Error(err))...)
			continue
		}
		s.stats.received.Add(1)
		s.h.Request(ss.info, in.frame.seq, in.frame.request)
	}
}

// checkFrame says why a frame after the Hello is refused, or nil.
func (s *Server) checkFrame(ss *session, in inToNode) error {
	switch r := &in.frame.request; {
	case in.err != nil:
		return in.err
	case in.frame.isHello:
		return errors.New("a hello after the first frame")
	case r.Changefeed != s.cf || r.Epoch != ss.info.Epoch:
		return fmt.Errorf("request of changefeed %q epoch %d in a session of changefeed %q epoch %d",
			r.Changefeed, r.Epoch, s.cf, ss.info.Epoch)
	}
	return nil
}
