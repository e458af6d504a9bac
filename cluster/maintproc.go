package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/cluster/transport"
	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// MaintainerOptions configure a maintainer candidate process.
type MaintainerOptions struct {
	// Name names the candidate in the election and in logs.
	Name       string
	Changefeed ops.ChangefeedID
	Etcd       []string
	// HTTP is the address of /metrics and /state (default 127.0.0.1:0).
	HTTP string
	// Tick is the maintainer's clock (default 10ms); LeaseTTL its election lease in
	// seconds (default 2): a killed maintainer is replaced that long after it died.
	Tick     time.Duration
	LeaseTTL int
	// Work, if positive, runs the random Workload every Work until WorkUntil (if set),
	// seeded with Seed and the epoch, with at most MaxInFlight operators at once (default 2).
	Work        time.Duration
	WorkUntil   time.Time
	Seed        uint64
	MaxInFlight int
	// SpecWork makes the workload only what the spec's world has (Workload.Spec): one
	// operation at a time.
	SpecWork bool
	// Trace logs every step of the maintainer as a "Step" event with its state after it
	// (docs/cluster.md, "Runs the spec can check").
	Trace  bool
	Events *Events
	Logger *zap.Logger
	// Bug is a seeded recovery bug to switch on (one of seeded.RecoveryBugs), or "".
	Bug string
	// Started, if not nil, is called once the process serves HTTP (before it is elected),
	// Elected once it leads.
	Started func(Started)
	Elected func(ops.Epoch)
}

func (o *MaintainerOptions) normalize() error {
	if o.Name == "" || o.Changefeed == "" || len(o.Etcd) == 0 {
		return fmt.Errorf("maintainer: %w: need a name, a changefeed and etcd endpoints", ErrBadOptions)
	}
	if o.Bug != "" && !slices.Contains(seeded.RecoveryBugs, o.Bug) {
		return fmt.Errorf("maintainer: %w: unknown seeded recovery bug %q", ErrBadOptions, o.Bug)
	}
	o.HTTP = cmp.Or(o.HTTP, "127.0.0.1:0")
	if o.Tick <= 0 {
		o.Tick = 10 * time.Millisecond
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 2
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return nil
}

// inbound is a status report or bootstrap answer from a node session.
type inbound struct {
	node   ops.NodeID
	seq    uint64
	report *protocol.StatusReport
	answer *protocol.BootstrapAnswer
}

// maintainerHost drives one elected maintainer from one goroutine; mu guards what /state
// and metrics read.
type maintainerHost struct {
	mu      sync.Mutex
	m       *maintainer.Maintainer
	cli     *transport.Client
	metrics *metrics.Maintainer
	events  *Events
	lead    *coord.Leadership
	live    map[ops.NodeID]string
	in      chan inbound
	done    chan struct{} // closed when the host stops: sessions stop handing it messages
	ckpt    uint64
	booted  time.Time
	trace   bool
}

// Status implements transport.ClientHandler.
func (h *maintainerHost) Status(n ops.NodeID, seq uint64, r protocol.StatusReport) {
	select {
	case h.in <- inbound{node: n, seq: seq, report: &r}:
	case <-h.done:
	}
}

// Answer implements transport.ClientHandler.
func (h *maintainerHost) Answer(n ops.NodeID, seq uint64, a protocol.BootstrapAnswer) {
	select {
	case h.in <- inbound{node: n, seq: seq, answer: &a}:
	case <-h.done:
	}
}

// TaskState is one task in a maintainer's /state.
type TaskState struct {
	ID    string `json:"id"`
	Table int64  `json:"table"`
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Sched string `json:"sched"`
	Node  string `json:"node,omitempty"`
}

// OperatorState is one operator in a maintainer's /state.
type OperatorState struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	Table int64  `json:"table"`
}

// MaintainerState is what a maintainer process serves at /state.
type MaintainerState struct {
	Name    string `json:"name"`
	Elected bool   `json:"elected"`
	Epoch   uint64 `json:"epoch,omitempty"`
	Booting bool   `json:"booting,omitempty"`
	// Operators counts operators in flight by kind (move, split, merge, ...).
	Operators map[string]int `json:"operators,omitempty"`
	// InFlight are the operators in flight.
	InFlight []OperatorState `json:"inFlight,omitempty"`
	// Tasks are the maintainer's tasks (its desired placement).
	Tasks []TaskState `json:"tasks,omitempty"`
	// Checkpoint is the changefeed checkpoint this maintainer last stored.
	Checkpoint uint64 `json:"checkpoint"`
}

