package node

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/internal/seeded"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func init() {
	seeded.SetNodeBugs = func(n any, b seeded.NodeBugs) { n.(*Node).bugs = b }
}

// Config sets up a Node.
type Config struct {
	// Node is this node's name, as the maintainer addresses it.
	Node ops.NodeID
	// Changefeed is the changefeed whose dispatchers this node hosts.
	Changefeed ops.ChangefeedID
	// Owner is the maintainer epoch the node obeys at start; 0 until a bootstrap arrives.
	Owner ops.Epoch
	// Logger, if not nil, logs owner changes (info) and refused requests (debug), never per
	// status.
	Logger *zap.Logger
	// Trace, if not nil, is called after every local step the node takes, whoever asked
	// for it (the host's Working, Prepared and Closed, Apply, Tick's merge checks), and for
	// every status Tick re-reports (ActHeartbeat), with the node's state already changed:
	// what a host logs to have its run checked against the spec, one spec action per call.
	// Requests are the host's to trace: it calls Step. Nil costs nothing.
	Trace func(Action)
}

// Node is one dispatcher manager's protocol core. The zero value is not usable; call New.
type Node struct {
	cfg   *Config // never changed after New: shared with clones
	owner ops.Epoch
	bugs  seeded.NodeBugs

	disp slab[protocol.Dispatcher]
	// byTable lists the dispatchers of each table, for overlap checks, from the time the
	// node has as many dispatchers as a slab indexes by a map (slabScan) on; nil before:
	// a small node scans its dispatchers, and a model checker copies no map when it
	// creates or sweeps one.
	byTable map[ops.TableID][]ops.DispatcherID
	removes slab[ops.Record] // the remove journal
	merges  slab[ops.Record] // the merge journal

	out     outbox
	scratch []ops.DispatcherID

	// cow has the bit of each part of the node's storage that it may share with another
	// node (a clone of it, or the node it is a clone of): the node copies such a part
	// before it first writes it (own). Clone sets every bit in both nodes, atomically, as
	// several goroutines may clone one node at once; own, the node's writer, clears them.
	cow atomic.Uint32
}

// The parts of a node that Clone shares, as bits of Node.cow, and what writes each.
const (
	// partItems is disp.items: a dispatcher changed in place (write), a put or a del.
	partItems uint32 = 1 << iota
	// partIndex is disp's keys, free list and index: the put of a new dispatcher, a del.
	partIndex
	// partTables is byTable: add and drop.
	partTables
	// partRemoves is the remove journal: its put and del.
	partRemoves
	// partMerges is the merge journal: its put and del.
	partMerges
	// partOut is the outbox: what a step produces, Ready (which rebuilds its reports) and
	// Advance.
	partOut

	allParts = partItems | partIndex | partTables | partRemoves | partMerges | partOut
)

// New returns the core of a node with no dispatchers.
func New(cfg Config) (*Node, error) {
	if cfg.Node == "" || cfg.Changefeed == "" {
		return nil, fmt.Errorf("node: %w: need a node name and a changefeed", ErrInvalidDispatcher)
	}
	return &Node{cfg: &cfg, owner: cfg.Owner, disp: newSlab[protocol.Dispatcher](),
		removes: newSlab[ops.Record](), merges: newSlab[ops.Record]()}, nil
}

// Clone returns an independent copy of the node, pending Ready included: a model checker
// branches a state by cloning it. The copy shares the original's storage until either of
// them writes it: each copies a part of it (the dispatchers, their index, the lists by
// table, either journal, the pending Ready) before it first writes that part, so a clone
// costs a struct, and a change of it what the change touches. Changing either never
// shows in the other. The records of the journals are shared as they are: the node never
// changes a record's slices, which RemoveJournal, MergeJournal and Effect.Sources hand
// out read only. Cloning a node marks its storage shared, atomically, and changes nothing
// else: several goroutines may clone and read a node at once while nobody changes it.
// The logger is shared.
func (n *Node) Clone() *Node {
	if n.cow.Load() != allParts {
		n.cow.Store(allParts) // every cloner stores the same: no order between them matters
	}
	d := &Node{cfg: n.cfg, owner: n.owner, bugs: n.bugs, disp: n.disp, byTable: n.byTable, removes: n.removes, merges: n.merges,
		out: n.out}
	d.cow.Store(allParts)
	return d
}

