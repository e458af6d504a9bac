package operators

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/fsm"
)

// MessageKind is what a message asks a dispatcher manager to do.
type MessageKind uint8

// The request kinds a maintainer sends (domain.md 0).
const (
	Create MessageKind = iota
	Remove
	Merge
)

var kindNames = [...]string{"Create", "Remove", "Merge"}

// String returns the kind's name.
func (k MessageKind) String() string { return enumName(kindNames[:], k, "MessageKind") }

// ParseMessageKind maps a name back to its kind.
func ParseMessageKind(name string) (MessageKind, error) {
	return parseEnum[MessageKind](kindNames[:], name, "message kind", ErrUnknownMessageKind)
}

// Message is a request to one dispatcher manager. It carries the sending operator's whole
// record, which the dispatcher manager journals; an orphan cleanup has a remove record
// that no operator owns.
type Message struct {
	To     NodeID
	Kind   MessageKind
	Record Record
}

// Status is one dispatcher's state as its node reports it.
type Status struct {
	ID         DispatcherID
	State      ComponentState
	Checkpoint uint64
}

// Config sets up a Controller.
type Config struct {
	Changefeed ChangefeedID
	// Epoch is the maintainer's epoch, stamped on every operator it creates.
	Epoch Epoch
	// Observer, if not nil, sees every operator transition.
	Observer fsm.Observer
	// Logger, if not nil, logs operators added, finished and refused (never per status).
	Logger *zap.Logger
	// Capacity, if set, sizes the registry's index for that many tasks up front (recovery
	// knows), so adding them never rehashes it. Tasks are stored in pages of 1024 whatever
	// it says.
	Capacity int
	// TaskDeleted, if not nil, hears of every task a finished remove operator with
	// HookDelete deleted. Recovery uses it to repair a table's coverage after a restored
	// standalone remove (domain.md 3.3, C10).
	TaskDeleted TaskHook
}

// TaskHook is a controller's Config.TaskDeleted. It is part of the controller's state: it
// is handed the controller it serves, and Controller.Clone clones it.
type TaskHook interface {
	// TaskDeleted is called after a finished remove operator with HookDelete deleted t
	// (as it was) from c. It may add tasks to c.
	TaskDeleted(c *Controller, t Task)
	// Clone returns a hook with its own copy of whatever state it keeps.
	Clone() TaskHook
}

// Controller is a maintainer's operator controller (domain.md 0.2): the task registry and
// at most one operator per dispatcher id. It is a deterministic value: no goroutines,
// clocks or I/O; the caller feeds it events and sends what Pending returns.
type Controller struct {
	cfg     Config
	tasks   taskTable
	ops     map[DispatcherID]*Operator
	splitID uint64
	sink    uint64         // keeps AddTasks' look-ahead loads
	changed []DispatcherID // operators started, moved or finished since AppendChanged
	// hints remembers, per node, the slot of the task each position of that node's last
	// heartbeat named: a node lists its dispatchers in the same order every time, so the
	// next heartbeat finds its tasks without hashing (HandleStatuses). A cache only: every
	// hint is checked against the status's id.
	hints map[NodeID][]uint32
}

// NewController returns an empty controller.
func NewController(cfg Config) *Controller {
	return &Controller{cfg: cfg, tasks: newTaskTable(cfg.Capacity), ops: make(map[DispatcherID]*Operator, cfg.Capacity/8)}
}

// Clone returns an independent copy of the controller: its tasks, its operators and its
// TaskDeleted hook (cloned). The Observer and Logger are shared; HandleStatuses' hints, a
// cache, are not copied. An exhaustive search
// clones a state's controller for each successor instead of replaying the path to it.
func (c *Controller) Clone() *Controller {
	d := &Controller{cfg: c.cfg, tasks: c.tasks.clone(), ops: make(map[DispatcherID]*Operator, len(c.ops)),
		splitID: c.splitID, sink: c.sink, changed: slices.Clone(c.changed)}
	if c.cfg.TaskDeleted != nil {
		d.cfg.TaskDeleted = c.cfg.TaskDeleted.Clone()
	}
	for id, o := range c.ops {
		d.ops[id] = o.clone()
	}
	return d
}

// Changefeed returns the controller's changefeed.
func (c *Controller) Changefeed() ChangefeedID { return c.cfg.Changefeed }

// Epoch returns the controller's maintainer epoch.
func (c *Controller) Epoch() Epoch { return c.cfg.Epoch }

