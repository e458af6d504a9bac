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
	require.NoError(t, c.AddMove("d1", "C"))
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
