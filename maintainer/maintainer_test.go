package maintainer

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

const cf = ops.ChangefeedID("cf")

var (
	whole = ops.Span{Table: 1}
	left  = ops.Span{Table: 1, End: "m"}
	right = ops.Span{Table: 1, Start: "m"}
)

// kinds summarizes a Ready as "Kind id->node" lines.
func kinds(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		s := m.Request.Kind.String()
		if m.Request.Kind != protocol.Bootstrap {
			s += " " + string(m.Request.Record.ID)
		}
		out = append(out, s+"->"+string(m.To))
	}
	return out
}

// take returns the outbox and advances past it.
func take(m *Maintainer) []string {
	out := kinds(m.Ready())
	m.Advance()
	return out
}

func running(t *testing.T, tasks ...ops.Task) *Maintainer {
	t.Helper()
	m, err := NewWithTasks(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B", "C"}, Tables: []ops.TableID{1}}, tasks)
	require.NoError(t, err)
	return m
}

func status(n ops.NodeID, e ops.Epoch, id ops.DispatcherID, st ops.ComponentState) protocol.StatusReport {
	return protocol.StatusReport{Changefeed: cf, Node: n, Epoch: e, Statuses: []ops.Status{{ID: id, State: st}}}
}

func answer(n ops.NodeID, e ops.Epoch, ds ...protocol.Dispatcher) protocol.BootstrapAnswer {
	return protocol.BootstrapAnswer{Node: n, Changefeed: cf, Epoch: e, Dispatchers: ds}
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := New(Config{Epoch: 1})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = New(Config{Changefeed: cf})
	require.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewWithTasks(Config{Changefeed: cf, Epoch: 1, Nodes: []ops.NodeID{"A"}}, []ops.Task{{ID: "d", Span: whole, Node: "Z"}})
	require.ErrorIs(t, err, ErrUnknownNode)
}

// TestBootstrap: a new maintainer asks every live node, refuses answers it must not use,
// waits for every live node (not for one that died), and recovers.
func TestBootstrap(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"B", "A", "C"}, Tables: []ops.TableID{1}, Checkpoint: 50})
	require.NoError(t, err)
	require.True(t, m.Booting())
	require.Nil(t, m.Controller())
	require.True(t, m.HasReady())
	require.Equal(t, []string{"Bootstrap->A", "Bootstrap->B", "Bootstrap->C"}, take(m))
	require.False(t, m.HasReady())
	require.ErrorIs(t, m.Move("d", "B"), ErrBooting)
	require.Equal(t, uint64(1), m.Metrics().Refused)

	for _, tc := range []struct {
		a   protocol.BootstrapAnswer
		err error
	}{
		{protocol.BootstrapAnswer{Node: "A", Changefeed: "other", Epoch: 3}, ErrWrongChangefeed},
		{answer("A", 2), ErrStaleEpoch},
		{answer("Z", 3), ErrUnknownNode},
	} {
		require.ErrorIs(t, m.StepAnswer(tc.a), tc.err)
	}
	var de *fsm.DecodeError
	require.ErrorAs(t, m.StepAnswer(answer("A", 3, protocol.Dispatcher{Span: whole})), &de, "a dispatcher without id")

	require.NoError(t, m.StepAnswer(answer("A", 3)))
	require.Equal(t, []ops.NodeID{"B", "C"}, m.Waiting())
	require.ErrorIs(t, m.Recover(), ErrAwaitingAnswers)
	require.NoError(t, m.StepAnswer(answer("B", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working, Checkpoint: 70})))
	m.NodeRemoved("C") // died while the maintainer waited: no longer waited for
	require.Empty(t, m.Waiting())
	require.NoError(t, m.Recover())
	require.False(t, m.Booting())
	require.ErrorIs(t, m.Recover(), ErrNotBooting)
	require.Equal(t, []ops.Task{{ID: "d", Span: whole, Sched: ops.Replicating, Node: "B", Checkpoint: 70}}, m.Controller().Tasks())
	require.Equal(t, uint64(1), m.Metrics().Recoveries)
	require.Equal(t, 1, m.Recovery().Decisions.Len())
	a, ok := m.Answer("B")
	require.True(t, ok)
	require.Len(t, a.Dispatchers, 1)
	require.NoError(t, m.StepAnswer(answer("A", 3)), "a late repeat after recovery is harmless")
}