// Len returns the number of tasks and of operators.
func (c *Controller) Len() (tasks, operators int) { return c.tasks.n, len(c.ops) }

// Task returns the task with id.
func (c *Controller) Task(id DispatcherID) (Task, bool) {
	t := c.tasks.get(id)
	if t == nil {
		return Task{}, false
	}
	return *t, true
}

// Tasks returns every task, ordered by id.
func (c *Controller) Tasks() []Task {
	out := make([]Task, 0, c.tasks.n)
	c.tasks.each(func(t *Task) { out = append(out, *t) })
	slices.SortFunc(out, func(a, b Task) int { return cmpID(a.ID, b.ID) })
	return out
}

// EachTask calls fn for every task, in no particular order: the cheap way to scan a large
// registry when the order does not matter.
func (c *Controller) EachTask(fn func(Task)) {
	c.tasks.each(func(t *Task) { fn(*t) })
}

// Operator returns the record of the operator with id.
func (c *Controller) Operator(id DispatcherID) (Record, bool) {
	o, ok := c.ops[id]
	if !ok {
		return Record{}, false
	}
	return o.Record(c.cfg.Changefeed, c.cfg.Epoch), true
}

// Operators returns the records of every operator, ordered by id.
func (c *Controller) Operators() []Record {
	sorted := c.sortedOps()
	out := make([]Record, 0, len(sorted))
	for _, o := range sorted {
		out = append(out, o.Record(c.cfg.Changefeed, c.cfg.Epoch))
	}
	return out
}

func cmpID(a, b DispatcherID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *Controller) opIDs() []DispatcherID {
	sorted := c.sortedOps()
	ids := make([]DispatcherID, len(sorted))
	for i, o := range sorted {
		ids[i] = o.id
	}
	return ids
}

// sortedOps returns every operator, ordered by id. It sorts them by the ids' first eight
// bytes, which compare as integers, and compares whole ids only where those are equal:
// recovery's first Pending sorts a hundred thousand operators or more.
func (c *Controller) sortedOps() []*Operator {
	type keyed struct {
		prefix uint64
		o      *Operator
	}
	keys := make([]keyed, 0, len(c.ops))
	for id, o := range c.ops {
		keys = append(keys, keyed{id.Prefix(), o})
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return cmpID(a.o.id, b.o.id)
	})
	out := make([]*Operator, len(keys))
	for i, k := range keys {
		out[i] = k.o
	}
	return out
}

// AddTask inserts a task, for a scheduler placing a new table or for recovery.
func (c *Controller) AddTask(t Task) error {
	if err := checkTask(t); err != nil {
		return err
	}
	if _, ok := c.tasks.insert(t); !ok {
		return fmt.Errorf("operators: add task %s: %w", t.ID, ErrTaskExists)
	}
	c.markIfOp(t.ID)
	return nil
}

// markIfOp records that a task just added has an operator, when its id already had one
// (a remove that outlived its task).
func (c *Controller) markIfOp(id DispatcherID) {
	if len(c.ops) > 0 {
		if _, ok := c.ops[id]; ok {
			c.tasks.markOp(id, true)
		}
	}
}

// AddTasks adds all of ts or none. When calling AddTask on each, in order, would add them
// all, it adds them and returns nil; otherwise it adds none and returns, by position, the
// error AddTask would have given each task it refused (nil for the others; a task after
// the first refusal is judged as if the ones before it had been added). It hashes a few
// tasks ahead and touches their places in the registry's index together, so their cache
// misses overlap: at a million tasks (recovery) that is several times faster than one
// AddTask each, whose misses come one after another.
func (c *Controller) AddTasks(ts []Task) []error {
	const ahead = 16
	var errs []error
	var hs [ahead]uint64
	for lo := 0; lo < len(ts); lo += ahead {
		batch := ts[lo:min(lo+ahead, len(ts))]
		for i := range batch {
			hs[i] = c.tasks.hash(batch[i].ID)
		}
		c.sink ^= c.tasks.touch(hs[:len(batch)])
		for i := range batch {
			err := checkTask(batch[i])
			if err == nil {
				if _, ok := c.tasks.insertHashed(batch[i], hs[i]); !ok {
					err = fmt.Errorf("operators: add task %s: %w", batch[i].ID, ErrTaskExists)
				}
			}
			if err != nil {
				if errs == nil {
					errs = make([]error, len(ts))
				}
				errs[lo+i] = err
			}
		}
	}
	if errs != nil {
		for i, err := range errs {
			if err == nil {
				c.tasks.remove(ts[i].ID) // added above, so its own: no operator needs it yet
			}
		}
		return errs
	}
	for i := range ts {
		c.markIfOp(ts[i].ID)
	}
	return nil
}

