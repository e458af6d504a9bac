package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Errors of the simulator; callers test them with errors.Is.
var (
	// ErrBadConfig: a cluster configuration that names no node, an unknown node, or tasks
	// that overlap.
	ErrBadConfig = errors.New("bad cluster config")
	// ErrNotEnabled: an action whose precondition does not hold.
	ErrNotEnabled = errors.New("action not enabled")
)

// Limits bound the faults and scheduler operations of a run, like the spec's constants.
type Limits struct {
	// MaxEpoch: maintainer epochs 1..MaxEpoch (MaxEpoch - 1 maintainer crashes).
	MaxEpoch ops.Epoch
	// MaxLoss, MaxDup, MaxCrash: lost requests, duplicated deliveries, node crashes.
	MaxLoss, MaxDup, MaxCrash int
	// MaxOps: scheduler operations (move, split, merge, drop table) a run may start.
	MaxOps int
}

// Config describes a cluster: its nodes, its tables and the initial placement (each task
// Replicating with its dispatcher Working on its node), the bounds and the seeded bugs.
type Config struct {
	Changefeed ops.ChangefeedID
	Nodes      []ops.NodeID
	Tables     []ops.TableID
	Tasks      []ops.Task
	Limits     Limits
	Bugs       Bugs
	// OpKinds limits the scheduler's random operations to these of "move", "split",
	// "merge", "drop" (nil: all), like the spec's constant.
	OpKinds []string
	// SplitKeys, when set, are the only keys the scheduler splits at (the spec's world
	// splits its one table only at its middle key); nil: SplitKey picks one.
	SplitKeys []string
	// Heartbeat lets every live node tick (DMHeartbeat: node.Tick, its heartbeat and merge
	// checks), which the spec does not model: for runs that must re-report what a status
	// stream never carried, such as recovery from an arbitrary snapshot. Off in every spec
	// world.
	Heartbeat bool
}

// Cluster is a simulated changefeed: the library's own node core (package node) on every
// node, the network, and the library's maintainer driver (package maintainer). Enabled
// lists what can happen next; Apply makes one of those things happen, deterministically.
// The cluster adds only what a real deployment has outside the library: the network, its
// faults, crashes, and the scheduler's choices.
type Cluster struct {
	cfg     Config
	nodes   map[ops.NodeID]*node.Node
	alive   map[ops.NodeID]bool
	net     *Network
	m       *maintainer.Maintainer
	tables  []ops.TableID
	loss    int
	dup     int
	crash   int
	opsLeft int
	// late is the DDL the running maintainer processed whose commit comes after the next
	// maintainer's start checkpoint: the next one replays it.
	late []Action
	// dropped records the epoch of the maintainer that dropped each table.
	dropped map[ops.TableID]ops.Epoch
	// startCheckpoint is the snapshot's checkpoint of a cluster built by Recovered.
	startCheckpoint uint64
}

// NewCluster builds the cluster of cfg with its maintainer at epoch 1.
func NewCluster(cfg Config) (*Cluster, error) {
	if len(cfg.Nodes) == 0 || cfg.Changefeed == "" {
		return nil, fmt.Errorf("sim: %w: need a changefeed and at least one node", ErrBadConfig)
	}
	c := &Cluster{cfg: cfg, nodes: map[ops.NodeID]*node.Node{}, alive: map[ops.NodeID]bool{}, net: NewNetwork(),
		tables: slices.Clone(cfg.Tables), opsLeft: cfg.Limits.MaxOps}
	slices.Sort(c.tables)
	for _, n := range cfg.Nodes {
		nd, err := node.New(node.Config{Node: n, Changefeed: cfg.Changefeed, Owner: 1})
		if err != nil {
			return nil, fmt.Errorf("sim: %w: %w", ErrBadConfig, err)
		}
		seeded.SetNodeBugs(nd, cfg.Bugs.node())
		c.nodes[n], c.alive[n] = nd, true
	}
	for _, t := range cfg.Tasks {
		nd, ok := c.nodes[t.Node]
		if !ok {
			return nil, fmt.Errorf("sim: %w: task %s on unknown node %q", ErrBadConfig, t.ID, t.Node)
		}
		if err := nd.Preload(protocol.Dispatcher{ID: t.ID, Span: t.Span, State: ops.Working}); err != nil {
			return nil, fmt.Errorf("sim: %w: %w", ErrBadConfig, err)
		}
	}
	m, err := maintainer.NewWithTasks(c.maintainerConfig(1, cfg.Nodes, c.tables), cfg.Tasks)
	if err != nil {
		return nil, fmt.Errorf("sim: %w: %w", ErrBadConfig, err)
	}
	c.m = m
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("sim: %w: initial placement: %w", ErrBadConfig, err)
	}
	return c, nil
}