// TestRecoverSendsRestoredRequestsAndHoles: recovery's first requests go out at once; the
// hole it finds starts at the snapshot's checkpoint and is placed on Tick.
func TestRecoverSendsRestoredRequests(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B"}, Tables: []ops.TableID{1}, Checkpoint: 40})
	require.NoError(t, err)
	take(m)
	rm := ops.Record{Changefeed: cf, ID: "a", Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1, Span: left, Origin: "A", Dest: "B"}
	require.NoError(t, m.StepAnswer(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 2,
		Dispatchers: []protocol.Dispatcher{{ID: "a", Span: left, State: ops.Working, Removing: true, Checkpoint: 60}}, Removes: []ops.Record{rm}}))
	require.NoError(t, m.StepAnswer(answer("B", 2)))
	m.Tick() // recovers: every live node answered
	require.False(t, m.Booting())
	require.Equal(t, []string{"Remove a->A"}, take(m))
	hole, ok := m.Controller().Task("t1-e2-m")
	require.True(t, ok)
	require.Equal(t, ops.Absent, hole.Sched)
	require.Equal(t, uint64(40), hole.Checkpoint)
	m.Tick()
	require.Equal(t, []string{"Create t1-e2-m->B"}, take(m), "the hole goes to the least loaded node")
	for range 8 {
		m.Tick()
	}
	require.Empty(t, take(m))
	m.Tick()
	require.Equal(t, []string{"Remove a->A"}, take(m), "a restored operator's request is resent like any other")
}

// TestSendsWhatChanged: an operator's request goes out when it starts and when it
// changes, never again for a status that changes nothing.
func TestSendsWhatChanged(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A", Checkpoint: 5})
	require.NoError(t, m.Move("d", "B"))
	require.Equal(t, []string{"Remove d->A"}, take(m))
	require.NoError(t, m.StepStatus(status("A", 2, "d", ops.Working)))
	require.Empty(t, take(m), "the origin still works: nothing new")
	require.NoError(t, m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2, Statuses: []ops.Status{{ID: "d", State: ops.Stopped, Checkpoint: 9}}}))
	out := m.Ready()
	require.Len(t, out, 1)
	require.Equal(t, protocol.Create, out[0].Request.Kind)
	require.Equal(t, ops.NodeID("B"), out[0].To)
	require.Equal(t, uint64(9), out[0].Request.Record.Checkpoint, "the destination starts where the origin stopped")
	require.Equal(t, ops.Epoch(2), out[0].Request.Epoch)
	m.Advance()
	require.NoError(t, m.StepStatus(status("A", 2, "d", ops.Stopped)))
	require.Empty(t, take(m), "a repeated status sends nothing")
	require.NoError(t, m.StepStatus(status("B", 2, "d", ops.Working)))
	require.Empty(t, take(m))
	_, busy := m.Controller().Operator("d")
	require.False(t, busy)
	require.Equal(t, uint64(4), m.Metrics().StatusesApplied)
	require.Equal(t, uint64(2), m.Metrics().RequestsQueued)
}

