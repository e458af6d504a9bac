package maintainer

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/internal/seeded"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// Config sets up a Maintainer.
type Config struct {
	Changefeed ops.ChangefeedID
	// Epoch is this maintainer's epoch; it must be higher than any earlier maintainer's of
	// the changefeed, since nodes obey the highest epoch that bootstrapped them.
	Epoch ops.Epoch
	// Nodes are the live nodes when the maintainer starts.
	Nodes []ops.NodeID
	// Tables are the live tables at Checkpoint: recovery trusts this schema snapshot.
	Tables []ops.TableID
	// Checkpoint is the changefeed checkpoint the maintainer starts from; a span recovery
	// starts anew starts there.
	Checkpoint uint64
	// Place chooses a node for an Absent task when Tick schedules it; nil: LeastLoaded.
	Place Placement
	// ResendTicks is how many ticks an operator's request waits, without the operator
	// moving, before Tick resends it (0: 10). BootstrapTicks is the same for a bootstrap
	// request a node has not answered (0: 1).
	ResendTicks, BootstrapTicks int
	// Logger, if not nil, logs recovery, refusals and fenced statuses (debug), never per
	// status at higher levels. Observer, if not nil, sees every operator transition.
	Logger   *zap.Logger
	Observer fsm.Observer
	// RecoveryOptions are passed to recovery.Recover after the maintainer's own (its
	// Logger and Observer).
	RecoveryOptions []recovery.Option
	// Trace, if not nil, is called after every step the maintainer takes (Step), with its
	// state already changed; statuses are then taken one at a time. Nil costs nothing.
	Trace func(Step)
}

// Placement picks a node for task t among the live nodes, with how many tasks each holds.
type Placement func(t ops.Task, nodes []NodeLoad) ops.NodeID

// NodeLoad is a live node and the number of tasks bound to it.
type NodeLoad struct {
	Node  ops.NodeID
	Tasks int
}

// LeastLoaded is the default Placement: the node with the fewest tasks, the lowest name
// among equals.
func LeastLoaded(_ ops.Task, nodes []NodeLoad) ops.NodeID {
	return slices.MinFunc(nodes, func(a, b NodeLoad) int { return cmp.Or(cmp.Compare(a.Tasks, b.Tasks), cmp.Compare(a.Node, b.Node)) }).Node
}

// Message is one request to send to node To.
type Message struct {
	To      ops.NodeID
	Request protocol.Request
}

// Metrics are the maintainer's counters.
type Metrics struct {
	// RequestsQueued counts requests Ready handed out, Resends those of them that were
	// resends (by Tick or Resend).
	RequestsQueued, Resends uint64
	// StatusesApplied counts statuses fed to the controller; StatusesFenced those dropped
	// because they were sent to another maintainer epoch; StatusesDropped those from a node
	// that is not live.
	StatusesApplied, StatusesFenced, StatusesDropped uint64
	// Recoveries counts recoveries (0 or 1), Refused scheduling calls refused.
	Recoveries, Refused uint64
	// RequestsHeld counts requests held back because a stray recovery removed may still
	// serve their keys (Strays).
	RequestsHeld uint64
}

// sentKey is what a node acts on in a request, and which node: a new key is a new request.
type sentKey struct {
	to ops.NodeID
	id protocol.Identity
}

type sent struct {
	key  sentKey
	tick uint64
}

// DDL is a table change a booting maintainer replays after recovery.
type DDL struct {
	// Drop: DROP TABLE Table; else CREATE TABLE Table as task ID from Checkpoint.
	Drop       bool
	Table      ops.TableID
	ID         ops.DispatcherID
	Checkpoint uint64
}

// Maintainer is the driver. The zero value is not usable; call New or NewWithTasks.
type Maintainer struct {
	state
	// cow holds the parts of state shared with another maintainer (cow.go), one bit each.
	// It is kept out of state, which Clone copies as a whole; Clone sets it, possibly from
	// several goroutines at once, and only the maintainer's owner clears bits of it.
	cow atomic.Uint32
}

// state is everything a maintainer holds but cow. Its slices, maps and controller are
// the parts a clone shares until either side writes one (cow.go); every write to a part
// goes through that part's write accessor.
type state struct {
	cfg     *Config       // never changed after New: shared by clones, like the result
	members []member      // the live nodes, sorted
	tables  []ops.TableID // the live tables, sorted
	booting bool
	answers map[ops.NodeID]protocol.BootstrapAnswer
	ctrl    *ops.Controller
	result  *recovery.Result        // nil before recovery
	late    []DDL                   // DDL that arrived while booting
	early   []protocol.StatusReport // statuses that arrived while booting
	sent    sentTable               // what was last sent, by operator (sent.go)
	tick    uint64
	placing bool // Absent tasks may exist: Tick places them
	metrics Metrics
	strays  []stray       // recovery's strays not heard stopped yet (strays.go)
	held    []ops.Message // requests held back for them

	out     []Message
	marked  int
	changed []ops.DispatcherID
	batch   []ops.Message
	bugs    seeded.MaintainerBugs
}

