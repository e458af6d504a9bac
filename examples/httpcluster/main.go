package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	toy "github.com/opfsm/opfsm/cluster"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func main() {
	if err := run(os.Stdout, 20*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "httpcluster:", err)
		os.Exit(1)
	}
}

const (
	cf   = ops.ChangefeedID("cf")
	tick = 5 * time.Millisecond
)

var (
	nodeNames = []ops.NodeID{"A", "B", "C"}
	spanA     = ops.Span{Table: 1, End: "m"}
	spanB     = ops.Span{Table: 1, Start: "m"}
)

// cluster is the running example: node hosts, the current maintainer host, their servers
// and tickers.
type cluster struct {
	net     *transport
	nodes   map[ops.NodeID]*nodeHost
	servers []*server
	mh      *maintainerHost
	msrv    *server
	stop    chan struct{}
	tickers sync.WaitGroup
	mstop   chan struct{}
}

// run plays the example and writes its story to out; it fails if the cluster does not
// converge within timeout. Everything it starts is stopped before it returns.
func run(out io.Writer, timeout time.Duration) (err error) {
	c := &cluster{net: newTransport(), nodes: map[ops.NodeID]*nodeHost{}, stop: make(chan struct{})}
	defer c.close()
	for _, n := range nodeNames {
		core, err := node.New(node.Config{Node: n, Changefeed: cf, Owner: 1})
		if err != nil {
			return err
		}
		h := &nodeHost{core: core, data: toy.NewDataPlane(), net: c.net}
		c.nodes[n] = h
		srv, err := serve(nodeMux(h))
		if err != nil {
			return err
		}
		c.servers = append(c.servers, srv)
		c.net.nodes[n] = srv.url
		c.every(c.stop, h.tick)
	}
	// The initial placement: table 1 as two spans on B, both running.
	b := c.nodes["B"]
	tasks := []ops.Task{{ID: "a", Span: spanA, Node: "B", Checkpoint: 100}, {ID: "b", Span: spanB, Node: "B", Checkpoint: 100}}
	for _, t := range tasks {
		if err := b.core.Preload(protocol.Dispatcher{ID: t.ID, Span: t.Span, State: ops.Working, Checkpoint: t.Checkpoint}); err != nil {
			return err
		}
		b.data.Run(t.ID, t.Checkpoint)
	}
	m1, err := maintainer.NewWithTasks(maintainer.Config{Changefeed: cf, Epoch: 1, Nodes: nodeNames, Tables: []ops.TableID{1}}, tasks)
	if err != nil {
		return err
	}
	if err := c.startMaintainer(m1); err != nil {
		return err
	}
	fmt.Fprintln(out, "maintainer 1 runs table 1 as a and b on B")

	// Merge a and b; B prepares the merged dispatcher but does not commit (stalled).
	b.mu.Lock()
	b.data.Stall = true
	b.mu.Unlock()
	c.mh.step(func(m *maintainer.Maintainer) { err = m.Merge([]ops.DispatcherID{"a", "b"}, "ab") })
	if err != nil {
		return err
	}
	if !waitFor(timeout, func() bool { return b.merging("ab") }) {
		return errors.New("the merge request never reached B")
	}
	fmt.Fprintln(out, "B journaled the merge of a and b into ab; ab is preparing")

	c.killMaintainer()
	fmt.Fprintln(out, "maintainer 1 killed mid-merge")
	b.mu.Lock()
	b.data.Stall = false
	b.mu.Unlock()

	m2, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: nodeNames, Tables: []ops.TableID{1}, Checkpoint: 100})
	if err != nil {
		return err
	}
	if err := c.startMaintainer(m2); err != nil {
		return err
	}
	fmt.Fprintln(out, "maintainer 2 bootstraps from A, B and C")
	var why error
	if !waitFor(timeout, func() bool { why = c.converged(); return why == nil }) {
		return fmt.Errorf("did not converge in %s: %w", timeout, why)
	}
	c.mh.mu.Lock()
	var rules []string
	for d := range c.mh.m.Recovery().Decisions.All() {
		rules = append(rules, d.Rule)
	}
	c.mh.mu.Unlock()
	fmt.Fprintf(out, "maintainer 2 recovered (%v) and the merge finished: table 1 is ab on B\n", rules)
	fmt.Fprintf(out, "converged: %d messages over HTTP, %d lost to the dead maintainer\n", c.net.sent.Load(), c.net.lost.Load())
	return nil
}

// merging reports whether the node journaled merge id.
func (h *nodeHost) merging(id ops.DispatcherID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.core.MergeJournal(), func(r ops.Record) bool { return r.ID == id })
}

// every runs fn every tick until stop closes.
func (c *cluster) every(stop chan struct{}, fn func()) {
	c.tickers.Add(1)
	go func() {
		defer c.tickers.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

func (c *cluster) startMaintainer(m *maintainer.Maintainer) error {
	c.mh = &maintainerHost{m: m, net: c.net}
	srv, err := serve(maintainerMux(c.mh))
	if err != nil {
		return err
	}
	c.msrv, c.mstop = srv, make(chan struct{})
	c.net.maintainer.Store(&srv.url)
	c.every(c.mstop, c.mh.tick)
	c.mh.step(func(*maintainer.Maintainer) {}) // the first Ready: its bootstrap requests
	return nil
}

// killMaintainer stops the maintainer's server and clock at once: what it had not sent
// is lost, and statuses to it fail.
func (c *cluster) killMaintainer() {
	c.net.maintainer.Store(nil)
	close(c.mstop)
	c.msrv.close()
	c.msrv = nil
}

// converged checks, from the nodes' own state: table 1 is covered exactly once by
// Working dispatchers that are not closing, no node journals anything, and the maintainer
// runs with no operator and every task Replicating where a dispatcher serves it.
func (c *cluster) converged() error {
	c.mh.mu.Lock()
	ctrl := c.mh.m.Controller()
	var tasks []ops.Task
	busy := 0
	if ctrl != nil {
		tasks = ctrl.Tasks()
		_, busy = ctrl.Len()
	}
	c.mh.mu.Unlock()
	if ctrl == nil || busy > 0 {
		return fmt.Errorf("the maintainer is booting or has %d operators", busy)
	}
	var spans []ops.Span
	for _, n := range nodeNames {
		h := c.nodes[n]
		h.mu.Lock()
		ds := h.core.Dispatchers()
		_, removes, merges := h.core.Len()
		h.mu.Unlock()
		if removes+merges > 0 {
			return fmt.Errorf("node %s still journals %d removes and %d merges", n, removes, merges)
		}
		for _, d := range ds {
			if d.State != ops.Working || d.Removing {
				return fmt.Errorf("dispatcher %s on %s is %s (closing %v)", d.ID, n, d.State, d.Removing)
			}
			if !slices.ContainsFunc(tasks, func(t ops.Task) bool { return t.ID == d.ID && t.Node == n && t.Sched == ops.Replicating }) {
				return fmt.Errorf("dispatcher %s on %s has no task", d.ID, n)
			}
			spans = append(spans, d.Span)
		}
	}
	if len(spans) != 1 || spans[0] != (ops.Span{Table: 1}) {
		return fmt.Errorf("table 1 is served by %v", spans)
	}
	return nil
}

func (c *cluster) close() {
	close(c.stop)
	if c.mstop != nil && c.msrv != nil {
		close(c.mstop)
	}
	c.tickers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range c.servers {
		s.shutdown(ctx)
	}
	if c.msrv != nil {
		c.msrv.shutdown(ctx)
	}
}

func waitFor(timeout time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		time.Sleep(tick)
	}
	return false
}