func (h *maintainerHost) state(name string) MaintainerState {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := MaintainerState{Name: name}
	if h.m == nil {
		return st
	}
	st.Elected, st.Epoch, st.Booting, st.Checkpoint = true, uint64(h.m.Epoch()), h.m.Booting(), h.ckpt
	if ctrl := h.m.Controller(); ctrl != nil {
		ctrl.EachTask(func(t ops.Task) {
			st.Tasks = append(st.Tasks, TaskState{ID: string(t.ID), Table: int64(t.Span.Table), Start: t.Span.Start, End: t.Span.End,
				Sched: t.Sched.String(), Node: string(t.Node)})
		})
		st.Operators = map[string]int{}
		for _, r := range ctrl.Operators() {
			st.Operators[r.Type.String()]++
			st.InFlight = append(st.InFlight, OperatorState{ID: string(r.ID), Kind: r.Type.String(), State: r.StateName(), Table: int64(r.Span.Table)})
		}
	}
	return st
}

// RunMaintainer runs a maintainer candidate until ctx ends or, once elected, until it
// loses its leadership: it campaigns in etcd, and elected it bootstraps from every live
// node, recovers, and drives the changefeed (node joins and leaves and table DDL from etcd,
// statuses from the nodes, its clock, the workload), storing the changefeed checkpoint
// as it advances. Everything it starts is stopped when it returns.
func RunMaintainer(ctx context.Context, o MaintainerOptions) error {
	if err := o.normalize(); err != nil {
		return err
	}
	etcd, err := coord.Dial(o.Etcd)
	if err != nil {
		return fmt.Errorf("maintainer %s: %w", o.Name, err)
	}
	defer etcd.Close()
	c := coord.New(etcd, o.Changefeed)
	h := &maintainerHost{metrics: metrics.NewMaintainer(), events: o.Events, live: map[ops.NodeID]string{}, in: make(chan inbound, 1024),
		done: make(chan struct{}), trace: o.Trace}
	web, err := serveHTTP(o.HTTP, h.metrics.Handler(), func() any { return h.state(o.Name) })
	if err != nil {
		return fmt.Errorf("maintainer %s: %w", o.Name, err)
	}
	defer web.close()
	h.events.Emit("CandidateStarted", zap.String("cf", string(o.Changefeed)), zap.String("name", o.Name))
	if o.Started != nil {
		o.Started(Started{ID: o.Name, HTTP: web.addr})
	}
	lead, err := c.Campaign(ctx, o.Name, o.LeaseTTL)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("maintainer %s: %w", o.Name, err)
	}
	defer lead.Close()
	h.lead = lead
	epoch := lead.Epoch
	h.events.Emit("Elected", zap.Uint64("epoch", uint64(epoch)))
	if o.Elected != nil {
		o.Elected(epoch)
	}
	// The nodes, tables and checkpoint as etcd had them when this candidate won: the
	// watches go on from that revision, so nothing between is missed.
	nodes, tables := lead.State.Nodes, lead.State.Tables
	h.ckpt = lead.State.Checkpoint
	cfg := maintainer.Config{Changefeed: o.Changefeed, Epoch: epoch, Nodes: slices.Sorted(maps.Keys(nodes)),
		Tables: slices.Sorted(maps.Keys(tables)), Checkpoint: h.ckpt, Logger: o.Logger, Observer: h.metrics.Observer()}
	if o.Bug != "" {
		cfg.RecoveryOptions = append(cfg.RecoveryOptions, seeded.RecoveryBug(o.Bug).(recovery.Option))
	}
	if o.Trace {
		cfg.Trace = h.traceStep
	}
	m, err := maintainer.New(cfg)
	if err != nil {
		return fmt.Errorf("maintainer %s: %w", o.Name, err)
	}
	h.mu.Lock()
	h.m = m
	h.mu.Unlock()
	h.booted = time.Now()
	h.events.Emit("Bootstrap", zap.Uint64("epoch", uint64(epoch)), zap.Strings("nodes", ids(cfg.Nodes)),
		zap.Int64s("tables", tableIDs(cfg.Tables)), zap.Uint64("checkpoint", h.ckpt))
	if o.Trace {
		h.events.Emit("Step", maintainerCrash(m)...)
	}
	h.cli = transport.NewClient(o.Changefeed, epoch, o.Name, h, o.Logger)
	defer h.cli.Close()
	defer close(h.done) // runs first: sessions blocked on h.in let go before Close waits
	for n, addr := range nodes {
		h.live[n] = addr
		h.cli.SetNode(n, addr)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodeEvents := c.WatchNodes(wctx, lead.Revision)
	tableEvents := c.WatchTables(wctx, lead.Revision)
	h.flush()

	tick := time.NewTicker(o.Tick)
	defer tick.Stop()
	var work <-chan time.Time
	var wl *Workload
	if o.Work > 0 {
		wt := time.NewTicker(o.Work)
		defer wt.Stop()
		work = wt.C
		wl = NewWorkload(o.Seed^uint64(epoch), o.MaxInFlight)
		wl.Spec = o.SpecWork
	}
	ckptT := time.NewTicker(20 * o.Tick)
	defer ckptT.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-lead.Done():
			h.events.Emit("Deposed", zap.Uint64("epoch", uint64(epoch)))
			return fmt.Errorf("maintainer %s epoch %d: %w", o.Name, epoch, ErrLeaseLost)
		case ev, ok := <-nodeEvents:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("maintainer %s: %w: the node watch ended", o.Name, ErrLeaseLost)
			}
			if err := h.onNode(ev); err != nil {
				return err
			}
		case ev, ok := <-tableEvents:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("maintainer %s: %w: the table watch ended", o.Name, ErrLeaseLost)
			}
			if err := h.onTable(ev); err != nil {
				return err
			}
		case msg := <-h.in:
			h.onInbound(msg)
		case <-tick.C:
			h.step(func(m *maintainer.Maintainer) { m.Tick() })
		case <-work:
			if !o.WorkUntil.IsZero() && time.Now().After(o.WorkUntil) {
				work = nil
				h.events.Emit("WorkloadDone", zap.Uint64("epoch", uint64(epoch)))
				continue
			}
			h.step(func(m *maintainer.Maintainer) {
				what, err := wl.Step(m, slices.Sorted(maps.Keys(h.live)))
				if what != "" {
					h.events.Emit("Schedule", zap.Uint64("epoch", uint64(epoch)), zap.String("what", what), zap.Error(err))
				}
			})
		case <-ckptT.C:
			h.advanceCheckpoint(ctx)
		}
	}
}