// own makes the parts p of the node its own before it writes them: it copies those it
// shares with another node.
func (n *Node) own(p uint32) {
	if p &= n.cow.Load(); p != 0 {
		n.copyParts(p)
	}
}

// copyParts copies the parts p of the node and clears their bits.
func (n *Node) copyParts(p uint32) {
	if p&partIndex != 0 {
		n.disp.copyIndex()
	}
	if p&partItems != 0 {
		n.disp.copyItems()
	}
	if p&partTables != 0 {
		n.byTable = copyTables(n.byTable)
	}
	if p&partRemoves != 0 {
		n.removes.copyIndex()
		n.removes.copyItems()
	}
	if p&partMerges != 0 {
		n.merges.copyIndex()
		n.merges.copyItems()
	}
	if p&partOut != 0 {
		n.out = n.out.clone()
	}
	n.cow.And(^p)
}

// write returns dispatcher id for changing it in place, or nil. The pointer is valid
// until the next add or Clone.
func (n *Node) write(id ops.DispatcherID) *protocol.Dispatcher {
	n.own(partItems)
	return n.disp.get(id)
}

// writeRemoves returns the remove journal for a put (unjournal deletes).
func (n *Node) writeRemoves() *slab[ops.Record] {
	n.own(partRemoves)
	return &n.removes
}

// unjournal deletes id's record from journal j, which is part p of the node (partRemoves
// or partMerges). A journal the node shares is not copied whole to lose a record: the
// node takes a copy of the records it keeps.
func (n *Node) unjournal(p uint32, j *slab[ops.Record], id ops.DispatcherID) {
	if n.cow.Load()&p != 0 {
		*j = j.without(id)
		n.cow.And(^p)
		return
	}
	j.del(id)
}

// writeMerges returns the merge journal for a put (unjournal deletes).
func (n *Node) writeMerges() *slab[ops.Record] {
	n.own(partMerges)
	return &n.merges
}

// writeOut returns the outbox for Ready and Advance, and for report, effect and answer.
func (n *Node) writeOut() *outbox {
	n.own(partOut)
	return &n.out
}

// report, effect and answer add a status (under the owner epoch), an effect and a
// bootstrap answer to the pending Ready.
func (n *Node) report(s ops.Status) { n.writeOut().status(s, n.owner) }

func (n *Node) effect(e Effect) { n.writeOut().effect(e) }

func (n *Node) answer(a protocol.BootstrapAnswer) {
	o := n.writeOut()
	o.answers = append(o.answers, a)
}

// copyTables copies byTable: drop changes a table's list in place, and add appends to it.
func copyTables(m map[ops.TableID][]ops.DispatcherID) map[ops.TableID][]ops.DispatcherID {
	if m == nil {
		return nil
	}
	d := make(map[ops.TableID][]ops.DispatcherID, len(m))
	for t, ids := range m {
		d[t] = slices.Clone(ids)
	}
	return d
}

func cloneRecords(rs []ops.Record) []ops.Record {
	for i := range rs {
		rs[i] = rs[i].Clone()
	}
	return rs
}

// Name is the node's name.
func (n *Node) Name() ops.NodeID { return n.cfg.Node }

// Owner is the maintainer epoch the node obeys.
func (n *Node) Owner() ops.Epoch { return n.owner }

// Dispatcher returns dispatcher id as the node knows it.
func (n *Node) Dispatcher(id ops.DispatcherID) (protocol.Dispatcher, bool) {
	d := n.disp.get(id)
	if d == nil {
		return protocol.Dispatcher{}, false
	}
	return *d, true
}

// Len returns the number of dispatchers, remove journal entries and merge journal entries.
func (n *Node) Len() (dispatchers, removes, merges int) {
	return n.disp.len(), n.removes.len(), n.merges.len()
}

