package operators

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHandleStatusesAgreesWithHandleStatus: a batch through HandleStatuses, hints and
// all, does exactly what HandleStatus one status at a time does, round after round, while
// tasks come and go between rounds (deleted tasks, reused slots, stale hints), and calls
// after exactly for the statuses that changed an operator or asked for messages.
func TestHandleStatusesAgreesWithHandleStatus(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	batched, _ := fleet(t, 400)
	for i := range 300 {
		node := NodeID("n" + strconv.Itoa(i%100))
		require.NoError(t, batched.AddTask(Task{ID: DispatcherID("r" + strconv.Itoa(i)), Span: Span{Table: TableID(10_000 + i)}, Sched: Replicating, Node: node}))
	}
	single := batched.Clone()
	states := []ComponentState{Working, Working, Working, Stopped, Initializing, WaitingMerge, Removed}
	for round := range 40 {
		// One node's heartbeat: every id it might report, in a fixed order, some missing.
		node := NodeID("n" + strconv.Itoa(round%3))
		var ss []Status
		for _, task := range single.Tasks() {
			if task.Node == node || rng.IntN(40) == 0 {
				ss = append(ss, Status{ID: task.ID, State: states[rng.IntN(len(states))], Checkpoint: uint64(rng.IntN(100))})
			}
		}
		ss = append(ss, Status{ID: "orphan" + DispatcherID(strconv.Itoa(round)), State: Working})
		slices.SortFunc(ss, func(a, b Status) int { return cmpID(a.ID, b.ID) })
		for len(ss) < hintedBatch {
			ss = append(ss, ss...)
		}

		var want, got []string
		for i, s := range ss {
			before := len(single.changed)
			msgs := single.HandleStatus(node, s)
			if len(single.changed) > before || len(msgs) > 0 {
				want = append(want, fmt.Sprint(i, msgs))
			}
		}
		batched.HandleStatuses(node, ss, func(i int, msgs []Message) { got = append(got, fmt.Sprint(i, msgs)) })
		require.Equal(t, want, got, "round %d", round)
		require.Equal(t, single.Tasks(), batched.Tasks(), "round %d", round)
		require.Equal(t, single.Operators(), batched.Operators(), "round %d", round)
		require.Equal(t, single.AppendChanged(nil), batched.AppendChanged(nil))
		requireOpBits(t, batched)

		// Between rounds tasks go and come back in other slots, so some hints go stale.
		for _, task := range single.Tasks() {
			if rng.IntN(10) == 0 && single.DeleteTask(task.ID) == nil {
				require.NoError(t, batched.DeleteTask(task.ID))
				task.Sched, task.Node = Replicating, node
				if rng.IntN(2) == 0 {
					require.NoError(t, single.AddTask(task))
					require.NoError(t, batched.AddTask(task))
				}
			}
		}
		if round%7 == 3 {
			single.HandleNodeRemoved(NodeID("n" + strconv.Itoa(10+round)))
			batched.HandleNodeRemoved(NodeID("n" + strconv.Itoa(10+round)))
		}
		if round%5 == 1 {
			// Operators outlive their tasks: their statuses still reach them.
			for _, task := range single.Tasks()[:8] {
				single.HandleTableDropped(task.Span.Table)
				batched.HandleTableDropped(task.Span.Table)
			}
		}
	}
}

// requireOpBits: the registry marks exactly the tasks that have an operator.
func requireOpBits(t *testing.T, c *Controller) {
	t.Helper()
	for slot := uint32(0); slot < c.tasks.next; slot++ {
		task := c.tasks.at(slot)
		if task.ID == "" {
			require.False(t, c.tasks.opAt(slot), "free slot %d marked", slot)
			continue
		}
		_, has := c.ops[task.ID]
		require.Equal(t, has, c.tasks.opAt(slot), "task %s", task.ID)
	}
}

// TestOpBits: the marks follow operators starting and finishing, tasks added under an
// operator that outlived its task, and batches of tasks.
func TestOpBits(t *testing.T) {
	c := world(t)
	requireOpBits(t, c)
	require.NoError(t, c.StartMove("d1", "C"))
	requireOpBits(t, c)
	c.HandleTableDropped(100) // removes without tasks
	requireOpBits(t, c)
	require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(300, "", ""), Sched: Absent}))
	require.Nil(t, c.AddTasks([]Task{{ID: "d2", Span: span(301, "", ""), Sched: Absent}, {ID: "n", Span: span(302, "", ""), Sched: Absent}}))
	requireOpBits(t, c)
	slot, ok := c.tasks.lookup("d1", c.tasks.hash("d1"))
	require.True(t, ok)
	require.True(t, c.tasks.opAt(slot), "d1's remove outlived its old task and owns the new one")
	c.HandleStatus("B", Status{ID: "d1", State: Stopped})
	requireOpBits(t, c)
	require.False(t, c.tasks.opAt(slot))
	d2, _ := c.tasks.lookup("d2", c.tasks.hash("d2"))
	require.True(t, c.tasks.opAt(d2), "d2's remove owns the task a batch added")
	require.True(t, c.Clone().tasks.opAt(d2))
}