// TestStatusFence: a status sent to another epoch is dropped and counted, one from a
// node that is not live dropped, an invalid report refused.
func TestStatusFence(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A"})
	require.NoError(t, m.StepStatus(status("A", 1, "d", ops.Stopped)))
	require.NoError(t, m.StepStatus(status("Z", 2, "d", ops.Stopped)))
	task, _ := m.Controller().Task("d")
	require.Equal(t, ops.Replicating, task.Sched, "neither reached the controller")
	require.Equal(t, Metrics{StatusesFenced: 1, StatusesDropped: 1}, m.Metrics())
	require.ErrorIs(t, m.StepStatus(protocol.StatusReport{Changefeed: "other", Node: "A", Epoch: 2}), ErrWrongChangefeed)
	var de *fsm.DecodeError
	require.ErrorAs(t, m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2, Statuses: []ops.Status{{State: ops.Working}}}), &de)
}

// TestStatusesWhileBooting wait for recovery and are applied right after it, in order.
func TestStatusesWhileBooting(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1}})
	require.NoError(t, err)
	take(m)
	require.NoError(t, m.StepAnswer(answer("A", 2, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working})))
	require.NoError(t, m.StepStatus(status("A", 2, "d", ops.Stopped)))
	require.NoError(t, m.StepStatus(status("A", 1, "d", ops.Working)), "an old epoch's is dropped at once")
	require.NoError(t, m.Recover())
	task, _ := m.Controller().Task("d")
	require.Equal(t, ops.Absent, task.Sched, "the Stopped that arrived while booting was applied")
	require.Equal(t, uint64(1), m.Metrics().StatusesFenced)
}

// TestResendOnTick: a request that waited ResendTicks ticks without its operator moving
// goes out again; one that moved waits anew.
func TestResendOnTick(t *testing.T) {
	m, err := NewWithTasks(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B"}, ResendTicks: 3}, []ops.Task{{ID: "d", Span: whole, Node: "A"}})
	require.NoError(t, err)
	require.NoError(t, m.Move("d", "B"))
	require.Equal(t, []string{"Remove d->A"}, take(m))
	m.Tick()
	m.Tick()
	require.Empty(t, take(m))
	m.Tick()
	require.Equal(t, []string{"Remove d->A"}, take(m))
	require.NoError(t, m.StepStatus(status("A", 2, "d", ops.Stopped)))
	require.Equal(t, []string{"Create d->B"}, take(m))
	m.Tick()
	m.Tick()
	require.Empty(t, take(m), "the Create was sent two ticks ago")
	m.Tick()
	require.Equal(t, []string{"Create d->B"}, take(m))
	require.Equal(t, uint64(2), m.Metrics().Resends)
	require.True(t, m.Resend("d"))
	require.False(t, m.Resend("nope"))
	require.Equal(t, []string{"Create d->B"}, take(m))
}

// TestBootstrapResend: a node that has not answered is asked again every BootstrapTicks.
func TestBootstrapResend(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B"}, BootstrapTicks: 2})
	require.NoError(t, err)
	take(m)
	require.NoError(t, m.StepAnswer(answer("A", 2)))
	m.Tick()
	require.Empty(t, take(m))
	m.Tick()
	require.Equal(t, []string{"Bootstrap->B"}, take(m))
	require.True(t, m.Booting())
	m.Tick()
	require.Empty(t, take(m), "asked again one tick ago")
	m.Tick()
	require.Equal(t, []string{"Bootstrap->B"}, take(m))
}

// TestPlacement: Tick places Absent tasks; the hook decides where; the default is the
// least loaded node.
func TestPlacement(t *testing.T) {
	m := running(t, ops.Task{ID: "x", Span: ops.Span{Table: 9}, Node: "A"})
	require.NoError(t, m.CreateTable(5, "d", 7))
	require.ErrorIs(t, m.CreateTable(5, "d2", 7), ErrTableExists)
	require.Equal(t, []ops.TableID{1, 5}, m.Tables())
	m.Tick()
	out := m.Ready()
	require.Equal(t, []string{"Create d->B"}, kinds(out), "B and C hold nothing, B sorts first")
	require.Equal(t, uint64(7), out[0].Request.Record.Checkpoint)
	m.Advance()

	var seen []NodeLoad
	m2, err := NewWithTasks(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A", "B"}, Place: func(t ops.Task, nodes []NodeLoad) ops.NodeID {
		seen = append([]NodeLoad(nil), nodes...)
		return "A"
	}}, []ops.Task{{ID: "x", Span: ops.Span{Table: 9}, Node: "A"}})
	require.NoError(t, err)
	require.NoError(t, m2.CreateTable(1, "d", 0))
	m2.Tick()
	require.Equal(t, []string{"Create d->A"}, take(m2))
	require.Equal(t, []NodeLoad{{"A", 1}, {"B", 0}}, seen)
	require.Equal(t, ops.NodeID("B"), LeastLoaded(ops.Task{}, []NodeLoad{{"A", 2}, {"C", 1}, {"B", 1}}))

	// Each placement counts: three new tables go to three nodes, the loaded one last.
	m3 := running(t, ops.Task{ID: "x", Span: ops.Span{Table: 9}, Node: "B"})
	for i, id := range []ops.DispatcherID{"p", "q", "r"} {
		require.NoError(t, m3.CreateTable(ops.TableID(2+i), id, 0))
	}
	m3.Tick()
	require.Equal(t, []string{"Create p->A", "Create q->C", "Create r->A"}, take(m3))
}