// checkTask validates a task AddTask is asked to add.
func checkTask(t Task) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("operators: add task: %w: empty id", ErrInvalidRecord)
	case !t.Span.Valid():
		return fmt.Errorf("operators: add task %s: %w: %s", t.ID, ErrInvalidSpan, t.Span)
	case (t.Sched == Absent) != (t.Node == ""):
		return fmt.Errorf("operators: add task %s: %w: %s with node %q", t.ID, ErrTaskState, t.Sched, t.Node)
	}
	return nil
}

// DeleteTask deletes a task that has no operator.
func (c *Controller) DeleteTask(id DispatcherID) error {
	if _, ok := c.ops[id]; ok {
		return fmt.Errorf("operators: delete task %s: %w", id, ErrOperatorExists)
	}
	if _, ok := c.tasks.remove(id); !ok {
		return fmt.Errorf("operators: delete task %s: %w", id, ErrUnknownTask)
	}
	return nil
}

// admit checks the common admission rules: a task exists in one of the wanted states and
// has no operator.
func (c *Controller) admit(typ Type, id DispatcherID, want ...Sched) (*Task, error) {
	if _, ok := c.ops[id]; ok {
		return nil, c.refused(typ, id, ErrOperatorExists)
	}
	t := c.tasks.get(id)
	if t == nil {
		return nil, c.refused(typ, id, ErrUnknownTask)
	}
	if !slices.Contains(want, t.Sched) {
		return nil, c.refused(typ, id, fmt.Errorf("%w: %s", ErrTaskState, t.Sched))
	}
	return t, nil
}

func (c *Controller) refused(typ Type, id DispatcherID, err error) error {
	e := refuse(typ, id, err)
	if c.cfg.Logger != nil {
		c.cfg.Logger.Info("operator refused", zap.String("type", typ.String()), zap.String("id", string(id)), zap.Error(err))
	}
	return e
}

func (c *Controller) start(o *Operator) {
	c.ops[o.id] = o
	c.tasks.markOp(o.id, true)
	c.changed = append(c.changed, o.id)
	if c.cfg.Logger != nil {
		c.cfg.Logger.Debug("operator added", zap.String("type", o.typ.String()), zap.String("id", string(o.id)),
			zap.String("state", o.StateName()))
	}
}

// AddAdd schedules an Absent task onto dest (domain.md 1.1: Start binds it, Scheduling).
func (c *Controller) AddAdd(id DispatcherID, dest NodeID) error {
	if dest == "" {
		return c.refused(TypeAdd, id, fmt.Errorf("%w: empty destination", ErrInvalidRecord))
	}
	t, err := c.admit(TypeAdd, id, Absent)
	if err != nil {
		return err
	}
	t.Sched, t.Node = Scheduling, dest
	c.start(&Operator{id: id, typ: TypeAdd, state: AddRunning, span: t.Span, dest: dest, checkpoint: t.Checkpoint})
	return nil
}

// AddRemove removes a bound task's dispatcher from its node; on success the task is deleted
// (a standalone remove, domain.md 1.2 with the delete hook).
func (c *Controller) AddRemove(id DispatcherID) error {
	t, err := c.admit(TypeRemove, id, Scheduling, Replicating)
	if err != nil {
		return err
	}
	c.start(&Operator{id: id, typ: TypeRemove, state: RemoveRunning, hook: HookDelete, span: t.Span, origin: t.Node, checkpoint: t.Checkpoint})
	return nil
}

// AddMove moves a Replicating task to dest (domain.md 1.3). A move onto the node the task
// is already on finishes at once.
func (c *Controller) AddMove(id DispatcherID, dest NodeID) error {
	if dest == "" {
		return c.refused(TypeMove, id, fmt.Errorf("%w: empty destination", ErrInvalidRecord))
	}
	t, err := c.admit(TypeMove, id, Replicating)
	if err != nil {
		return err
	}
	o := &Operator{id: id, typ: TypeMove, state: MoveRemoveOrigin, span: t.Span, origin: t.Node, dest: dest, checkpoint: t.Checkpoint}
	if t.Node == dest {
		c.start(o)
		c.fire(o, MoveSameNode)
		return nil
	}
	t.Sched = Scheduling
	c.start(o)
	return nil
}

