package maintainer

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// view is what the public API shows of a maintainer: its state now, and what a copy of it
// sends tick by tick from here (answering every node it waits for after four ticks), which
// shows what it sent when, whom it asked when, and what waits for recovery.
type view struct {
	Booting, Recoverable bool
	Tables               []ops.TableID
	Waiting              []ops.NodeID
	Deferred             []DDL
	Strays               []recovery.Stray
	Held                 []Message
	Metrics              Metrics
	Decisions            int
	Live, Joined         map[ops.NodeID]bool
	Answers              map[ops.NodeID]protocol.BootstrapAnswer
	Tasks                []ops.Task
	Operators            []ops.Record
	Outstanding          []Message
	Ready                []Message
	Future               [][]Message
	FutureTasks          []ops.Task
	FutureOperators      []ops.Record
	FutureErr            string
}

var cowNodes = []ops.NodeID{"A", "B", "B2", "C", "D", "E", "F"}

// observe returns m's view. It changes nothing of m but clones it.
func observe(m *Maintainer) view {
	v := view{Booting: m.Booting(), Recoverable: m.Recoverable(), Tables: m.Tables(), Waiting: m.Waiting(), Deferred: m.Deferred(),
		Strays: m.Strays(), Held: m.Held(), Metrics: m.Metrics(), Decisions: m.Recovery().Decisions.Len(),
		Live: map[ops.NodeID]bool{}, Joined: map[ops.NodeID]bool{}, Answers: map[ops.NodeID]protocol.BootstrapAnswer{},
		Outstanding: m.Outstanding()}
	q := m.Clone()
	for _, n := range cowNodes {
		v.Live[n] = m.Live(n)
		if a, ok := m.Answer(n); ok {
			v.Answers[n] = a
		}
		// A refused start tells whether n may be a destination: it answered this maintainer.
		v.Joined[n] = !m.Booting() && !errors.Is(q.Move("no such task", n), ErrUnknownNode)
	}
	if c := m.Controller(); c != nil {
		v.Tasks, v.Operators = c.Tasks(), c.Operators()
	}
	p := m.Clone()
	v.Ready = slices.Clone(p.Ready())
	p.Advance()
	var errs error
	for i := range 14 {
		if i == 4 {
			for _, n := range p.Waiting() {
				errs = errors.Join(errs, p.StepAnswer(answer(n, p.Epoch())))
			}
		}
		p.Tick()
		v.Future = append(v.Future, slices.Clone(p.Ready()))
		p.Advance()
	}
	if c := p.Controller(); c != nil {
		v.FutureTasks, v.FutureOperators = c.Tasks(), c.Operators()
	}
	v.FutureErr = fmt.Sprint(errs)
	return v
}

// cowBooting is a booting maintainer of epoch 3 on A, B and C (re-asked every 2 ticks)
// that A answered; three statuses and three DDL wait for recovery, and the slices that
// hold them and the outbox have room to spare, which a clone must not write into.
func cowBooting(t *testing.T) *Maintainer {
	t.Helper()
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B", "C"}, Tables: []ops.TableID{1, 2}, BootstrapTicks: 2, ResendTicks: 3})
	require.NoError(t, err)
	take(m)
	require.NoError(t, m.StepAnswer(answer("A", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working, Checkpoint: 5})))
	for _, r := range []protocol.StatusReport{status("A", 3, "d", ops.Working), status("B", 3, "q", ops.Working), status("A", 3, "d", ops.Working)} {
		require.NoError(t, m.StepStatus(r))
	}
	m.DropTable(9)
	require.NoError(t, m.CreateTable(3, "t3", 7))
	require.NoError(t, m.CreateTable(4, "t4", 8))
	return m
}

// cowAnswered is cowBooting once every node answered.
func cowAnswered(t *testing.T) *Maintainer {
	m := cowBooting(t)
	require.NoError(t, m.StepAnswer(answer("B", 3)))
	require.NoError(t, m.StepAnswer(answer("C", 3, protocol.Dispatcher{ID: "x", Span: ops.Span{Table: 2}, State: ops.Working})))
	return m
}

// cowRunning is a running maintainer of epoch 2 on A, B and C (resending every 3 ticks):
// l and r on A, x moving from B to C, and t3 Absent.
func cowRunning(t *testing.T) *Maintainer {
	t.Helper()
	m, err := NewWithTasks(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B", "C"}, Tables: []ops.TableID{1, 2}, ResendTicks: 3},
		[]ops.Task{{ID: "l", Span: left, Node: "A"}, {ID: "r", Span: right, Node: "A"}, {ID: "x", Span: ops.Span{Table: 2}, Node: "B"}})
	require.NoError(t, err)
	require.NoError(t, m.Move("x", "C"))
	m.Tick()
	require.NoError(t, m.CreateTable(3, "t3", 7))
	take(m)
	return m
}

