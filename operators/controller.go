package operators

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/fsm"
)

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
	// lookups counts the statuses of HandleStatuses found by hash, not by hint.
	lookups uint64
	// gen marks the operators this controller may change in place: those whose gen
	// equals it (writeOp). Clone gives the original and the copy new ones, so both copy an
	// operator they shared before they change it.
	gen atomic.Uint64
}

// gens numbers controller generations, process-wide.
var gens atomic.Uint64

// NewController returns an empty controller.
func NewController(cfg Config) *Controller {
	c := &Controller{cfg: cfg, tasks: newTaskTable(cfg.Capacity), ops: map[DispatcherID]*Operator{}}
	c.gen.Store(gens.Add(1))
	return c
}

// Clone returns an independent copy of the controller: its tasks, its operators and its
// TaskDeleted hook (cloned). The Observer and Logger are shared; HandleStatuses' hints, a
// cache, are not copied. An exhaustive search clones a state's controller for each
// successor instead of replaying the path to it. The operators themselves are shared
// until either controller changes one (writeOp), which copies it first: most steps
// change one operator or none. Clone changes nothing that c's readers see, so several
// goroutines may clone c at once while nobody changes it.
func (c *Controller) Clone() *Controller {
	d := &Controller{cfg: c.cfg, tasks: c.tasks.clone(), ops: maps.Clone(c.ops),
		splitID: c.splitID, sink: c.sink, changed: slices.Clone(c.changed)}
	if c.cfg.TaskDeleted != nil {
		d.cfg.TaskDeleted = c.cfg.TaskDeleted.Clone()
	}
	d.gen.Store(gens.Add(1))
	c.gen.Store(gens.Add(1)) // c's operators are d's too now: c copies them as well
	return d
}

// writeOp returns operator o to change in place: o itself if it is c's own, else a copy
// of it that replaces it in c.ops. A copy shares o's extra, which nothing changes.
func (c *Controller) writeOp(o *Operator) *Operator {
	g := c.gen.Load()
	if o.gen == g {
		return o
	}
	d := *o
	d.gen = g
	c.ops[o.id] = &d
	return &d
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
	sorted := c.sortedOps(nil)
	out := make([]Record, 0, len(sorted))
	for _, k := range sorted {
		out = append(out, k.o.Record(c.cfg.Changefeed, c.cfg.Epoch))
	}
	return out
}

// EachOperator calls fn with the record of every operator, ordered by id, as Operators
// lists them but without copying them: a record's slices (SplitSpans, SplitTargets,
// Sources) are the operator's own, so they are read only and valid only while the
// controller does not change, and fn must not change the controller. For a reader of
// every state of a search, which allocates nothing here for a few operators.
func (c *Controller) EachOperator(fn func(r Record)) {
	var buf [smallOps]keyedOp
	for _, k := range c.sortedOps(buf[:0]) {
		fn(k.o.view(c.cfg.Changefeed, c.cfg.Epoch))
	}
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
	sorted := c.sortedOps(nil)
	ids := make([]DispatcherID, len(sorted))
	for i, k := range sorted {
		ids[i] = k.o.id
	}
	return ids
}

// sortedOps appends every operator to buf, ordered by id, and returns the extended
// buffer. It sorts them by the ids' first eight bytes, which compare as integers, and
// compares whole ids only where those are equal: recovery's first Pending sorts a hundred
// thousand operators or more.
func (c *Controller) sortedOps(buf []keyedOp) []keyedOp {
	keys := slices.Grow(buf, len(c.ops))
	for id, o := range c.ops {
		keys = append(keys, keyedOp{id.Prefix(), o})
	}
	slices.SortFunc(keys, func(a, b keyedOp) int {
		if a.prefix != b.prefix {
			return cmp.Compare(a.prefix, b.prefix)
		}
		return cmpID(a.o.id, b.o.id)
	})
	return keys
}

// smallOps is how many operators EachOperator and EachPending sort on the stack.
const smallOps = 16

// keyedOp is an operator with its id's Prefix, the first sort key of sortedOps.
type keyedOp struct {
	prefix uint64
	o      *Operator
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
	if _, ok := c.ops[id]; ok {
		c.tasks.markOp(id, true)
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
	lo := 0 // batch's position in ts
	for batch := range slices.Chunk(ts, ahead) {
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
		lo += len(batch)
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
			c.fire(o, kinds[o.typ].nodeLostTrigger(o, n))
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
			c.fire(o, kinds[o.typ].taskRemovedTrigger())
		}
	}
	for _, id := range all {
		c.tasks.remove(id)
	}
	for _, v := range victims {
		c.start(&Operator{id: v.id, typ: TypeRemove, state: RemoveRunning, hook: HookNone, span: v.span, origin: v.node})
	}
}
