package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/cluster/transport"
	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// NodeOptions configure a node process.
type NodeOptions struct {
	// Name is the node's name; its protocol identity is the name and an incarnation etcd
	// hands out, so a restarted node is a new node.
	Name       string
	Changefeed ops.ChangefeedID
	// Etcd are the etcd endpoints.
	Etcd []string
	// Listen is the gRPC address (default 127.0.0.1:0), HTTP the address of /metrics and
	// /state (default 127.0.0.1:0).
	Listen, HTTP string
	// Tick is the node's clock (default 10ms), LeaseTTL its etcd lease in seconds
	// (default 2): a killed node leaves the cluster that long after it died.
	Tick     time.Duration
	LeaseTTL int
	// PrepareTicks is how many ticks a merged dispatcher takes to prepare (0: one).
	PrepareTicks int
	// Events is where protocol events go (nil: nowhere); Logger the operational log.
	Events *Events
	Logger *zap.Logger
	// Bugs are seeded bugs of the dispatcher manager to switch on (NodeBugNames).
	Bugs []string
	// Trace logs every step of the core as a "Step" event with the core's state after it,
	// and that state in every DMDeliver too (docs/cluster.md, "Runs the spec can check").
	Trace bool
	// Preload are dispatchers the node runs from the start, before any maintainer can
	// reach it (a changefeed's initial placement), each with its checkpoint.
	Preload []protocol.Dispatcher
	// Started, if not nil, is called once the node serves and is registered.
	Started func(Started)
}

// Started is what a process tells its parent once it serves: its identity and addresses.
type Started struct {
	ID   string `json:"id"`
	GRPC string `json:"grpc,omitempty"`
	HTTP string `json:"http"`
}

// NodeBugNames are the seeded dispatcher-manager bugs a node process can run with, as
// spec/README.md names them.
var NodeBugNames = map[string]func(*seeded.NodeBugs){
	"merge_journal_lost":     func(b *seeded.NodeBugs) { b.MergeJournalLost = true },
	"no_epoch_fence":         func(b *seeded.NodeBugs) { b.NoEpochFence = true },
	"bootstrap_no_fence":     func(b *seeded.NodeBugs) { b.BootstrapNoFence = true },
	"sweep_skips_precommit":  func(b *seeded.NodeBugs) { b.SweepSkipsPreCommit = true },
	"journal_missing_remove": func(b *seeded.NodeBugs) { b.JournalMissingRemove = true },
	"bootstrap_keeps_owner":  func(b *seeded.NodeBugs) { b.BootstrapKeepsOwner = true },
}

// ErrBadOptions means options a process cannot run with.
var ErrBadOptions = errors.New("bad options")

func (o *NodeOptions) normalize() error {
	if o.Name == "" || o.Changefeed == "" || len(o.Etcd) == 0 {
		return fmt.Errorf("node: %w: need a name, a changefeed and etcd endpoints", ErrBadOptions)
	}
	for _, b := range o.Bugs {
		if NodeBugNames[b] == nil {
			return fmt.Errorf("node: %w: unknown seeded bug %q", ErrBadOptions, b)
		}
	}
	// The preload is checked on a scratch core, before the node registers.
	if len(o.Preload) > 0 {
		scratch, err := node.New(node.Config{Node: ops.NodeID(o.Name), Changefeed: o.Changefeed})
		if err == nil {
			err = scratch.Preload(o.Preload...)
		}
		if err != nil {
			return fmt.Errorf("node: %w: %w", ErrBadOptions, err)
		}
	}
	o.Listen = cmp.Or(o.Listen, "127.0.0.1:0")
	o.HTTP = cmp.Or(o.HTTP, "127.0.0.1:0")
	if o.Tick <= 0 {
		o.Tick = 10 * time.Millisecond
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return nil
}

// nodeHost is a node core with its data plane, server and metrics, behind one mutex.
type nodeHost struct {
	mu      sync.Mutex
	core    *node.Node
	data    *DataPlane
	srv     *transport.Server
	metrics *metrics.Node
	events  *Events
	cf      ops.ChangefeedID
	trace   bool
}

// Request steps one request from a maintainer session into the core.
func (h *nodeHost) Request(s transport.SessionInfo, seq uint64, req protocol.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	err := h.core.Step(req)
	h.metrics.Refused(err)
	f := append([]zap.Field{zap.Uint64("epoch", uint64(s.Epoch)), zap.Uint64("seq", seq), zap.Uint64("owner", uint64(h.core.Owner()))},
		requestFields(req, h.trace)...)
	if err != nil {
		f = append(f, zap.NamedError("refused", err))
	}
	if h.trace {
		f = append(f, zap.Object("state", nodeState{h.core}))
	}
	h.events.Emit("DMDeliver", f...)
	h.flush()
}

// traceStep logs local step a as a Step event with the core's state after it. The core
// calls it from inside, under h.mu: it takes no lock.
func (h *nodeHost) traceStep(a node.Action) {
	h.events.Emit("Step", nodeStep(h.core, a)...)
}

// tick runs the data plane and the core's own checks.
func (h *nodeHost) tick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.data.Tick(h.core)
	h.core.Tick()
	h.flush()
}