// AddSplit splits a Replicating task into spans, which must tile it in key order
// (ErrSplitSpans). When targets has one node per span the new tasks are added there;
// otherwise (nil, or not one per span) they are left Absent for a scheduler (domain.md
// 1.4).
func (c *Controller) AddSplit(id DispatcherID, spans []Span, targets []NodeID) error {
	t, err := c.admit(TypeSplit, id, Replicating)
	if err != nil {
		return err
	}
	if err := tiles(t.Span, spans); err != nil {
		return c.refused(TypeSplit, id, err)
	}
	if len(targets) != len(spans) || slices.Contains(targets, "") {
		targets = nil
	}
	t.Sched = Scheduling
	c.start(&Operator{id: id, typ: TypeSplit, state: SplitRunning, span: t.Span, origin: t.Node, checkpoint: t.Checkpoint,
		extra: &extra{splitSpans: slices.Clone(spans), splitTargets: slices.Clone(targets)}})
	return nil
}

// AddMerge merges two or more adjacent Replicating tasks of one table on one node into a new
// task mergedID (domain.md 1.5): an occupy operator reserves each source, and the merged
// task starts Scheduling on the sources' node with the lowest source checkpoint.
func (c *Controller) AddMerge(sources []DispatcherID, mergedID DispatcherID) error {
	if _, ok := c.ops[mergedID]; ok {
		return c.refused(TypeMerge, mergedID, ErrOperatorExists)
	}
	if c.tasks.get(mergedID) != nil {
		return c.refused(TypeMerge, mergedID, ErrTaskExists)
	}
	if len(sources) < 2 {
		return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %d sources", ErrMergeSources, len(sources)))
	}
	tasks := make([]*Task, 0, len(sources))
	for _, s := range sources {
		t, err := c.admit(TypeMerge, s, Replicating)
		if err != nil {
			return c.refused(TypeMerge, mergedID, fmt.Errorf("source %s: %w", s, err))
		}
		if slices.Contains(tasks, t) {
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s listed twice", ErrMergeSources, s))
		}
		tasks = append(tasks, t)
	}
	slices.SortFunc(tasks, func(a, b *Task) int { return CompareSpans(a.Span, b.Span) })
	ckpt := tasks[0].Checkpoint
	for i, t := range tasks[1:] {
		prev := tasks[i]
		switch {
		case t.Span.Table != prev.Span.Table:
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s and %s are of different tables", ErrMergeSources, prev.ID, t.ID))
		case t.Node != prev.Node:
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s on %s, %s on %s", ErrMergeSources, prev.ID, prev.Node, t.ID, t.Node))
		case !prev.Span.Adjacent(t.Span):
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s %s and %s %s are not adjacent", ErrMergeSources, prev.ID, prev.Span, t.ID, t.Span))
		}
		ckpt = min(ckpt, t.Checkpoint)
	}
	origin := tasks[0].Node
	merged := Span{Table: tasks[0].Span.Table, Start: tasks[0].Span.Start, End: tasks[len(tasks)-1].Span.End}
	ids := make([]DispatcherID, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
		t.Sched = Scheduling
		c.start(&Operator{id: t.ID, typ: TypeOccupy, state: OccupyHolding, span: t.Span, origin: origin, checkpoint: t.Checkpoint})
	}
	c.tasks.insert(Task{ID: mergedID, Span: merged, Sched: Scheduling, Node: origin, Checkpoint: ckpt})
	c.start(&Operator{id: mergedID, typ: TypeMerge, state: MergeRunning, span: merged, origin: origin,
		checkpoint: ckpt, extra: &extra{sources: ids}})
	return nil
}

// Restore inserts an operator exactly as a record describes it, for recovery after a
// failover: no Start effect is applied again, the tasks it needs must already be in the
// registry (recovery puts them there in the states it derived), and the operator is
// re-stamped with this controller's epoch so its resent requests pass the new fence. A
// terminal record is finished at once.
func (c *Controller) Restore(r Record) error {
	if r.Changefeed != c.cfg.Changefeed {
		return c.refused(r.Type, r.ID, fmt.Errorf("%w: %q (want %q)", ErrWrongChangefeed, r.Changefeed, c.cfg.Changefeed))
	}
	o, err := fromRecord(r)
	if err != nil {
		return c.refused(r.Type, r.ID, err)
	}
	if _, ok := c.ops[r.ID]; ok {
		return c.refused(r.Type, r.ID, ErrOperatorExists)
	}
	if c.tasks.get(r.ID) == nil && r.Type != TypeRemove {
		return c.refused(r.Type, r.ID, ErrUnknownTask)
	}
	c.start(o)
	if o.Done() {
		c.finish(o)
	}
	return nil
}

