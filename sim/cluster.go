package sim

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

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
	// MaxFail: merged dispatchers that may fail before their merge commits
	// (DMPrepareFail), so a merge aborts on a live table.
	MaxFail int
	// MaxOps: scheduler operations (move, split, merge, drop table, and where
	// Config.OpKinds lists them remove and create table) a run may start.
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
	// "merge", "drop", "remove" and "create" (nil: SpecOpKinds, like the spec's
	// constant). A "remove" is a standalone remove (StartRemove): the span stays
	// uncovered until the next maintainer's recovery, or a remove that recovery restored
	// repairing the table's coverage, covers it again. A "create" is a
	// CREATE TABLE of one of NewTables (CreateTable), whose task the scheduler then adds.
	OpKinds []string
	// OpsByKind makes a random walk choose among the kinds of scheduler operation enabled
	// (each kind one choice beside every other enabled action), then uniformly among that
	// kind's operations. Off, every enabled action is one choice, and in a world of many
	// tasks and nodes nearly every operation is a move.
	OpsByKind bool
	// NewTables are the tables a "create" operation may add, each at most once, as task
	// "t<table>" over the whole table.
	NewTables []ops.TableID
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
	cfg     *Config             // shared with clones, never written
	nodes   []nodeSlot          // by index in cfg.Nodes
	byName  []int               // indexes of cfg.Nodes in name order; shared with clones
	alive   map[ops.NodeID]bool // shared with clones: replaced, never written, once built
	net     Network             // its lists of streams copied on write (Network.share)
	m       *maintainer.Maintainer
	tables  []ops.TableID
	loss    int
	dup     int
	crash   int
	fail    int
	opsLeft int
	// late is the DDL the running maintainer processed whose commit comes after the next
	// maintainer's start checkpoint: the next one replays it.
	late []Action
	// dropped records the epoch of the maintainer that dropped each table; shared with
	// clones like alive.
	dropped map[ops.TableID]ops.Epoch
	// startCheckpoint is the snapshot's checkpoint of a cluster built by Recovered.
	startCheckpoint uint64
	// removed holds the spans that the running maintainer's standalone removes took out
	// of their tables: Converged lets them be uncovered.
	removed map[ops.TableID][]ops.Span
	// sharedNodes has bit i set while the core of cfg.Nodes[i] may be shared with a clone,
	// sharedM while the maintainer may be (cow.go).
	sharedNodes uint64
	sharedM     bool
	// fpM caches the fingerprint's encoding of the maintainer (answers, schema,
	// registry), as nodeSlot.fp does a node core's. Bytes stay valid while their part is
	// unchanged, so a clone shares them with the part; writeNode and writeMaintainer drop
	// them.
	fpM []byte
	// fpAns caches the encoding of the bootstrap answers of the running maintainer of
	// epoch fpAnsEpoch (answersFingerprint); it is shared with clones like fpM.
	fpAns      []byte
	fpAnsEpoch ops.Epoch
}

// nodeSlot is a node's core and the fingerprint's cached encoding of its dispatchers and
// journals (nil until written, dropped when the core changes): one slice of them, so a
// clone copies one.
type nodeSlot struct {
	core *node.Node
	fp   []byte
}

// SpecOpKinds are the scheduler operations of the spec's worlds, the kinds a nil
// Config.OpKinds allows.
var SpecOpKinds = []string{"move", "split", "merge", "drop"}