// flush ships what the core has: statuses and answers to the maintainer sessions of
// their epochs, effects to the data plane; then advances the core.
func (h *nodeHost) flush() {
	if !h.core.HasReady() {
		return
	}
	rd := h.core.Ready()
	for _, e := range rd.Effects {
		h.events.Emit("DMEffect", zap.Stringer("effect", e.Kind), zap.String("id", string(e.ID)), zap.Stringer("span", e.Span),
			zap.Uint64("checkpoint", e.Checkpoint), zap.Strings("sources", ids(e.Sources)))
	}
	h.data.Apply(rd.Effects)
	for _, r := range rd.Reports {
		seq, n := h.srv.SendReport(r.Epoch, r)
		if n > 0 {
			h.metrics.StatusesSent(len(r.Statuses))
		} else {
			h.metrics.StatusesDropped(len(r.Statuses))
		}
		h.events.Emit("DMSend", zap.Uint64("epoch", uint64(r.Epoch)), zap.Uint64("seq", seq), zap.Int("sessions", n),
			zap.Array("statuses", statusArray(r.Statuses)))
	}
	for _, a := range rd.Answers {
		seq, n := h.srv.SendAnswer(a.Epoch, a)
		h.events.Emit("DMAnswer", zap.Uint64("epoch", uint64(a.Epoch)), zap.Uint64("seq", seq), zap.Int("sessions", n),
			zap.Int("dispatchers", len(a.Dispatchers)), zap.Strings("removes", recordIDs(a.Removes)), zap.Strings("merges", recordIDs(a.Merges)))
	}
	h.core.Advance()
	h.metrics.Update(h.core)
}

// state is the node's own view: what /state serves.
func (h *nodeHost) state() protocol.BootstrapAnswer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return protocol.BootstrapAnswer{Node: h.core.Name(), Changefeed: h.cf, Epoch: h.core.Owner(),
		Dispatchers: h.core.Dispatchers(), Removes: h.core.RemoveJournal(), Merges: h.core.MergeJournal()}
}

// RunNode runs a node process until ctx ends or its etcd registration is lost: it serves
// maintainer sessions over gRPC, registers in etcd, ticks its core and toy data plane, and
// serves /metrics and /state over HTTP. Everything it starts is stopped when it returns.
func RunNode(ctx context.Context, o NodeOptions) (err error) {
	if err := o.normalize(); err != nil {
		return err
	}
	cli, err := coord.Dial(o.Etcd)
	if err != nil {
		return fmt.Errorf("node %s: %w", o.Name, err)
	}
	defer cli.Close()
	lis, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("node %s: %w", o.Name, err)
	}
	defer lis.Close()
	reg, err := coord.New(cli, o.Changefeed).Register(ctx, o.Name, lis.Addr().String(), o.LeaseTTL)
	if err != nil {
		return fmt.Errorf("node %s: %w", o.Name, err)
	}
	defer reg.Close()
	var h *nodeHost
	cfg := node.Config{Node: reg.ID, Changefeed: o.Changefeed, Logger: o.Logger}
	if o.Trace {
		cfg.Trace = func(a node.Action) { h.traceStep(a) } // h is set before the core steps
	}
	core, err := node.New(cfg)
	if err != nil {
		return err
	}
	// Preloaded before the node serves (normalize checked them): no maintainer reaches the
	// node without them.
	if err := core.Preload(o.Preload...); err != nil {
		return fmt.Errorf("node %s: %w", o.Name, err)
	}
	var bugs seeded.NodeBugs
	for _, b := range o.Bugs {
		NodeBugNames[b](&bugs)
	}
	if bugs != (seeded.NodeBugs{}) {
		seeded.SetNodeBugs(core, bugs)
	}
	data := NewDataPlane()
	data.PrepareTicks = o.PrepareTicks
	for _, d := range o.Preload {
		data.Run(d.ID, d.Checkpoint)
	}
	h = &nodeHost{core: core, data: data, metrics: metrics.NewNode(), events: o.Events, cf: o.Changefeed, trace: o.Trace}
	h.srv = transport.NewServer(o.Changefeed, h, o.Logger)
	// Logged before the node serves, so that it comes first in its log; traced, with the
	// state the node starts from (its preloaded dispatchers).
	started := []zap.Field{zap.String("cf", string(o.Changefeed)), zap.String("id", string(reg.ID)), zap.String("grpc", lis.Addr().String())}
	if o.Trace {
		started = append(started, zap.Object("state", nodeState{core}))
	}
	h.events.Emit("NodeStarted", started...)
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(lis) }()
	defer func() {
		h.srv.Stop()
		<-served
	}()
	web, err := serveHTTP(o.HTTP, h.metrics.Handler(), func() any { return h.state() })
	if err != nil {
		return fmt.Errorf("node %s: %w", o.Name, err)
	}
	defer web.close()
	if o.Started != nil {
		o.Started(Started{ID: string(reg.ID), GRPC: lis.Addr().String(), HTTP: web.addr})
	}
	t := time.NewTicker(o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reg.Done():
			return fmt.Errorf("node %s: %w", reg.ID, ErrLeaseLost)
		case <-t.C:
			h.tick()
		}
	}
}

// ErrLeaseLost means a process lost its etcd lease (or leadership) and stopped.
var ErrLeaseLost = errors.New("etcd lease lost")

// recordIDs are the ids of journal records, for the event log.
func recordIDs(rs []ops.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.ID)
	}
	return out
}