// fire fires t on o, applies the effect of the state it entered, and finishes o if that
// state is terminal. Events that mean nothing to o are not fired.
func (c *Controller) fire(o *Operator, t fsm.Trigger) {
	if t == noTrigger {
		return
	}
	if next, ok := defs[o.typ].Next(o.state, t); ok && next == o.state {
		return // ignored in this state (an origin still Working, say): nothing fires
	}
	tr, err := defs[o.typ].Fire(&o.state, t, string(o.id), c.cfg.Observer)
	if err != nil {
		// Every trigger the mapping produces is permitted or ignored in every non-terminal
		// state (TestEveryTriggerHandled); a terminal operator is never kept.
		return
	}
	if tr.From == tr.To {
		return
	}
	c.changed = append(c.changed, o.id)
	if o.typ == TypeMove && o.state == MoveAddDest {
		// domain.md 1.3: the origin is gone; bind the task to dest before the Create.
		if t := c.tasks.get(o.id); t != nil {
			t.Sched, t.Node = Scheduling, o.dest
		}
	}
	if o.Done() {
		c.finish(o)
	}
}

// HandleStatus feeds one status report from node from. A status for a dispatcher with an
// operator goes to that operator (merge sources to their occupy operators, the merged id to
// the merge). Without an operator the controller reconciles as domain.md 3.6 says, and
// returns the one-shot messages that needs (an orphan's Remove).
func (c *Controller) HandleStatus(from NodeID, s Status) []Message {
	if o, ok := c.ops[s.ID]; ok {
		c.statusForOp(o, from, s)
		return nil
	}
	return c.statusForTask(from, s, c.tasks.get(s.ID))
}

// hintedBatch is the smallest batch of statuses HandleStatuses keeps hints for: a
// heartbeat, not a status or two pushed when a dispatcher changed state.
const hintedBatch = 32

// HandleStatuses feeds statuses from node from, in order, exactly as HandleStatus one at a
// time would; after each status that changed an operator (AppendChanged has more to say)
// or asked for one-shot messages it calls after, if not nil, with the status's index and
// those messages. A heartbeat (a batch of hintedBatch statuses or more) finds its tasks
// by where the node's last heartbeat found them, checked against the ids, and by hash
// only where that misses: a million statuses that change nothing cost a few tens of
// milliseconds, where hashing each id costs several times that in cache misses.
func (c *Controller) HandleStatuses(from NodeID, ss []Status, after func(i int, msgs []Message)) {
	var hints []uint32
	if len(ss) >= hintedBatch {
		if c.hints == nil {
			c.hints = map[NodeID][]uint32{}
		}
		hints = c.hints[from]
		if len(hints) < len(ss) {
			hints = append(hints, make([]uint32, len(ss)-len(hints))...)
			c.hints[from] = hints
		}
	}
	for i, s := range ss {
		var slot uint32
		ok := false
		if hints != nil && hints[i] != 0 {
			slot = hints[i] - 1
			ok = slot < c.tasks.next && c.tasks.at(slot).ID == s.ID
		}
		if !ok {
			slot, ok = c.tasks.lookup(s.ID, c.tasks.hash(s.ID))
			if hints != nil {
				hints[i] = 0
				if ok {
					hints[i] = slot + 1
				}
			}
		}
		changed := len(c.changed)
		var msgs []Message
		var t *Task
		if ok {
			t = c.tasks.at(slot)
		}
		var o *Operator
		if t == nil || c.tasks.opAt(slot) {
			o = c.ops[s.ID] // a task without its mark has no operator: no lookup
		}
		if o != nil {
			c.statusForOp(o, from, s)
		} else {
			msgs = c.statusForTask(from, s, t)
		}
		if (len(c.changed) > changed || len(msgs) > 0) && after != nil {
			after(i, msgs)
		}
	}
}