func init() {
	seeded.SetMaintainerBugs = func(m any, b seeded.MaintainerBugs) { m.(*Maintainer).bugs = b }
}

func (c *Config) normalize() error {
	if c.Changefeed == "" || c.Epoch == 0 {
		return fmt.Errorf("maintainer: %w: changefeed %q epoch %d", ErrInvalidConfig, c.Changefeed, c.Epoch)
	}
	if c.Place == nil {
		c.Place = LeastLoaded
	}
	if c.ResendTicks <= 0 {
		c.ResendTicks = 10
	}
	c.BootstrapTicks = max(c.BootstrapTicks, 1)
	return nil
}

func newMaintainer(cfg Config) (*Maintainer, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	m := &Maintainer{state: state{cfg: &cfg, answers: map[ops.NodeID]protocol.BootstrapAnswer{}}}
	for _, n := range cfg.Nodes {
		m.addMember(n, true) // New recovers once they answered; NewWithTasks' obey already
	}
	for _, t := range cfg.Tables {
		m.addTable(t)
	}
	return m, nil
}

// New returns a maintainer that bootstraps: its first Ready asks every node in cfg.Nodes
// for a bootstrap answer.
func New(cfg Config) (*Maintainer, error) {
	m, err := newMaintainer(cfg)
	if err != nil {
		return nil, err
	}
	m.booting = true
	for _, n := range m.liveNodes() {
		m.askBootstrap(n)
	}
	return m, nil
}

// NewWithTasks returns a running maintainer whose tasks are known without a bootstrap
// (a changefeed's first maintainer, placing its tables itself): each task is Replicating
// on its node, and every node obeys cfg.Epoch already.
func NewWithTasks(cfg Config, tasks []ops.Task) (*Maintainer, error) {
	m, err := newMaintainer(cfg)
	if err != nil {
		return nil, err
	}
	m.ctrl = ops.NewController(ops.Config{Changefeed: cfg.Changefeed, Epoch: cfg.Epoch, Observer: cfg.Observer, Logger: cfg.Logger, Capacity: len(tasks)})
	for _, t := range tasks {
		if !m.isLive(t.Node) {
			return nil, fmt.Errorf("maintainer: task %s: %w: %q", t.ID, ErrUnknownNode, t.Node)
		}
		t.Sched = ops.Replicating
		if err := m.ctrl.AddTask(t); err != nil { // a new maintainer owns its parts
			return nil, fmt.Errorf("maintainer: %w", err)
		}
	}
	return m, nil
}

// Clone returns an independent copy: changing either never shows in the other. The copy
// shares storage with m until either side writes a part of it, which that side then
// copies first (cow.go), so a clone costs a struct copy and each part is copied only
// when first written: a model checker branches states by cloning, a state per step. The
// Placement, Logger and Observer are shared. Clone changes nothing of m but marks its
// parts shared, atomically, so several goroutines may clone one maintainer at once while
// nobody changes it.
func (m *Maintainer) Clone() *Maintainer {
	m.cow.Store(allParts) // the same value from every goroutine that clones m
	d := &Maintainer{state: m.state}
	d.cow.Store(allParts)
	d.changed, d.batch = nil, nil // scratch, never shared
	return d
}

// Epoch is the maintainer's epoch.
func (m *Maintainer) Epoch() ops.Epoch { return m.cfg.Epoch }

// Changefeed is the maintainer's changefeed.
func (m *Maintainer) Changefeed() ops.ChangefeedID { return m.cfg.Changefeed }

// Booting reports whether the maintainer still waits for bootstrap answers or recovery.
func (m *Maintainer) Booting() bool { return m.booting }

// Controller is the running maintainer's controller (nil while booting). Read it; change
// it only through the Maintainer, or the requests it sends will not follow (and a clone
// sharing it would change too). Ask again after changing the maintainer: once it was
// cloned, its next change to the controller goes to a copy of its own.
func (m *Maintainer) Controller() *ops.Controller {
	if m.booting {
		return nil
	}
	return m.ctrl
}

// Recovery is what recovery decided (zero before it ran): its Decisions and Rejected.
func (m *Maintainer) Recovery() recovery.Result {
	if m.result == nil {
		return recovery.Result{}
	}
	return *m.result
}

// Answer returns node n's bootstrap answer, if it gave one to this maintainer.
func (m *Maintainer) Answer(n ops.NodeID) (protocol.BootstrapAnswer, bool) {
	a, ok := m.answers[n]
	return a, ok
}

// Deferred lists the DDL that arrived while booting, in order: what Recover replays.
func (m *Maintainer) Deferred() []DDL { return slices.Clone(m.late) }