// step runs fn on the maintainer under the lock and ships what it produced.
func (h *maintainerHost) step(fn func(m *maintainer.Maintainer)) {
	h.mu.Lock()
	booting := h.m.Booting()
	fn(h.m)
	if booting && !h.m.Booting() {
		h.recovered()
	}
	h.mu.Unlock()
	h.flush()
}

func (h *maintainerHost) recovered() {
	res := h.m.Recovery()
	d := time.Since(h.booted)
	h.metrics.Recovered(d, res)
	rules := map[string]int{}
	for dec := range res.Decisions.All() {
		rules[dec.Rule]++
	}
	f := []zap.Field{zap.Uint64("epoch", uint64(h.m.Epoch())), zap.Duration("took", d), zap.Int("decisions", res.Decisions.Len()),
		zap.Int("rejected", len(res.Rejected))}
	for _, r := range slices.Sorted(maps.Keys(rules)) {
		f = append(f, zap.Int("rule."+r, rules[r]))
	}
	h.events.Emit("Recover", f...)
}

func (h *maintainerHost) onInbound(msg inbound) {
	h.step(func(m *maintainer.Maintainer) {
		switch {
		case msg.report != nil:
			// The receive is logged before the maintainer takes it: the Steps it takes
			// follow it in the log. The error is what StepStatus will refuse it with.
			r := *msg.report
			refused := m.CheckStatus(r)
			h.events.Emit("MaintainerStatus", zap.String("node", string(msg.node)), zap.Uint64("seq", msg.seq),
				zap.Uint64("epoch", uint64(r.Epoch)), zap.Array("statuses", statusArray(r.Statuses)), zap.Error(refused))
			_ = m.StepStatus(r) // refused as CheckStatus said, logged above
		case msg.answer != nil:
			err := m.StepAnswer(*msg.answer)
			h.events.Emit("MaintainerAnswer", zap.String("node", string(msg.node)), zap.Uint64("seq", msg.seq),
				zap.Uint64("epoch", uint64(msg.answer.Epoch)), zap.Int("dispatchers", len(msg.answer.Dispatchers)),
				zap.Strings("removes", recordIDs(msg.answer.Removes)), zap.Strings("merges", recordIDs(msg.answer.Merges)), zap.Error(err))
			if err == nil && m.Booting() && len(m.Waiting()) == 0 {
				_ = m.Recover() // every live node answered
			}
		}
	})
}