// cowFinishing is cowRunning once x's origin stopped: C's Working finishes the move.
func cowFinishing(t *testing.T) *Maintainer {
	m := cowRunning(t)
	require.NoError(t, m.StepStatus(status("B", 2, "x", ops.Stopped)))
	require.Equal(t, []string{"Create x->C"}, take(m))
	return m
}

// cowFinishingOne is cowFinishing with r moving too.
func cowFinishingOne(t *testing.T) *Maintainer {
	m := cowFinishing(t)
	require.NoError(t, m.Move("r", "C"))
	take(m)
	return m
}

// cowJoining is cowRunning with node D added, not answered yet.
func cowJoining(t *testing.T) *Maintainer {
	m := cowRunning(t)
	m.NodeAdded("D")
	take(m)
	return m
}

// cowHolding is a running maintainer of epoch 3 on A to E that waits for strays on A and
// B and holds the hole's Create towards E, D and C (placed on the highest node, each left
// when its destination died): the held requests have room to spare.
func cowHolding(t *testing.T) *Maintainer {
	t.Helper()
	highest := func(_ ops.Task, nodes []NodeLoad) ops.NodeID { return nodes[len(nodes)-1].Node }
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B", "C", "D", "E"}, Tables: []ops.TableID{1}, Checkpoint: 10,
		ResendTicks: 2, Place: highest})
	require.NoError(t, err)
	take(m)
	rm := ops.Record{Changefeed: cf, ID: "d", Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: whole, Origin: "C"}
	require.NoError(t, m.StepAnswer(answer("A", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working})))
	require.NoError(t, m.StepAnswer(answer("B", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Initializing})))
	require.NoError(t, m.StepAnswer(protocol.BootstrapAnswer{Node: "C", Changefeed: cf, Epoch: 3,
		Dispatchers: []protocol.Dispatcher{{ID: "d", Span: whole, State: ops.Initializing, Removing: true}}, Removes: []ops.Record{rm}}))
	require.NoError(t, m.StepAnswer(answer("D", 3)))
	require.NoError(t, m.StepAnswer(answer("E", 3)))
	require.NoError(t, m.Recover())
	require.NoError(t, m.StepStatus(status("C", 3, "d", ops.Stopped)))
	m.Tick()
	m.NodeRemoved("E")
	m.Tick()
	m.NodeRemoved("D")
	m.Tick()
	take(m)
	require.Equal(t, []string{"Create t1-e3-->E", "Create t1-e3-->D", "Create t1-e3-->C"}, kinds(m.Held()))
	return m
}

// cowMarked returns setup with a request queued and handed out by Ready, not advanced.
func cowMarked(setup func(*testing.T) *Maintainer) func(*testing.T) *Maintainer {
	return func(t *testing.T) *Maintainer {
		m := setup(t)
		m.NodeAdded("D")
		require.Len(t, m.Ready(), 1)
		return m
	}
}

// A write changes a maintainer; other is another write to it, of the same parts.
type write func(m *Maintainer) error

func ticks(n int) write {
	return func(m *Maintainer) error {
		for range n {
			m.Tick()
		}
		return nil
	}
}

func then(ws ...write) write {
	return func(m *Maintainer) error {
		var err error
		for _, w := range ws {
			err = errors.Join(err, w(m))
		}
		return err
	}
}

func stepStatus(r protocol.StatusReport) write {
	return func(m *Maintainer) error { return m.StepStatus(r) }
}

func stepAnswer(a protocol.BootstrapAnswer) write {
	return func(m *Maintainer) error { return m.StepAnswer(a) }
}

func move(id ops.DispatcherID, n ops.NodeID) write {
	return func(m *Maintainer) error { return m.Move(id, n) }
}

func nodeAdded(n ops.NodeID) write {
	return func(m *Maintainer) error { m.NodeAdded(n); return nil }
}

func nodeRemoved(n ops.NodeID) write {
	return func(m *Maintainer) error { m.NodeRemoved(n); return nil }
}

func dropTable(tb ops.TableID) write {
	return func(m *Maintainer) error { m.DropTable(tb); return nil }
}

func createTable(tb ops.TableID, id ops.DispatcherID) write {
	return func(m *Maintainer) error { return m.CreateTable(tb, id, uint64(tb)) }
}

func advance(m *Maintainer) error { m.Advance(); return nil }