// statusForOp: operator o checks a status (domain.md section 1, the Check rows).
func (c *Controller) statusForOp(o *Operator, from NodeID, s Status) {
	if s.Checkpoint > o.checkpoint {
		o.checkpoint = s.Checkpoint // what a finished operator's task starts from
	}
	c.fire(o, o.statusTrigger(from, s.State))
}

// statusForTask reconciles a status for a dispatcher no operator owns, with its task t
// (nil: none) as domain.md 3.6 says.
func (c *Controller) statusForTask(from NodeID, s Status, t *Task) []Message {
	if t == nil {
		if s.State == Working {
			// An orphan: no task, no operator. Remove it (domain.md 3.6, L4).
			return []Message{{To: from, Kind: Remove, Record: Record{Changefeed: c.cfg.Changefeed, ID: s.ID,
				Type: TypeRemove, State: "Running", Epoch: c.cfg.Epoch, Span: Span{}, Origin: from}}}
		}
		return nil
	}
	if t.Node != from {
		return nil // G1: a report from a node the task is not bound to
	}
	if s.Checkpoint > t.Checkpoint {
		t.Checkpoint = s.Checkpoint
	}
	if s.State.Terminal() {
		if c.coveredByMerged(t) {
			c.tasks.remove(t.ID) // a late merge source (C8)
		} else {
			t.Sched, t.Node = Absent, "" // the dispatcher stopped although the task wants it
		}
	}
	return nil
}

// coveredByMerged reports whether another Replicating task of the same table covers t.
func (c *Controller) coveredByMerged(t *Task) bool {
	covered := false
	c.tasks.each(func(o *Task) {
		covered = covered || o.ID != t.ID && o.Sched == Replicating && o.Span.Contains(t.Span)
	})
	return covered
}

// HandleNodeRemoved handles the death of node n (domain.md 0.2): its tasks without an
// operator become Absent, then every operator, in id order, hears of it.
func (c *Controller) HandleNodeRemoved(n NodeID) {
	c.tasks.each(func(t *Task) {
		if t.Node == n {
			if _, ok := c.ops[t.ID]; !ok {
				t.Sched, t.Node = Absent, ""
			}
		}
	})
	for _, id := range c.opIDs() {
		if o, ok := c.ops[id]; ok {
			c.fire(o, o.nodeLostTrigger(n))
		}
	}
}

// HandleTableDropped applies a DROP TABLE (domain.md 0.2): every operator on the table's
// tasks is cancelled, every task bound to a node gets a remove operator (no hook), and
// every task of the table is deleted.
func (c *Controller) HandleTableDropped(table TableID) {
	type bound struct {
		id   DispatcherID
		node NodeID
		span Span
	}
	var victims []bound
	var all []DispatcherID
	c.tasks.each(func(t *Task) {
		if t.Span.Table == table {
			all = append(all, t.ID)
			if t.Node != "" {
				victims = append(victims, bound{t.ID, t.Node, t.Span})
			}
		}
	})
	slices.Sort(all)
	slices.SortFunc(victims, func(a, b bound) int { return cmpID(a.id, b.id) })
	for _, id := range all {
		if o, ok := c.ops[id]; ok {
			c.fire(o, taskRemovedTrigger[o.typ])
		}
	}
	for _, id := range all {
		c.tasks.remove(id)
	}
	for _, v := range victims {
		c.start(&Operator{id: v.id, typ: TypeRemove, state: RemoveRunning, hook: HookNone, span: v.span, origin: v.node})
	}
}

// AppendChanged appends to dst the ids of the operators started, moved to another state or
// finished since the last call, in the order that happened (an id may repeat), and forgets
// them. A maintainer driver compares each one's current request with what it last sent,
// so it sends exactly what is new without listing every operator (Pending) after every
// event.
func (c *Controller) AppendChanged(dst []DispatcherID) []DispatcherID {
	dst = append(dst, c.changed...)
	c.changed = c.changed[:0]
	return dst
}

// Request returns the request operator id wants delivered now, if it has one: what
// Pending lists for it.
func (c *Controller) Request(id DispatcherID) (Message, bool) {
	o, ok := c.ops[id]
	if !ok {
		return Message{}, false
	}
	to, kind, ok := o.message()
	if !ok {
		return Message{}, false
	}
	return Message{To: to, Kind: kind, Record: o.Record(c.cfg.Changefeed, c.cfg.Epoch)}, true
}