func (h *maintainerHost) onNode(ev coord.NodeEvent) error {
	if ev.Err != nil {
		return fmt.Errorf("maintainer: watching nodes: %w", ev.Err)
	}
	h.step(func(m *maintainer.Maintainer) {
		if ev.Joined {
			if _, known := h.live[ev.ID]; known {
				return
			}
			h.live[ev.ID] = ev.Addr
			h.cli.SetNode(ev.ID, ev.Addr)
			m.NodeAdded(ev.ID)
			h.events.Emit("NodeAdded", zap.String("node", string(ev.ID)), zap.Int64("rev", ev.Rev))
			return
		}
		if _, known := h.live[ev.ID]; !known {
			return
		}
		delete(h.live, ev.ID)
		h.cli.RemoveNode(ev.ID)
		m.NodeRemoved(ev.ID)
		h.events.Emit("NodeRemoved", zap.String("node", string(ev.ID)), zap.Int64("rev", ev.Rev))
	})
	return nil
}

func (h *maintainerHost) onTable(ev coord.TableEvent) error {
	if ev.Err != nil {
		return fmt.Errorf("maintainer: watching tables: %w", ev.Err)
	}
	h.step(func(m *maintainer.Maintainer) {
		if !ev.Created {
			m.DropTable(ev.Table)
			h.events.Emit("DropTable", zap.Int64("table", int64(ev.Table)), zap.Int64("rev", ev.Rev))
			return
		}
		// A new table starts no lower than the changefeed checkpoint already stored.
		id := ops.DispatcherID("t" + strconv.FormatInt(int64(ev.Table), 10))
		err := m.CreateTable(ev.Table, id, max(ev.Checkpoint, h.ckpt))
		h.events.Emit("CreateTable", zap.Int64("table", int64(ev.Table)), zap.String("id", string(id)), zap.Int64("rev", ev.Rev), zap.Error(err))
	})
	return nil
}

// traceStep logs step s as a Step event with the maintainer's state after it. The
// maintainer calls it from inside, under h.mu (h.m is set before it takes any step): it
// takes no lock.
func (h *maintainerHost) traceStep(s maintainer.Step) {
	h.events.Emit("Step", maintainerStep(h.m, s)...)
}

// flush sends what the maintainer has for the nodes and advances it.
func (h *maintainerHost) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, msg := range h.m.Ready() {
		seq, ok := h.cli.Send(msg.To, msg.Request)
		h.events.Emit("MaintainerSend", append([]zap.Field{zap.String("node", string(msg.To)), zap.Uint64("epoch", uint64(h.m.Epoch())),
			zap.Uint64("seq", seq), zap.Bool("sent", ok)}, requestFields(msg.Request, h.trace)...)...)
	}
	h.m.Advance()
	h.metrics.Update(h.m)
}

// advanceCheckpoint stores the changefeed checkpoint: the lowest checkpoint of any task.
func (h *maintainerHost) advanceCheckpoint(ctx context.Context) {
	h.mu.Lock()
	ctrl := h.m.Controller()
	if h.m.Booting() || ctrl == nil {
		h.mu.Unlock()
		return
	}
	lowest, any := uint64(0), false
	ctrl.EachTask(func(t ops.Task) {
		if !any || t.Checkpoint < lowest {
			lowest, any = t.Checkpoint, true
		}
	})
	h.mu.Unlock()
	if !any || lowest <= h.ckpt {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := h.lead.AdvanceCheckpoint(cctx, lowest); err != nil {
		if !errors.Is(err, coord.ErrNotLeader) {
			h.events.Emit("CheckpointError", zap.Error(err))
		}
		return
	}
	h.mu.Lock()
	h.ckpt = lowest
	h.mu.Unlock()
	h.events.Emit("Checkpoint", zap.Uint64("epoch", uint64(h.m.Epoch())), zap.Uint64("checkpoint", lowest))
}

func tableIDs(ts []ops.TableID) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = int64(t)
	}
	return out
}