func (c *Cluster) maintainerConfig(e ops.Epoch, nodes []ops.NodeID, tables []ops.TableID) maintainer.Config {
	return maintainer.Config{Changefeed: c.cfg.Changefeed, Epoch: e, Nodes: nodes, Tables: tables, RecoveryOptions: c.cfg.Bugs.recoveryOptions()}
}

// Epoch is the maintainer's epoch.
func (c *Cluster) Epoch() ops.Epoch { return c.m.Epoch() }

// Booting reports whether the maintainer is bootstrapping (no controller yet).
func (c *Cluster) Booting() bool { return c.m.Booting() }

// Maintainer is the current maintainer.
func (c *Cluster) Maintainer() *maintainer.Maintainer { return c.m }

// Controller is the running maintainer's controller (nil while booting).
func (c *Cluster) Controller() *ops.Controller { return c.m.Controller() }

// Node returns node n's dispatcher manager core.
func (c *Cluster) Node(n ops.NodeID) *node.Node { return c.nodes[n] }

// Nodes lists the cluster's nodes, dead or alive, as configured.
func (c *Cluster) Nodes() []ops.NodeID { return slices.Clone(c.cfg.Nodes) }

// Alive reports whether node n is up.
func (c *Cluster) Alive(n ops.NodeID) bool { return c.alive[n] }

// Tables lists the live tables, sorted.
func (c *Cluster) Tables() []ops.TableID { return slices.Clone(c.tables) }

// Network returns the messages in flight.
func (c *Cluster) Network() *Network { return c.net }