func resend(id ops.DispatcherID) write {
	return func(m *Maintainer) error {
		if !m.Resend(id) {
			return fmt.Errorf("nothing to resend for %s", id)
		}
		return nil
	}
}

var cowSetups = map[string]func(*testing.T) *Maintainer{
	"booting": cowBooting, "booting marked": cowMarked(cowBooting), "answered": cowAnswered,
	"running": cowRunning, "running marked": cowMarked(cowRunning), "finishing": cowFinishing, "finishing one": cowFinishingOne, "joining": cowJoining,
	"strays": strayed, "holding": cowHolding,
}

var cowCases = []struct {
	name, setup  string
	write, other write
}{
	{"booting/answer", "booting", stepAnswer(answer("B", 3)), stepAnswer(answer("C", 3, protocol.Dispatcher{ID: "e", Span: ops.Span{Table: 2}, State: ops.Working}))},
	{"booting/status waits", "booting", stepStatus(status("A", 3, "d", ops.Stopped)), stepStatus(status("C", 3, "z", ops.Working))},
	{"booting/status fenced", "booting", stepStatus(status("A", 2, "d", ops.Stopped)), stepStatus(status("B", 1, "d", ops.Working))},
	{"booting/drop table", "booting", dropTable(1), dropTable(2)},
	{"booting/create table", "booting", createTable(5, "t5"), createTable(6, "t6")},
	{"booting/node added", "booting", nodeAdded("D"), nodeAdded("E")},
	{"booting/node removed", "booting", nodeRemoved("A"), nodeRemoved("B")},
	{"booting/tick asks again", "booting", ticks(2), then(nodeAdded("E"), ticks(2))},
	{"booting/advance", "booting marked", advance, then(nodeAdded("E"), advance)},
	{"booting/recover", "answered", func(m *Maintainer) error { return m.Recover() }, nodeAdded("D")},
	{"booting/recover on tick", "answered", ticks(1), then(nodeRemoved("A"), ticks(1))},
	{"running/status", "running", stepStatus(status("B", 2, "x", ops.Stopped)), stepStatus(status("A", 2, "l", ops.Stopped))},
	{"running/status finishes", "finishing", stepStatus(status("C", 2, "x", ops.Working)), move("l", "B")},
	{"running/status finishes one", "finishing one", stepStatus(status("C", 2, "x", ops.Working)), move("l", "B")},
	{"running/add", "running", func(m *Maintainer) error { return m.Add("t3", "B") }, func(m *Maintainer) error { return m.Add("t3", "C") }},
	{"running/move", "running", move("l", "B"), move("r", "C")},
	{"running/split", "running",
		func(m *Maintainer) error {
			return m.Split("l", []ops.Span{{Table: 1, End: "g"}, {Table: 1, Start: "g", End: "m"}}, nil)
		},
		func(m *Maintainer) error {
			return m.Split("r", []ops.Span{{Table: 1, Start: "m", End: "p"}, {Table: 1, Start: "p"}}, []ops.NodeID{"B", "C"})
		}},
	{"running/merge", "running", func(m *Maintainer) error { return m.Merge([]ops.DispatcherID{"l", "r"}, "lr") }, move("l", "C")},
	{"running/remove", "running", func(m *Maintainer) error { return m.Remove("l") }, func(m *Maintainer) error { return m.Remove("r") }},
	{"running/create table", "running", createTable(5, "t5"), createTable(6, "t6")},
	{"running/drop table", "running", dropTable(2), dropTable(1)},
	{"running/node added", "running", nodeAdded("B2"), nodeAdded("E")}, // B2 goes in the middle
	{"running/node answers", "joining", stepAnswer(answer("D", 2)), nodeAdded("E")},
	{"running/node removed", "running", nodeRemoved("A"), nodeRemoved("B")},
	{"running/tick places and resends", "running", ticks(2), then(resend("x"), ticks(1))},
	{"running/resend", "running", resend("x"), ticks(1)},
	{"running/advance", "running marked", advance, then(nodeAdded("E"), advance)},
	{"strays/stray stopped", "strays", stepStatus(status("C", 3, "d", ops.Stopped)), stepStatus(status("C", 3, "d", ops.Working))},
	{"strays/node gone", "strays", nodeRemoved("C"), nodeRemoved("A")},
	{"strays/tick resends", "strays", ticks(1), ticks(2)},
	{"strays/hold another", "holding", then(nodeRemoved("C"), ticks(1)), then(nodeAdded("F"), stepAnswer(answer("F", 3)), nodeRemoved("C"), ticks(1))},
}