// Metrics returns the maintainer's counters.
func (m *Maintainer) Metrics() Metrics { return m.metrics }

// Live reports whether node n is live for this maintainer.
func (m *Maintainer) Live(n ops.NodeID) bool { return m.isLive(n) }

// Tables lists the live tables, sorted.
func (m *Maintainer) Tables() []ops.TableID { return slices.Clone(m.tables) }

// Waiting lists the live nodes that have not answered the bootstrap, sorted.
func (m *Maintainer) Waiting() []ops.NodeID {
	var out []ops.NodeID
	for _, mb := range m.members {
		if _, ok := m.answers[mb.node]; !ok {
			out = append(out, mb.node)
		}
	}
	return out
}

func (m *Maintainer) askBootstrap(n ops.NodeID) {
	m.writeMember(n).asked = m.tick
	m.appendOut(Message{To: n, Request: protocol.Request{Changefeed: m.cfg.Changefeed, Epoch: m.cfg.Epoch, Kind: protocol.Bootstrap}})
}

func (m *Maintainer) logDebug(msg string, fields ...zap.Field) {
	if m.cfg.Logger != nil {
		if ce := m.cfg.Logger.Check(zap.DebugLevel, msg); ce != nil {
			ce.Write(fields...)
		}
	}
}

// sendOrder orders a batch of requests by span: table, then start key, the wider span
// first at equal starts (the spec's order over its ids), so the order of a batch does not
// depend on how the controller lists it.
func sendOrder(a, b ops.Message) int {
	x, y := a.Record.Span, b.Record.Span
	if x.Table != y.Table {
		return cmp.Compare(x.Table, y.Table)
	}
	if x.Start != y.Start {
		return cmp.Compare(x.Start, y.Start)
	}
	switch {
	case x.End == y.End:
		return 0
	case x.End == "":
		return -1
	case y.End == "":
		return 1
	}
	return -cmp.Compare(x.End, y.End)
}

// queue puts a batch of controller messages into the outbox, in send order, leaving out
// those to nodes that are not live (their streams are gone) and holding back those that
// would create a dispatcher over keys a stray may serve.
func (m *Maintainer) queue(batch []ops.Message) {
	slices.SortStableFunc(batch, sendOrder)
	for _, msg := range batch {
		if !m.isLive(msg.To) {
			continue
		}
		if m.strays != nil && m.holds(msg) {
			m.hold(msg)
			continue
		}
		m.appendOut(Message{To: msg.To, Request: m.request(msg)})
	}
}

// request wraps a controller message in the protocol's envelope, under this epoch.
func (m *Maintainer) request(msg ops.Message) protocol.Request {
	return protocol.Request{Changefeed: m.cfg.Changefeed, Epoch: m.cfg.Epoch, Kind: protocol.Kind(msg.Kind), Record: msg.Record}
}

func (m *Maintainer) keyOf(msg ops.Message) sentKey {
	return sentKey{to: msg.To, id: m.request(msg).Identity()}
}

// flush queues the requests an event made: first its one-shot requests (an orphan's
// Remove), then the request of every operator that started or whose request changed,
// each batch in send order. An operator whose request stayed what it was sends nothing.
// An event flushes after changing the controller, through writeCtrl: m owns it.
func (m *Maintainer) flush(oneShots []ops.Message) {
	m.queue(slices.Clone(oneShots))                 // nil, and free, for most events
	m.changed = m.ctrl.AppendChanged(m.changed[:0]) // m's own: flush follows a write to it
	if len(m.changed) == 0 {
		return
	}
	m.placing = true
	slices.Sort(m.changed)
	m.changed = slices.Compact(m.changed)
	batch := m.batch[:0]
	for _, id := range m.changed {
		msg, ok := m.ctrl.Request(id)
		if !ok {
			m.deleteSent(id)
			continue
		}
		k := m.keyOf(msg)
		if prev, had := m.sent.get(id); had && prev.key == k {
			continue
		}
		m.setSent(id, sent{key: k, tick: m.tick})
		batch = append(batch, msg)
	}
	m.queue(batch)
	m.batch = batch[:0]
}

// Ready returns the requests to send, in order. The slice is valid until Advance.
func (m *Maintainer) Ready() []Message {
	m.marked = len(m.out)
	return m.out[:m.marked:m.marked]
}

// HasReady reports whether there is anything to send.
func (m *Maintainer) HasReady() bool { return len(m.out) > 0 }

// Advance tells the maintainer the host sent what the last Ready returned.
func (m *Maintainer) Advance() {
	if m.marked == 0 {
		return
	}
	m.metrics.RequestsQueued += uint64(m.marked)
	if m.unshare(partOut) {
		m.out = slices.Clone(m.out[m.marked:]) // what was queued since Ready
	} else {
		k := copy(m.out, m.out[m.marked:])
		clear(m.out[k:])
		m.out = m.out[:k]
	}
	m.marked = 0
}