// TestAdmission: destinations must be live nodes that answered this maintainer.
func TestAdmission(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A"})
	m.NodeRemoved("B")
	require.ErrorIs(t, m.Move("d", "B"), ErrUnknownNode)
	require.ErrorIs(t, m.Move("d", "Z"), ErrUnknownNode)
	require.ErrorIs(t, m.Split("d", []ops.Span{left, right}, []ops.NodeID{"A", "B"}), ErrUnknownNode)
	m.NodeAdded("D")
	require.Equal(t, []string{"Bootstrap->D"}, take(m), "a joining node is bootstrapped to this epoch")
	require.ErrorIs(t, m.Move("d", "D"), ErrUnknownNode, "not before it answered")
	require.NoError(t, m.StepAnswer(answer("D", 2)))
	require.NoError(t, m.Move("d", "D"))
	var refused *ops.RefusedError
	require.ErrorAs(t, m.Move("d", "C"), &refused, "the controller's own refusal")
	require.Equal(t, uint64(5), m.Metrics().Refused)
}

// TestNodeRemovedWhileRunning: the controller hears of it and the operators react.
func TestNodeRemovedWhileRunning(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A"})
	require.NoError(t, m.Move("d", "B"))
	take(m)
	m.NodeRemoved("A")
	require.Equal(t, []string{"Create d->B"}, take(m), "the origin died: the move creates the destination")
	m.NodeRemoved("A") // twice: nothing
	require.Empty(t, take(m))
	require.False(t, m.Live("A"))
}

// TestDDLWhileBooting is replayed after recovery, in order.
func TestDDLWhileBooting(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1, 2}})
	require.NoError(t, err)
	take(m)
	m.DropTable(1)
	require.NoError(t, m.CreateTable(3, "t3", 11))
	require.Equal(t, []DDL{{Drop: true, Table: 1}, {Table: 3, ID: "t3", Checkpoint: 11}}, m.Deferred())
	require.NoError(t, m.StepAnswer(answer("A", 2, protocol.Dispatcher{ID: "d1", Span: whole, State: ops.Working})))
	require.NoError(t, m.Recover())
	require.Empty(t, m.Deferred())
	require.Equal(t, []ops.TableID{2, 3}, m.Tables())
	require.Equal(t, []string{"Remove d1->A"}, take(m), "the dropped table's dispatcher is removed")
	task, ok := m.Controller().Task("t3")
	require.True(t, ok)
	require.Equal(t, ops.Task{ID: "t3", Span: ops.Span{Table: 3}, Sched: ops.Absent, Checkpoint: 11}, task)
}