// TestCloneCopyOnWrite: whichever of a maintainer and its clone is written, by any kind of
// write, the other does not change, and a different write to the other then does not show
// in the first (both append to storage they shared).
func TestCloneCopyOnWrite(t *testing.T) {
	for _, c := range cowCases {
		for _, writeClone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/clone=%v", c.name, writeClone), func(t *testing.T) {
				m := cowSetups[c.setup](t)
				d := m.Clone()
				first, second := m, d
				if writeClone {
					first, second = d, m
				}
				was, other := observe(first), observe(second)
				require.Equal(t, was, other, "a clone shows what the original does")
				require.NoError(t, c.write(first))
				now := observe(first)
				require.NotEqual(t, was, now, "the write changes the maintainer")
				require.Equal(t, other, observe(second), "the write does not show in the other")
				require.NoError(t, c.other(second))
				require.NotEqual(t, other, observe(second))
				require.Equal(t, now, observe(first), "nor does the other's write show in the first")
			})
		}
	}
}

// TestCloneConcurrently: several goroutines clone one maintainer at once, each writing its
// clone, while another observes the original (run with -race): each clone ends as a fresh
// maintainer written alike, and the original does not change.
func TestCloneConcurrently(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(cowSetups)) {
		setup := cowSetups[name]
		t.Run(name, func(t *testing.T) {
			var ws []write
			for _, c := range cowCases {
				if c.setup == name {
					ws = append(ws, c.write, c.other, c.write)
				}
			}
			require.NotEmpty(t, ws)
			m := setup(t)
			want := observe(m)
			got := make([][2]view, len(ws))
			errs := make([]error, len(ws))
			var wg sync.WaitGroup
			for i, w := range ws {
				wg.Go(func() {
					d := m.Clone()
					e := d.Clone() // a clone of a clone shares the parts too
					errs[i] = errors.Join(w(d), w(e))
					got[i] = [2]view{observe(d), observe(e)}
				})
			}
			for range 3 {
				require.Equal(t, want, observe(m))
			}
			wg.Wait()
			require.Equal(t, want, observe(m), "the original did not change")
			for i, w := range ws {
				require.NoError(t, errs[i])
				fresh := setup(t)
				require.NoError(t, w(fresh))
				v := observe(fresh)
				require.Equal(t, [2]view{v, v}, got[i], "write %d", i)
			}
		})
	}
}

// TestCloneCopiesLittle: a clone costs one allocation, and one whose last operator
// finishes forgets what it sent without copying it.
func TestCloneCopiesLittle(t *testing.T) {
	m := cowFinishing(t)
	var clones []*Maintainer
	require.Equal(t, 1.0, testing.AllocsPerRun(10, func() { clones = append(clones[:0], m.Clone()) }))
	d := m.Clone()
	require.NoError(t, d.StepStatus(status("C", 2, "x", ops.Working)))
	require.Equal(t, 1, m.sent.len())
	require.Zero(t, d.sent)
}

// TestRecoveryOwnsItsController: a maintainer cloned while it booted runs the controller
// its recovery built, not a copy of it.
func TestRecoveryOwnsItsController(t *testing.T) {
	m := cowAnswered(t)
	d := m.Clone()
	require.NoError(t, m.Recover())
	require.NoError(t, m.Move("d", "B"))
	require.Same(t, m.Recovery().Controller, m.Controller())
	require.True(t, d.Booting())
}

// TestTraceMayClone: a Trace callback that clones the maintainer between two statuses of
// one report gets a copy that the second status does not change.
func TestTraceMayClone(t *testing.T) {
	var m, mid *Maintainer
	m, err := NewWithTasks(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B"}, Trace: func(s Step) {
		if s.Action == StepStatus && mid == nil {
			mid = m.Clone()
		}
	}}, []ops.Task{{ID: "d", Span: whole, Node: "A"}})
	require.NoError(t, err)
	require.NoError(t, m.Move("d", "B"))
	take(m)
	require.NoError(t, m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2,
		Statuses: []ops.Status{{ID: "d", State: ops.Working}, {ID: "d", State: ops.Stopped}}}))
	require.NotNil(t, mid)
	require.Equal(t, []string{"Create d->B"}, take(m))
	rec, ok := mid.Controller().Operator("d")
	require.True(t, ok)
	require.Equal(t, ops.MoveRemoveOrigin, rec.State, "the clone saw A working, not stopped")
	require.Empty(t, take(mid))
	require.Equal(t, []Message{{To: "A", Request: protocol.Request{Changefeed: cf, Epoch: 2, Kind: protocol.Remove, Record: rec}}}, mid.Outstanding())
}