// TestHints: a heartbeat (hintedBatch statuses or more) leaves, per node and position, the
// slot its task was found in (0 where none was); a short batch leaves none; a hint whose
// task moved to another slot is corrected by the next heartbeat.
func TestHints(t *testing.T) {
	c := NewController(Config{Changefeed: cf, Epoch: 2})
	var ss []Status
	for i := range hintedBatch {
		id := DispatcherID("d" + strconv.Itoa(100+i))
		require.NoError(t, c.AddTask(Task{ID: id, Span: span(TableID(i), "", ""), Sched: Replicating, Node: "B"}))
		ss = append(ss, Status{ID: id, State: Working})
	}
	ss = append(ss, Status{ID: "missing", State: Stopped})
	c.HandleStatuses("B", ss[:hintedBatch-1], nil)
	require.Empty(t, c.hints, "a short batch keeps no hints")
	c.HandleStatuses("B", ss[:hintedBatch], nil)
	require.Len(t, c.hints["B"], hintedBatch, "a heartbeat of hintedBatch statuses keeps them")
	c.HandleStatuses("B", ss, nil)
	slotOf := func(id DispatcherID) uint32 {
		slot, ok := c.tasks.lookup(id, c.tasks.hash(id))
		require.True(t, ok)
		return slot
	}
	want := make([]uint32, len(ss))
	for i, s := range ss[:hintedBatch] {
		want[i] = slotOf(s.ID) + 1
	}
	require.Equal(t, want, c.hints["B"], "grown to the longer heartbeat, no longer")

	// d100 leaves its slot and comes back in another; its status still finds it.
	require.NoError(t, c.DeleteTask("d100"))
	require.NoError(t, c.AddTask(Task{ID: "z", Span: span(1000, "", ""), Sched: Absent}))
	require.NoError(t, c.AddTask(Task{ID: "d100", Span: span(100, "", ""), Sched: Replicating, Node: "B", Checkpoint: 1}))
	ss[0].Checkpoint = 9
	c.HandleStatuses("B", ss, nil)
	require.Equal(t, slotOf("d100")+1, c.hints["B"][0])
	require.Equal(t, uint64(9), taskOf(c, "d100").Checkpoint)
	require.Empty(t, c.Clone().hints, "a clone starts without the cache")

	// Hints found every task a heartbeat names but d100, which moved, and the missing one:
	// only those two are found by hash, then only the missing one; a shorter heartbeat
	// keeps the hints as long as they were.
	before := c.lookups
	c.HandleStatuses("B", ss, nil)
	require.Equal(t, uint64(1), c.lookups-before, "the missing id, which no hint names")
	c.HandleStatuses("B", ss[:hintedBatch], nil)
	require.Equal(t, uint64(1), c.lookups-before)
	require.Len(t, c.hints["B"], len(ss))
}

// TestStoppedUnderAnotherTask: a dispatcher that stops although its task wants it leaves
// the task Absent, also inside the span of another task that is not Replicating; inside a
// Replicating task's span it is a late merge source, whose task goes (C8).
func TestStoppedUnderAnotherTask(t *testing.T) {
	for _, tc := range []struct {
		cover Sched
		gone  bool
	}{{Absent, false}, {Replicating, true}} {
		c := NewController(Config{Changefeed: cf, Epoch: 2})
		require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "B"}))
		cover := Task{ID: "all", Span: span(100, "", ""), Sched: tc.cover}
		if tc.cover != Absent {
			cover.Node = "C"
		}
		require.NoError(t, c.AddTask(cover))
		c.HandleStatus("B", Status{ID: "d1", State: Stopped})
		task, ok := c.Task("d1")
		require.Equal(t, !tc.gone, ok, "under a %s task", tc.cover)
		if ok {
			require.Equal(t, Absent, task.Sched)
		}
	}
}

// TestHandleStatusesReachesOperatorsWithoutTasks: in a heartbeat, a status for an id whose
// task is gone but whose remove operator is not (a dropped table) reaches the operator.
func TestHandleStatusesReachesOperatorsWithoutTasks(t *testing.T) {
	c := world(t)
	c.HandleTableDropped(100) // removes for d1 and d2, no tasks
	ss := make([]Status, 0, hintedBatch)
	for len(ss) < hintedBatch {
		ss = append(ss, Status{ID: "d3", State: Working})
	}
	ss[5] = Status{ID: "d1", State: Stopped}
	ss[7] = Status{ID: "d2", State: Working}
	var called []int
	c.HandleStatuses("B", ss, func(i int, msgs []Message) { called = append(called, i) })
	require.Equal(t, []int{5}, called, "d1's remove finished; d2's ignored Working")
	_, busy := c.Operator("d1")
	require.False(t, busy)
	_, busy = c.Operator("d2")
	require.True(t, busy)
	requireOpBits(t, c)
}

// TestOpBitsAfterMerge: a merge's finish deletes its sources while their occupy operators
// still hold them; the slots they leave carry no mark into the tasks that reuse them.
func TestOpBitsAfterMerge(t *testing.T) {
	c := world(t)
	require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
	requireOpBits(t, c)
	c.HandleStatus("B", Status{ID: "dm", State: Working})
	requireOpBits(t, c)
	for i := range 4 {
		require.NoError(t, c.AddTask(Task{ID: DispatcherID("n" + strconv.Itoa(i)), Span: span(TableID(500+i), "", ""), Sched: Absent}))
	}
	requireOpBits(t, c)
}