func TestClone(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A"})
	d := m.Clone()
	require.NoError(t, d.Move("d", "B"))
	require.Equal(t, []string{"Remove d->A"}, take(d))
	require.Empty(t, take(m), "the original did not move")
	_, busy := m.Controller().Operator("d")
	require.False(t, busy)
	require.Len(t, m.Outstanding(), 0)
	require.Len(t, d.Outstanding(), 1)
	e := d.Clone()
	for range 10 {
		e.Tick()
	}
	require.Equal(t, []string{"Remove d->A"}, take(e), "the clone knows what was sent when")
	require.Empty(t, take(d))
}

// TestSendOrder: a batch goes out by table, then start key, the wider span first.
func TestSendOrder(t *testing.T) {
	spans := []ops.Span{{Table: 2}, right, {Table: 1, Start: "m", End: "p"}, left, whole, {Table: 1, End: "c"}}
	var batch []ops.Message
	for _, s := range spans {
		batch = append(batch, ops.Message{Record: ops.Record{Span: s}})
	}
	slices.SortStableFunc(batch, sendOrder)
	var got []ops.Span
	for _, msg := range batch {
		got = append(got, msg.Record.Span)
	}
	require.Equal(t, []ops.Span{whole, left, {Table: 1, End: "c"}, right, {Table: 1, Start: "m", End: "p"}, {Table: 2}}, got)
}

// TestRecoveryLogsAndObserves: the maintainer's logger and observer are recovery's too.
func TestRecoveryLogsAndObserves(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	var seen []fsm.Transition
	m, err := New(Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1}, Logger: zap.New(core),
		Observer: fsm.ObserverFunc(func(tr fsm.Transition) { seen = append(seen, tr) })})
	require.NoError(t, err)
	rm := ops.Record{Changefeed: cf, ID: "a", Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: whole, Origin: "A"}
	require.NoError(t, m.StepAnswer(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 2,
		Dispatchers: []protocol.Dispatcher{{ID: "a", Span: whole, State: ops.Working, Removing: true}}, Removes: []ops.Record{rm}}))
	require.NoError(t, m.Recover())
	require.Equal(t, 1, logs.FilterMessage("recovered").Len())
	require.NoError(t, m.StepStatus(status("A", 1, "a", ops.Stopped)))
	require.Equal(t, 1, logs.FilterMessage("statuses fenced").Len())
	require.NoError(t, m.StepStatus(status("A", 2, "a", ops.Stopped)))
	require.NotEmpty(t, seen, "the restored remove's transitions")
}

// strayed recovers a maintainer of epoch 3 from a snapshot no run produces: d is being
// removed on A under its journaled remove, and runs on B and C too. A's remove resumes
// (repairing coverage when it finishes); B's and C's copies get one-shot removes and are
// strays.
func strayed(t *testing.T) *Maintainer {
	t.Helper()
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B", "C"}, Tables: []ops.TableID{1}, Checkpoint: 10, ResendTicks: 2})
	require.NoError(t, err)
	take(m)
	rm := ops.Record{Changefeed: cf, ID: "d", Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: whole, Origin: "A"}
	require.NoError(t, m.StepAnswer(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 3,
		Dispatchers: []protocol.Dispatcher{{ID: "d", Span: whole, State: ops.Initializing, Removing: true}}, Removes: []ops.Record{rm}}))
	require.NoError(t, m.StepAnswer(answer("B", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working})))
	require.NoError(t, m.StepAnswer(answer("C", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Initializing})))
	require.NoError(t, m.Recover())
	require.Equal(t, []string{"Remove d->A", "Remove d->B", "Remove d->C"}, take(m))
	require.Equal(t, []recovery.Stray{{Node: "B", ID: "d", Span: whole}, {Node: "C", ID: "d", Span: whole}}, m.Strays())
	// A's remove finishes: the table's coverage is repaired by a hole, placed on A, whose
	// Create waits while B or C may still serve the keys.
	require.NoError(t, m.StepStatus(status("A", 3, "d", ops.Stopped)))
	m.Tick()
	require.Empty(t, take(m))
	require.Equal(t, []string{"Create t1-e3-->A"}, kinds(m.Held()))
	require.NoError(t, m.StepStatus(status("B", 3, "d", ops.Stopped)))
	require.Empty(t, take(m), "C's copy may still serve the keys")
	require.Equal(t, []recovery.Stray{{Node: "C", ID: "d", Span: whole}}, m.Strays())
	return m
}