func (c *Cluster) liveNodes() []ops.NodeID {
	var out []ops.NodeID
	for _, n := range c.cfg.Nodes {
		if c.alive[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func (c *Cluster) liveCores() []*node.Node {
	var out []*node.Node
	for _, n := range c.liveNodes() {
		out = append(out, c.nodes[n])
	}
	return out
}

// Action is one step of the simulation, named as in spec/failover (docs/abstract-state.md).
// Only the fields its name uses are set.
type Action struct {
	Name  string
	Node  ops.NodeID
	Epoch ops.Epoch
	ID    ops.DispatcherID
	IDs   []ops.DispatcherID
	Index int
	Table ops.TableID
	// Key is where StartSplit cuts (empty: SplitKey of the span).
	Key string
	// DDL times a DropTable or CreateTable against the next maintainer's start ts
	// (scenario operations; random walks leave it empty): "" the maintainer processes it
	// and the next snapshot agrees; "late" the maintainer processes it but its commit ts is
	// after the next maintainer's start ts, so the next snapshot does not show it and the
	// next maintainer replays it right after recovery (the table trigger dispatcher);
	// "unseen" (drop only) it committed before the next start ts but this maintainer never
	// processes it.
	DDL string
}

// String formats the action as the spec labels it.
func (a Action) String() string {
	switch a.Name {
	case "DMDeliver", "DMDeliverDup":
		return fmt.Sprintf("%s(%s, %d)", a.Name, a.Node, a.Epoch)
	case "Lose":
		return fmt.Sprintf("Lose(%s, %d, %d)", a.Node, a.Epoch, a.Index)
	case "MaintainerStatus", "NodeCrash", "DMHeartbeat":
		return fmt.Sprintf("%s(%s)", a.Name, a.Node)
	case "ScheduleAbsent", "StartMove":
		return fmt.Sprintf("%s(%s, %s)", a.Name, a.ID, a.Node)
	case "StartSplit":
		if a.Key != "" {
			return fmt.Sprintf("StartSplit(%s, %q)", a.ID, a.Key)
		}
		return "StartSplit(" + string(a.ID) + ")"
	case "StartRemove":
		return "StartRemove(" + string(a.ID) + ")"
	case "CreateTable":
		if a.DDL != "" {
			return fmt.Sprintf("CreateTable(%d, %s, %s)", a.Table, a.ID, a.DDL)
		}
		return fmt.Sprintf("CreateTable(%d, %s)", a.Table, a.ID)
	case "StartMerge":
		if a.ID != "" {
			return fmt.Sprintf("StartMerge(%v, %s)", a.IDs, a.ID)
		}
		return fmt.Sprintf("StartMerge(%v)", a.IDs)
	case "DropTable":
		if a.DDL != "" {
			return fmt.Sprintf("DropTable(%d, %s)", a.Table, a.DDL)
		}
		return "DropTable(" + strconv.FormatInt(int64(a.Table), 10) + ")"
	case "Resend":
		return "Resend(" + string(a.ID) + ")"
	case "MaintainerCrash", "Recover":
		return a.Name
	}
	return fmt.Sprintf("%s(%s, %s)", a.Name, a.Node, a.ID)
}

// IsFault reports whether the action is a fault (it never happens under fairness alone).
func (a Action) IsFault() bool {
	switch a.Name {
	case "MaintainerCrash", "NodeCrash", "Lose", "DMDeliverDup":
		return true
	}
	return false
}

// IsScheduler reports whether the action is a scheduler's choice (move, split, merge, drop).
func (a Action) IsScheduler() bool {
	switch a.Name {
	case "StartMove", "StartSplit", "StartMerge", "DropTable", "StartRemove", "CreateTable":
		return true
	}
	return false
}

// Enabled lists every action that can happen now, in a fixed order.
func (c *Cluster) Enabled() []Action {
	var out []Action
	lim := c.cfg.Limits
	for _, s := range c.net.Streams() {
		if !c.alive[s.Node] {
			continue
		}
		out = append(out, Action{Name: "DMDeliver", Node: s.Node, Epoch: s.Epoch})
		if c.dup < lim.MaxDup {
			out = append(out, Action{Name: "DMDeliverDup", Node: s.Node, Epoch: s.Epoch})
		}
		if c.loss < lim.MaxLoss {
			for i, r := range c.net.Requests(s) {
				if r.Kind != protocol.Bootstrap {
					out = append(out, Action{Name: "Lose", Node: s.Node, Epoch: s.Epoch, Index: i})
				}
			}
		}
	}
	for _, n := range c.liveNodes() {
		for _, a := range c.nodes[n].Enabled() {
			out = append(out, Action{Name: a.Kind.String(), Node: n, ID: a.ID})
		}
		if c.cfg.Heartbeat {
			out = append(out, Action{Name: "DMHeartbeat", Node: n})
		}
	}
	if c.Epoch() < lim.MaxEpoch {
		out = append(out, Action{Name: "MaintainerCrash"})
	}
	live := c.liveNodes()
	if c.crash < lim.MaxCrash && len(live) > 1 {
		for _, n := range live {
			out = append(out, Action{Name: "NodeCrash", Node: n})
		}
	}
	if c.m.Booting() {
		if len(c.m.Waiting()) == 0 {
			out = append(out, Action{Name: "Recover"})
		}
		return out
	}
	for _, n := range live {
		if len(c.net.Statuses(n)) > 0 {
			out = append(out, Action{Name: "MaintainerStatus", Node: n})
		}
	}
	for _, msg := range c.m.Outstanding() {
		if c.alive[msg.To] && !c.net.InFlight(Stream{msg.To, c.Epoch()}, msg.Request) {
			out = append(out, Action{Name: "Resend", ID: msg.Request.Record.ID})
		}
	}
	c.schedulerActions(live, &out)
	return out
}

func (c *Cluster) schedulerActions(live []ops.NodeID, out *[]Action) {
	ctrl := c.m.Controller()
	tasks := ctrl.Tasks()
	for _, t := range tasks {
		if _, busy := ctrl.Operator(t.ID); busy {
			continue
		}
		if t.Sched == ops.Absent {
			for _, n := range live {
				*out = append(*out, Action{Name: "ScheduleAbsent", ID: t.ID, Node: n})
			}
		}
		if t.Sched == ops.Replicating && c.opsLeft > 0 {
			for _, n := range live {
				if n != t.Node && c.kind("move") {
					*out = append(*out, Action{Name: "StartMove", ID: t.ID, Node: n})
				}
			}
			if c.kind("split") {
				*out = append(*out, c.splits(t)...)
			}
		}
	}
	if c.opsLeft <= 0 {
		return
	}
	// Merge candidates in key order: Adjacent is directed (left span first), and ids need
	// not sort as their spans do (recovery names a hole t<table>-e<epoch>-<start>).
	bySpan := slices.Clone(tasks)
	slices.SortFunc(bySpan, func(x, y ops.Task) int { return ops.CompareSpans(x.Span, y.Span) })
	for i, a := range bySpan {
		for _, b := range bySpan[i+1:] {
			if c.kind("merge") && c.mergeable(a, b) {
				*out = append(*out, Action{Name: "StartMerge", IDs: []ops.DispatcherID{a.ID, b.ID}})
			}
		}
	}
	for _, t := range c.tables {
		if c.kind("drop") {
			*out = append(*out, Action{Name: "DropTable", Table: t})
		}
	}
}

// kind reports whether the scheduler may start operations of kind k.
func (c *Cluster) kind(k string) bool {
	return c.cfg.OpKinds == nil || slices.Contains(c.cfg.OpKinds, k)
}

// splits lists the StartSplit actions for task t: at SplitKey, or at each configured
// split key inside its span.
func (c *Cluster) splits(t ops.Task) []Action {
	if c.cfg.SplitKeys == nil {
		if _, ok := SplitKey(t.Span); ok {
			return []Action{{Name: "StartSplit", ID: t.ID}}
		}
		return nil
	}
	var out []Action
	for _, k := range c.cfg.SplitKeys {
		if _, ok := cut(t.Span, k); ok {
			out = append(out, Action{Name: "StartSplit", ID: t.ID, Key: k})
		}
	}
	return out
}

func (c *Cluster) mergeable(a, b ops.Task) bool {
	ctrl := c.m.Controller()
	_, opA := ctrl.Operator(a.ID)
	_, opB := ctrl.Operator(b.ID)
	_, taken := ctrl.Task(mergedID(a.ID, b.ID))
	_, busy := ctrl.Operator(mergedID(a.ID, b.ID))
	return !opA && !opB && !taken && !busy && a.Sched == ops.Replicating && b.Sched == ops.Replicating &&
		a.Node == b.Node && a.Span.Adjacent(b.Span)
}

// SplitKey is the key at which the simulator's scheduler splits span s: the first of
// Start+"m", Start+"g", Start+"0" that lies strictly inside s. ok is false when none does.
func SplitKey(s ops.Span) (key string, ok bool) {
	for _, k := range []string{s.Start + "m", s.Start + "g", s.Start + "0"} {
		if s.Start < k && (s.End == "" || k < s.End) {
			return k, true
		}
	}
	return "", false
}

// Halves cuts s at SplitKey(s) into two adjacent spans that tile it.
func Halves(s ops.Span) ([]ops.Span, bool) {
	k, ok := SplitKey(s)
	if !ok {
		return nil, false
	}
	return cut(s, k)
}

// cut cuts s at key k, which must lie strictly inside s.
func cut(s ops.Span, k string) ([]ops.Span, bool) {
	if k <= s.Start || (s.End != "" && k >= s.End) {
		return nil, false
	}
	return []ops.Span{{Table: s.Table, Start: s.Start, End: k}, {Table: s.Table, Start: k, End: s.End}}, true
}

// createTable: CREATE TABLE reaches the running maintainer, which adds an Absent task a.ID
// for the table's whole key range (a scenario operation; the spec's world has one table).
func (c *Cluster) createTable(a Action) error {
	if slices.Contains(c.tables, a.Table) || a.ID == "" || (a.DDL != "" && a.DDL != "late") {
		return c.notEnabled(a)
	}
	if err := c.m.CreateTable(a.Table, a.ID, 0); err != nil {
		return fmt.Errorf("sim: %s: %w", a, err)
	}
	c.tables = append(c.tables, a.Table)
	slices.Sort(c.tables)
	if a.DDL == "late" {
		c.late = append(c.late, a)
	}
	return nil
}

// mergedID names the dispatcher a merge of a and b creates, the same in every run.
func mergedID(a, b ops.DispatcherID) ops.DispatcherID { return a + "+" + b }

// flush puts what the maintainer wants sent on its streams (requests to a dead node are
// gone with its streams).
func (c *Cluster) flush() {
	for _, msg := range c.m.Ready() {
		if c.alive[msg.To] {
			c.net.Send(Stream{msg.To, c.m.Epoch()}, msg.Request)
		}
	}
	c.m.Advance()
}

// drain takes what node n's core produced: its statuses go on n's status stream, a
// bootstrap answer to the maintainer of its epoch if that one is booting (others are
// dropped, 25c). The simulator's dispatchers are the core's own view, so effects need no
// host.
func (c *Cluster) drain(n ops.NodeID) {
	nd := c.nodes[n]
	if !nd.HasReady() {
		return
	}
	rd := nd.Ready()
	for _, rep := range rd.Reports {
		for _, st := range rep.Statuses {
			c.net.Report(n, st, rep.Epoch)
		}
	}
	for _, a := range rd.Answers {
		if c.m.Booting() && a.Epoch == c.m.Epoch() {
			_ = c.m.StepAnswer(a) // a repeat replaces the pending answer (25c)
		}
	}
	nd.Advance()
}

// Apply performs action a. An action that is not enabled returns an error wrapping
// ErrNotEnabled or ErrNoMessage and changes nothing the caller can observe.
func (c *Cluster) Apply(a Action) error {
	err := c.apply(a)
	c.flush()
	return err
}

func (c *Cluster) apply(a Action) error {
	switch a.Name {
	case "DMDeliver", "DMDeliverDup":
		return c.deliver(a)
	case "Lose":
		if c.loss >= c.cfg.Limits.MaxLoss {
			return c.notEnabled(a)
		}
		if err := c.net.Lose(Stream{a.Node, a.Epoch}, a.Index); err != nil {
			return err
		}
		c.loss++
		return nil
	case "DMPrepared", "DMCommit", "DMAbortMerge", "DMWorking", "DMSweep", "DMJournalCleanup":
		return c.local(a)
	case "DMHeartbeat":
		if !c.cfg.Heartbeat || !c.alive[a.Node] {
			return c.notEnabled(a)
		}
		c.nodes[a.Node].Tick()
		c.drain(a.Node)
		return nil
	case "MaintainerCrash":
		return c.maintainerCrash(a)
	case "NodeCrash":
		return c.nodeCrash(a)
	case "Recover":
		if err := c.m.Recover(); err != nil {
			return fmt.Errorf("sim: %w: %w", ErrNotEnabled, err)
		}
		return nil
	}
	if c.m.Booting() {
		return c.notEnabled(a)
	}
	switch a.Name {
	case "MaintainerStatus":
		rep, err := c.net.NextStatus(a.Node)
		if err != nil {
			return err
		}
		return c.m.StepStatus(protocol.StatusReport{Changefeed: c.cfg.Changefeed, Node: a.Node, Epoch: rep.Epoch, Statuses: []ops.Status{rep.Status}})
	case "Resend":
		if !c.m.Resend(a.ID) {
			return c.notEnabled(a)
		}
		return nil
	case "ScheduleAbsent":
		return c.m.Add(a.ID, a.Node)
	case "CreateTable":
		return c.createTable(a)
	}
	if c.opsLeft <= 0 {
		return c.notEnabled(a)
	}
	var err error
	switch a.Name {
	case "StartMove":
		err = c.m.Move(a.ID, a.Node)
	case "StartSplit":
		t, ok := c.m.Controller().Task(a.ID)
		if !ok {
			return c.notEnabled(a)
		}
		halves, ok := Halves(t.Span)
		if a.Key != "" {
			halves, ok = cut(t.Span, a.Key)
		}
		if !ok {
			return c.notEnabled(a)
		}
		err = c.m.Split(a.ID, halves, nil)
	case "StartMerge":
		if len(a.IDs) != 2 {
			return c.notEnabled(a)
		}
		merged := a.ID
		if merged == "" {
			merged = mergedID(a.IDs[0], a.IDs[1])
		}
		err = c.m.Merge(a.IDs, merged)
	case "StartRemove":
		err = c.m.Remove(a.ID)
	case "DropTable":
		i := slices.Index(c.tables, a.Table)
		if i < 0 {
			return c.notEnabled(a)
		}
		switch a.DDL {
		case "", "late":
			c.m.DropTable(a.Table)
		case "unseen":
		default:
			return c.notEnabled(a)
		}
		c.tables = slices.Delete(c.tables, i, i+1)
		if c.dropped == nil {
			c.dropped = map[ops.TableID]ops.Epoch{}
		}
		c.dropped[a.Table] = c.Epoch()
		if a.DDL == "late" {
			c.late = append(c.late, a)
		}
	default:
		return fmt.Errorf("sim: %w: unknown action %q", ErrNotEnabled, a.Name)
	}
	if err == nil {
		c.opsLeft--
	}
	return err
}

func (c *Cluster) notEnabled(a Action) error {
	return fmt.Errorf("sim: %w: %s", ErrNotEnabled, a)
}

func (c *Cluster) deliver(a Action) error {
	dup := a.Name == "DMDeliverDup"
	if !c.alive[a.Node] || (dup && c.dup >= c.cfg.Limits.MaxDup) {
		return c.notEnabled(a)
	}
	r, err := c.net.Deliver(Stream{a.Node, a.Epoch}, dup)
	if err != nil {
		return err
	}
	if dup {
		c.dup++
	}
	var refused *node.RefusedError
	if err := c.nodes[a.Node].Step(r); err != nil && !errors.As(err, &refused) {
		return err
	}
	c.drain(a.Node)
	return nil
}

func (c *Cluster) local(a Action) error {
	nd := c.nodes[a.Node]
	kind, ok := node.ParseActionKind(a.Name)
	if !c.alive[a.Node] || nd == nil || !ok {
		return c.notEnabled(a)
	}
	if err := nd.Apply(node.Action{Kind: kind, ID: a.ID}); err != nil {
		return fmt.Errorf("sim: %w: %w", ErrNotEnabled, err)
	}
	c.drain(a.Node)
	return nil
}

// maintainerCrash: the next maintainer takes epoch + 1, starts empty and asks every live
// node for a bootstrap answer on its own streams; statuses to the dead one are gone. Its
// schema snapshot is the one at its start checkpoint: late DDL is not in it, and it
// replays that DDL after recovery.
func (c *Cluster) maintainerCrash(a Action) error {
	if c.Epoch() >= c.cfg.Limits.MaxEpoch {
		return c.notEnabled(a)
	}
	e := c.Epoch() + 1
	tables := slices.Clone(c.tables)
	for _, d := range c.late {
		if d.Name == "DropTable" {
			tables = append(tables, d.Table)
		} else {
			tables = slices.DeleteFunc(tables, func(t ops.TableID) bool { return t == d.Table })
		}
	}
	slices.Sort(tables)
	m, err := maintainer.New(c.maintainerConfig(e, c.liveNodes(), tables))
	if err != nil {
		return err
	}
	for _, d := range c.late {
		if d.Name == "DropTable" {
			m.DropTable(d.Table)
		} else {
			// A new task: the old maintainer's dispatcher d.ID, if it was created, is not in
			// the snapshot's schema and is being cleaned up.
			_ = m.CreateTable(d.Table, ops.DispatcherID(fmt.Sprintf("%s-r%d", d.ID, e)), 0) // booting: queued
		}
	}
	c.m, c.late = m, nil
	c.net.DropStatuses()
	return nil
}

// nodeCrash: node n dies with its dispatchers, journals and streams; the maintainer hears
// of it at once (a booting one stops waiting for its answer).
func (c *Cluster) nodeCrash(a Action) error {
	if !c.alive[a.Node] || c.crash >= c.cfg.Limits.MaxCrash || len(c.liveNodes()) < 2 {
		return c.notEnabled(a)
	}
	c.crash++
	c.alive[a.Node] = false
	c.net.NodeGone(a.Node)
	c.m.NodeRemoved(a.Node)
	return nil
}

// Check runs the invariants that hold in every state: S1 and S11 over the live nodes, and
// S5 (NodeBinding) over the running maintainer's tasks.
func (c *Cluster) Check() error {
	live := c.liveCores()
	if err := NoDuplicateActiveDispatcher(live); err != nil {
		return err
	}
	if err := RemoveJournalSound(live); err != nil {
		return err
	}
	if c.m.Booting() {
		return nil
	}
	return NodeBinding(c.m.Controller().Tasks())
}

// NodeBinding (S5): Absent tasks are unbound, Scheduling and Replicating tasks bound.
func NodeBinding(tasks []ops.Task) error {
	for _, t := range tasks {
		if (t.Sched == ops.Absent) != (t.Node == "") {
			return &Violation{Property: "NodeBinding", Detail: t.String()}
		}
	}
	return nil
}