// Pending returns the request every unfinished operator wants delivered now, ordered by
// operator id. The caller decides when to resend; the operators keep asking until they hear
// back.
func (c *Controller) Pending() []Message {
	sorted := c.sortedOps()
	out := make([]Message, 0, len(sorted))
	for _, o := range sorted {
		if to, kind, ok := o.message(); ok {
			out = append(out, Message{To: to, Kind: kind, Record: o.Record(c.cfg.Changefeed, c.cfg.Epoch)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// finish applies a terminal operator's PostFinish effect exactly once and deletes it.
func (c *Controller) finish(o *Operator) {
	if c.ops[o.id] != o {
		return // already finished or replaced
	}
	delete(c.ops, o.id)
	c.tasks.markOp(o.id, false)
	c.changed = append(c.changed, o.id)
	task := c.tasks.get(o.id) // valid until its task is deleted
	if task != nil && o.checkpoint > task.Checkpoint {
		task.Checkpoint = o.checkpoint // the highest checkpoint the operator heard of
	}
	markAbsent := func(t *Task) {
		if t != nil {
			t.Sched, t.Node = Absent, ""
		}
	}
	markReplicating := func(t *Task) {
		if t != nil {
			t.Sched = Replicating
		}
	}
	switch o.typ {
	case TypeAdd:
		if o.state == AddDoneOK {
			markReplicating(task)
		} else {
			markAbsent(task)
		}
	case TypeRemove:
		if o.state == RemoveDone {
			switch o.hook {
			case HookMarkAbsent:
				markAbsent(task)
			case HookDelete:
				if old, ok := c.tasks.remove(o.id); ok && c.cfg.TaskDeleted != nil {
					c.cfg.TaskDeleted.TaskDeleted(c, old)
				}
			}
		}
	case TypeMove:
		switch o.state {
		case MoveDoneSuccess, MoveCancelled:
			markReplicating(task)
		case MoveAborted:
			markAbsent(task)
		}
	case TypeSplit:
		if o.state == SplitDone {
			c.replaceSplit(o, task)
		} else {
			markAbsent(task)
		}
	case TypeMerge:
		c.finishMerge(o, task)
	case TypeOccupy:
		if o.state == OccupyLost {
			markAbsent(task)
		}
	}
	if c.cfg.Logger != nil {
		c.cfg.Logger.Debug("operator finished", zap.String("type", o.typ.String()), zap.String("id", string(o.id)),
			zap.String("state", o.StateName()))
	}
}

// replaceSplit is a finished split's PostFinish: the original task is replaced by one task
// per split span, with fresh ids, at the original checkpoint (or the higher one the origin
// reported). With a target per span they are added there, else left Absent.
func (c *Controller) replaceSplit(o *Operator, task *Task) {
	if task == nil {
		return
	}
	ckpt := max(task.Checkpoint, o.checkpoint)
	c.tasks.remove(o.id)
	aligned := len(o.extra.splitTargets) == len(o.extra.splitSpans)
	for i, s := range o.extra.splitSpans {
		c.splitID++
		id := DispatcherID(string(o.id) + "." + strconv.FormatUint(uint64(c.cfg.Epoch), 10) + "." + strconv.FormatUint(c.splitID, 10))
		c.tasks.insert(Task{ID: id, Span: s, Sched: Absent, Checkpoint: ckpt})
		if aligned {
			_ = c.AddAdd(id, o.extra.splitTargets[i]) // a fresh id has neither task conflict nor operator
		}
	}
}

// finishMerge is a merge's PostFinish (domain.md 1.5); occupy operators are released last
// (PR #4543) so a late source Stopped never meets a source task without an operator.
func (c *Controller) finishMerge(o *Operator, merged *Task) {
	for _, s := range o.extra.sources {
		t := c.tasks.get(s)
		switch o.state {
		case MergeDoneOK:
			c.tasks.remove(s)
		case MergeAbortedNode:
			if t != nil {
				t.Sched, t.Node = Absent, ""
			}
		case MergeAbortedDDL:
			if t != nil {
				t.Sched = Replicating
			}
		}
	}
	if o.state == MergeDoneOK {
		if merged != nil {
			merged.Sched = Replicating
		}
	} else {
		c.tasks.remove(o.id)
	}
	for _, s := range o.extra.sources {
		if occ, ok := c.ops[s]; ok && occ.typ == TypeOccupy {
			c.fire(occ, OccupyRelease)
		}
	}
}