// NewCluster builds the cluster of cfg with its maintainer at epoch 1.
func NewCluster(cfg Config) (*Cluster, error) {
	if len(cfg.Nodes) == 0 || cfg.Changefeed == "" {
		return nil, fmt.Errorf("sim: %w: need a changefeed and at least one node", ErrBadConfig)
	}
	c, err := newNodes(cfg, 1)
	if err != nil {
		return nil, err
	}
	for _, t := range cfg.Tasks {
		nd := c.core(t.Node)
		if nd == nil {
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

// newNodes is the cluster of cfg's nodes, each core obeying owner, before any
// dispatcher, task or maintainer.
func newNodes(cfg Config, owner ops.Epoch) (*Cluster, error) {
	c := &Cluster{cfg: &cfg, nodes: make([]nodeSlot, len(cfg.Nodes)), alive: map[ops.NodeID]bool{},
		tables: slices.Clone(cfg.Tables), opsLeft: cfg.Limits.MaxOps}
	slices.Sort(c.tables)
	for i := range cfg.Nodes {
		c.byName = append(c.byName, i)
	}
	slices.SortFunc(c.byName, func(i, j int) int { return cmp.Compare(cfg.Nodes[i], cfg.Nodes[j]) })
	for i, n := range cfg.Nodes {
		if slices.Index(cfg.Nodes, n) != i {
			return nil, fmt.Errorf("sim: %w: node %q listed twice", ErrBadConfig, n)
		}
		nd, err := node.New(node.Config{Node: n, Changefeed: cfg.Changefeed, Owner: owner})
		if err != nil {
			return nil, fmt.Errorf("sim: %w: %w", ErrBadConfig, err)
		}
		seeded.SetNodeBugs(nd, cfg.Bugs.node())
		c.nodes[i].core, c.alive[n] = nd, true
	}
	return c, nil
}

// core is node n's core, or nil for a node the configuration does not name.
func (c *Cluster) core(n ops.NodeID) *node.Node {
	if i := slices.Index(c.cfg.Nodes, n); i >= 0 {
		return c.nodes[i].core
	}
	return nil
}

func (c *Cluster) maintainerConfig(e ops.Epoch, nodes []ops.NodeID, tables []ops.TableID) maintainer.Config {
	return maintainer.Config{Changefeed: c.cfg.Changefeed, Epoch: e, Nodes: nodes, Tables: tables, RecoveryOptions: c.cfg.Bugs.recoveryOptions()}
}

// Epoch is the maintainer's epoch.
func (c *Cluster) Epoch() ops.Epoch { return c.m.Epoch() }

// Booting reports whether the maintainer is bootstrapping (no controller yet).
func (c *Cluster) Booting() bool { return c.m.Booting() }

// Maintainer is the current maintainer, to read: it may be shared with clones of the
// cluster (cow.go), so changing it is for Apply alone.
func (c *Cluster) Maintainer() *maintainer.Maintainer { return c.m }

// Controller is the running maintainer's controller (nil while booting), to read.
func (c *Cluster) Controller() *ops.Controller { return c.m.Controller() }

// Node returns node n's dispatcher manager core, to read: it may be shared with clones
// of the cluster (cow.go), so changing it is for Apply alone.
func (c *Cluster) Node(n ops.NodeID) *node.Node { return c.core(n) }

// Nodes lists the cluster's nodes, dead or alive, as configured.
func (c *Cluster) Nodes() []ops.NodeID { return slices.Clone(c.cfg.Nodes) }

// AppendNodes appends Nodes' list to buf and returns the extended buffer, for a caller
// that reads every state of a search and keeps the list on its stack.
func (c *Cluster) AppendNodes(buf []ops.NodeID) []ops.NodeID { return append(buf, c.cfg.Nodes...) }

// Alive reports whether node n is up.
func (c *Cluster) Alive(n ops.NodeID) bool { return c.alive[n] }

// Tables lists the live tables, sorted.
func (c *Cluster) Tables() []ops.TableID { return slices.Clone(c.tables) }

// Network returns the messages in flight, to read: it may be shared with clones of the
// cluster (cow.go), so changing it is for Apply alone.
func (c *Cluster) Network() *Network { return &c.net }

func (c *Cluster) liveNodes() []ops.NodeID { return c.appendLiveNodes(nil) }

// appendLiveNodes appends the live nodes to buf, sorted.
func (c *Cluster) appendLiveNodes(buf []ops.NodeID) []ops.NodeID {
	for _, i := range c.byName {
		if n := c.cfg.Nodes[i]; c.alive[n] {
			buf = append(buf, n)
		}
	}
	return buf
}

func (c *Cluster) liveCores() []*node.Node { return c.appendLiveCores(nil) }

// appendLiveCores appends the cores of the live nodes to buf, by node name.
func (c *Cluster) appendLiveCores(buf []*node.Node) []*node.Node {
	for _, i := range c.byName {
		if c.alive[c.cfg.Nodes[i]] {
			buf = append(buf, c.nodes[i].core)
		}
	}
	return buf
}

// Check runs the invariants that hold in every state: S1 and S11 (RemoveJournalSound,
// MergesJournaled) over the live nodes, and S5 (NodeBinding) over the running maintainer's
// tasks.
func (c *Cluster) Check() error {
	var buf [8]*node.Node
	live := c.appendLiveCores(buf[:0])
	if err := NoDuplicateActiveDispatcher(live); err != nil {
		return err
	}
	if err := RemoveJournalSound(live); err != nil {
		return err
	}
	if err := MergesJournaled(live); err != nil {
		return err
	}
	if c.m.Booting() {
		return nil
	}
	// Every step checks S5: scan the tasks in place, and sort them (for the report's first
	// task, as NodeBinding names it) only when one breaks it.
	bound := true
	c.m.Controller().EachTask(func(t ops.Task) { bound = bound && NodeBinding([]ops.Task{t}) == nil })
	if bound {
		return nil
	}
	return NodeBinding(c.m.Controller().Tasks())
}