// TestStraysHoldCreates: a request that would create a dispatcher over keys a stray may
// serve is held until the stray's node reports it stopped, or leaves; the stray's remove
// is resent meanwhile.
func TestStraysHoldCreates(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		m := strayed(t)
		m.Tick()
		require.Equal(t, []string{"Remove d->C"}, take(m), "resent after ResendTicks")
		m.Tick()
		require.Empty(t, take(m), "resent one tick ago; the add's resend is held again")
		require.Len(t, m.Held(), 1)
		m.Tick()
		require.Equal(t, []string{"Remove d->C"}, take(m))
		require.NoError(t, m.StepStatus(status("C", 3, "d", ops.Working)))
		require.Equal(t, []string{"Remove d->C"}, take(m), "a stray that still runs holds on, and has no task: an orphan")
		require.NoError(t, m.StepStatus(status("C", 3, "d", ops.Stopped)))
		require.Equal(t, []string{"Create t1-e3-->A"}, take(m))
		require.Empty(t, m.Strays())
		require.Empty(t, m.Held())
		require.Equal(t, uint64(2), m.Metrics().RequestsHeld)
		m.Tick()
		m.Tick()
		require.Equal(t, []string{"Create t1-e3-->A"}, take(m), "an operator's resend is not held any more")
	})
	t.Run("node gone", func(t *testing.T) {
		m := strayed(t)
		m.NodeRemoved("C")
		require.Equal(t, []string{"Create t1-e3-->A"}, take(m))
		require.Empty(t, m.Strays())
	})
	t.Run("operator moved on", func(t *testing.T) {
		m := strayed(t)
		m.NodeRemoved("A") // the add towards A ends; the hole is placed again later
		require.Empty(t, take(m))
		require.Len(t, m.Held(), 1, "held until C stops")
		require.NoError(t, m.StepStatus(status("C", 3, "d", ops.Stopped)))
		require.Empty(t, take(m), "then dropped: its operator is gone")
		require.Empty(t, m.Held())
		m.Tick()
		require.Equal(t, []string{"Create t1-e3-->B"}, take(m))
	})
}

// TestFromSnapshot: a maintainer recovered from a snapshot gathered elsewhere runs at
// once, with the snapshot's tables and checkpoint; a snapshot of another changefeed or
// epoch is refused.
func TestFromSnapshot(t *testing.T) {
	cfg := Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B"}}
	snap := protocol.Snapshot{Changefeed: cf, Epoch: 3, Checkpoint: 40, Tables: []ops.TableID{1},
		Answers: []protocol.BootstrapAnswer{answer("A", 3, protocol.Dispatcher{ID: "a", Span: left, State: ops.Working, Checkpoint: 50}), answer("B", 3)}}
	m, err := FromSnapshot(cfg, snap)
	require.NoError(t, err)
	require.False(t, m.Booting())
	require.Equal(t, []ops.TableID{1}, m.Tables())
	require.Equal(t, []ops.Task{{ID: "a", Span: left, Sched: ops.Replicating, Node: "A", Checkpoint: 50},
		{ID: "t1-e3-m", Span: right, Sched: ops.Absent, Checkpoint: 40}}, m.Controller().Tasks())
	m.Tick()
	require.Equal(t, []string{"Create t1-e3-m->B"}, take(m))

	for _, bad := range []Config{{Changefeed: "other", Epoch: 3}, {Changefeed: cf, Epoch: 4}} {
		_, err := FromSnapshot(bad, snap)
		require.ErrorIs(t, err, ErrInvalidConfig)
	}
}