// Dispatchers returns every dispatcher, sorted by id.
func (n *Node) Dispatchers() []protocol.Dispatcher {
	out := n.disp.values()
	slices.SortFunc(out, func(a, b protocol.Dispatcher) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// EachDispatcher calls fn for every dispatcher, in no particular order: the cheap way to
// scan them when the order does not matter (a simulator checks an invariant over every
// dispatcher after every step).
func (n *Node) EachDispatcher(fn func(protocol.Dispatcher)) {
	n.disp.each(func(_ ops.DispatcherID, d *protocol.Dispatcher) { fn(*d) })
}

// EachDispatcherByID calls fn for every dispatcher, ordered by id as Dispatchers lists
// them, without copying them into a slice.
func (n *Node) EachDispatcherByID(fn func(protocol.Dispatcher)) {
	n.disp.eachSorted(func(d *protocol.Dispatcher) { fn(*d) })
}

// EachRemove calls fn with every record of the remove journal, in RemoveJournal's order,
// without copying them into a slice; fn must not change the records' slices (the
// journal's, shared with the node's clones).
func (n *Node) EachRemove(fn func(ops.Record)) {
	n.removes.eachSorted(func(r *ops.Record) { fn(*r) })
}

// EachMerge calls fn with every record of the merge journal, in MergeJournal's order, as
// EachRemove does.
func (n *Node) EachMerge(fn func(ops.Record)) {
	n.merges.eachSorted(func(r *ops.Record) { fn(*r) })
}

// RemoveJournal returns the remove journal's records, sorted by dispatcher id. Their
// slices are the journal's, shared with the node's clones: read only.
func (n *Node) RemoveJournal() []ops.Record { return records(&n.removes) }

// MergeJournal returns the merge journal's records, sorted by merged dispatcher id. Their
// slices are the journal's, shared with the node's clones: read only.
func (n *Node) MergeJournal() []ops.Record { return records(&n.merges) }

func records(s *slab[ops.Record]) []ops.Record {
	out := s.values()
	slices.SortFunc(out, func(a, b ops.Record) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Preload puts dispatchers the host already runs into the core, outside the protocol: a
// cluster's initial placement, or a host rebuilding its core. Each must have an id the
// node does not have, a valid span and a non-terminal state, and may not overlap a
// dispatcher that is not closing; the first that does not is refused with
// ErrInvalidDispatcher and nothing of it is added (those before it are).
func (n *Node) Preload(ds ...protocol.Dispatcher) error {
	for _, d := range ds {
		switch {
		case d.ID == "" || !d.Span.Valid() || !liveState(d.State):
			return fmt.Errorf("node %s: preload %q %s %s: %w", n.cfg.Node, d.ID, d.Span, d.State, ErrInvalidDispatcher)
		case n.disp.get(d.ID) != nil:
			return fmt.Errorf("node %s: preload %q: %w: the node has it", n.cfg.Node, d.ID, ErrInvalidDispatcher)
		case !d.Removing && n.occupied(d.Span):
			return fmt.Errorf("node %s: preload %q %s: %w: %w", n.cfg.Node, d.ID, d.Span, ErrInvalidDispatcher, ErrOverlap)
		}
		n.add(d)
	}
	return nil
}

// add registers a dispatcher.
func (n *Node) add(d protocol.Dispatcher) {
	n.own(partItems | partIndex | partTables)
	n.disp.put(d.ID, d)
	switch {
	case n.byTable != nil:
		n.byTable[d.Span.Table] = append(n.byTable[d.Span.Table], d.ID)
	case n.disp.index != nil: // the node is large from now on: list its dispatchers by table
		n.byTable = map[ops.TableID][]ops.DispatcherID{}
		n.disp.each(func(id ops.DispatcherID, d *protocol.Dispatcher) {
			n.byTable[d.Span.Table] = append(n.byTable[d.Span.Table], id)
		})
	}
}

// drop deletes a dispatcher and its remove journal entry.
func (n *Node) drop(id ops.DispatcherID, table ops.TableID) {
	n.own(partItems | partIndex | partTables)
	n.disp.del(id)
	if n.removes.get(id) != nil { // a shared journal is copied only if this changes it
		n.unjournal(partRemoves, &n.removes, id)
	}
	ids := n.byTable[table] // none in a small node
	if i := slices.Index(ids, id); i >= 0 {
		ids[i] = ids[len(ids)-1]
		ids[len(ids)-1] = ""
		n.byTable[table] = ids[:len(ids)-1] // kept when empty: the next Create reuses it
	}
}

// anyOfTable reports whether fn holds for a dispatcher of table t, calling it for them in
// no order until it does: through byTable in a large node, scanning all in a small one.
func (n *Node) anyOfTable(t ops.TableID, fn func(d *protocol.Dispatcher) bool) bool {
	if n.byTable != nil {
		for _, id := range n.byTable[t] {
			if fn(n.disp.get(id)) {
				return true
			}
		}
		return false
	}
	for i, k := range n.disp.keys {
		if k != "" && n.disp.items[i].Span.Table == t && fn(&n.disp.items[i]) {
			return true
		}
	}
	return false
}

// occupied reports whether a dispatcher that is not closing overlaps s: what a new
// dispatcher for s would share keys with.
func (n *Node) occupied(s ops.Span) bool {
	return n.anyOfTable(s.Table, func(d *protocol.Dispatcher) bool { return !d.Removing && d.Span.Overlaps(s) })
}

// Restore rebuilds an empty core from the state an answer describes: its dispatchers, its
// remove and merge journals, and its owner epoch (a host rebuilding its core from its own
// state; simulators putting a snapshot's state into nodes). Without changing anything it
// refuses another changefeed's answer (ErrWrongChangefeed) and, with ErrInvalidDispatcher,
// what no node could hold: a dispatcher without id, with an empty span or a terminal state,
// an id twice, two dispatchers that are not closing on one key (but a pre-commit merged
// dispatcher with a journaled merge and its waiting sources), a dispatcher waiting for a
// merge that no journal entry names it in, a remove journal entry for a dispatcher that is
// missing or not closing, an invalid journal record, or a node that already has
// dispatchers or journals.
func (n *Node) Restore(a protocol.BootstrapAnswer) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("node %s: restore: %w: "+format, append([]any{n.cfg.Node, ErrInvalidDispatcher}, args...)...)
	}
	if a.Changefeed != n.cfg.Changefeed {
		return fmt.Errorf("node %s: restore: %w: %q", n.cfg.Node, ErrWrongChangefeed, a.Changefeed)
	}
	if d, r, m := n.Len(); d != 0 || r != 0 || m != 0 {
		return bad("the node is not empty")
	}
	byID := make(map[ops.DispatcherID]protocol.Dispatcher, len(a.Dispatchers))
	for _, d := range a.Dispatchers {
		if d.ID == "" || !d.Span.Valid() || !liveState(d.State) {
			return bad("%q %s %s", d.ID, d.Span, d.State)
		}
		if _, dup := byID[d.ID]; dup {
			return bad("%q twice", d.ID)
		}
		byID[d.ID] = d
	}
	merges := map[ops.DispatcherID]ops.Record{}
	for _, r := range a.Merges {
		if err := r.Validate(); err != nil || r.Type != ops.TypeMerge {
			return bad("merge journal %q: %v", r.ID, err)
		}
		merges[r.ID] = r
	}
	for _, r := range a.Removes {
		d, ok := byID[r.ID]
		if err := r.Validate(); err != nil || !ok || !d.Removing {
			return bad("remove journal %q: not a closing dispatcher of the node (%v)", r.ID, err)
		}
	}
	// A dispatcher waits for a merge that is journaled: an abort sends it back to Working,
	// and the journal is not cleaned up while a source waits.
	for _, d := range a.Dispatchers {
		if d.State == ops.WaitingMerge && !slices.ContainsFunc(a.Merges, func(r ops.Record) bool { return slices.Contains(r.Sources, d.ID) }) {
			return bad("%q waits for a merge the node has not journaled", d.ID)
		}
	}
	// Two dispatchers that are not closing may share keys only as a pre-commit merged
	// dispatcher, journaled, and one of its waiting sources.
	mergeOf := func(target, src protocol.Dispatcher) bool {
		r, ok := merges[target.ID]
		return ok && (target.State == ops.Preparing || target.State == ops.MergeReady) &&
			src.State == ops.WaitingMerge && slices.Contains(r.Sources, src.ID)
	}
	for i, x := range a.Dispatchers {
		for _, y := range a.Dispatchers[i+1:] {
			if !x.Removing && !y.Removing && x.Span.Overlaps(y.Span) && !mergeOf(x, y) && !mergeOf(y, x) {
				return bad("%q %s and %q %s overlap", x.ID, x.Span, y.ID, y.Span)
			}
		}
	}
	for _, d := range a.Dispatchers {
		n.add(d)
	}
	for _, r := range a.Removes {
		n.writeRemoves().put(r.ID, r.Clone())
	}
	for _, r := range a.Merges {
		n.writeMerges().put(r.ID, r.Clone())
	}
	n.owner = max(n.owner, a.Epoch)
	return nil
}

// liveState reports whether s is a state a dispatcher can hold: one before Stopped and
// Removed, the terminal states, which come last (no state lies beyond them).
func liveState(s ops.ComponentState) bool { return s < ops.Stopped }
