package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"
)

// web is a process's HTTP side: /metrics (Prometheus) and /state (its own view, JSON).
type web struct {
	addr string
	srv  *http.Server
	done chan struct{}
}

func serveHTTP(addr string, metrics http.Handler, state func() any) (*web, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(state()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	w := &web{addr: lis.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 2 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		if err := w.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed: the process's parent notices the missing answers
		}
	}()
	return w, nil
}

func (w *web) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = w.srv.Shutdown(ctx)
	<-w.done
}
