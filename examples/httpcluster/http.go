package main

import (
	"bytes"
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	ops "github.com/opfsm/opfsm/operators"
)

// HTTP plumbing: every message is a protobuf body POSTed to a path. A lost POST (the
// receiver is down) is a lost message, which the protocol tolerates.

// outgoing is one encoded message for a path, and for a node, which node.
type outgoing struct {
	path string
	body []byte
	node ops.NodeID
}

func encode(path string, m encoding.BinaryMarshaler) outgoing {
	b, err := m.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("encoding a message the library built: %v", err)) // cannot happen: a bug
	}
	return outgoing{path: path, body: b}
}

func (o outgoing) to(n ops.NodeID) outgoing { o.node = n; return o }

// transport knows every node's address and the current maintainer's.
type transport struct {
	client     *http.Client
	nodes      map[ops.NodeID]string
	maintainer atomic.Pointer[string]
	sent, lost atomic.Int64
}

func newTransport() *transport {
	return &transport{client: &http.Client{Timeout: time.Second}, nodes: map[ops.NodeID]string{}}
}

func (t *transport) post(url string, o outgoing) {
	resp, err := t.client.Post(url+o.path, "application/x-protobuf", bytes.NewReader(o.body))
	if err != nil {
		t.lost.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	t.sent.Add(1)
}

func (t *transport) toMaintainer(out []outgoing) {
	if url := t.maintainer.Load(); url != nil {
		for _, o := range out {
			t.post(*url, o)
		}
	}
}

func (t *transport) toNodes(out []outgoing) {
	for _, o := range out {
		t.post(t.nodes[o.node], o)
	}
}

// server is one HTTP listener on a free loopback port.
type server struct {
	url  string
	srv  *http.Server
	done sync.WaitGroup
}

func serve(mux *http.ServeMux) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + l.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return s, nil
}

// close stops the server at once, as a killed process would.
func (s *server) close() {
	_ = s.srv.Close()
	s.done.Wait()
}

func (s *server) shutdown(ctx context.Context) {
	_ = s.srv.Shutdown(ctx)
	s.done.Wait()
}

// handle decodes a POST body into a fresh T and hands it to fn; a body that does not
// decode is answered 400 with the typed error.
func handle[T any, P interface {
	*T
	encoding.BinaryUnmarshaler
}](mux *http.ServeMux, path string, fn func(T)) {
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		var v T
		if err == nil {
			err = P(&v).UnmarshalBinary(body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fn(v)
	})
}

func nodeMux(h *nodeHost) *http.ServeMux {
	mux := http.NewServeMux()
	handle(mux, "/request", h.onRequest)
	return mux
}

func maintainerMux(h *maintainerHost) *http.ServeMux {
	mux := http.NewServeMux()
	handle(mux, "/status", h.onStatus)
	handle(mux, "/answer", h.onAnswer)
	return mux
}
