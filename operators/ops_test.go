package operators

import (
	"github.com/opfsm/opfsm/fsm"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const cf = ChangefeedID("cf")

func span(table TableID, start, end string) Span { return Span{Table: table, Start: start, End: end} }

// world is a controller with tasks d1 = 100[,m) and d2 = 100[m,) Replicating on B, and
// d3 = 200[,) Absent.
func world(t *testing.T) *Controller {
	t.Helper()
	c := NewController(Config{Changefeed: cf, Epoch: 2})
	require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "B", Checkpoint: 10}))
	require.NoError(t, c.AddTask(Task{ID: "d2", Span: span(100, "m", ""), Sched: Replicating, Node: "B", Checkpoint: 7}))
	require.NoError(t, c.AddTask(Task{ID: "d3", Span: span(200, "", ""), Sched: Absent}))
	return c
}

// event is one input to the controller.
type event func(c *Controller)

func status(from NodeID, id DispatcherID, st ComponentState) event {
	return func(c *Controller) { c.HandleStatus(from, Status{ID: id, State: st}) }
}
func nodeLost(n NodeID) event  { return func(c *Controller) { c.HandleNodeRemoved(n) } }
func dropped(tb TableID) event { return func(c *Controller) { c.HandleTableDropped(tb) } }
func taskOf(c *Controller, id DispatcherID) Task {
	t, _ := c.Task(id)
	return t
}

func TestAdd(t *testing.T) {
	cases := []struct {
		row    string
		events []event
		state  string // operator state, "" when finished
		task   Task
	}{
		{"1.1 New Start() -> Running, task Scheduling on dest", nil, "Running",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Scheduling, Node: "C"}},
		{"1.1 Running Check(dest, Working) -> DoneOK, PostFinish MarkSpanReplicating", []event{status("C", "d3", Working)}, "",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Replicating, Node: "C"}},
		{"1.1 Running Check(dest, Removed) -> DoneRemoved, PostFinish MarkSpanAbsent", []event{status("C", "d3", Removed)}, "",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Absent}},
		{"1.1 Running Check(dest, Stopped) ignored", []event{status("C", "d3", Stopped)}, "Running",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Scheduling, Node: "C"}},
		{"1.1 Running Check(other node, Working) ignored", []event{status("B", "d3", Working)}, "Running",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Scheduling, Node: "C"}},
		{"1.1 Running OnNodeRemove(dest) -> DoneRemoved, span Absent for a retry elsewhere", []event{nodeLost("C")}, "",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Absent}},
		{"1.1 Running OnNodeRemove(other) ignored", []event{nodeLost("B")}, "Running",
			Task{ID: "d3", Span: span(200, "", ""), Sched: Scheduling, Node: "C"}},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.ScheduleAbsent("d3", "C"))
			for _, e := range tc.events {
				e(c)
			}
			requireOp(t, c, "d3", tc.state)
			require.Equal(t, tc.task, taskOf(c, "d3"))
		})
	}
	t.Run("1.1 OnTaskRemoved (DROP) -> DoneRemoved, task deleted, no ghost", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.ScheduleAbsent("d3", "C"))
		c.HandleTableDropped(200)
		_, ok := c.Task("d3")
		require.False(t, ok)
		requireOp(t, c, "d3", "Running") // replaced by a remove of the half-created dispatcher
		rec, _ := c.Operator("d3")
		require.Equal(t, TypeRemove, rec.Type)
		require.Equal(t, NodeID("C"), rec.Origin)
	})
}

func TestRemove(t *testing.T) {
	cases := []struct {
		row    string
		events []event
		state  string
		exists bool
	}{
		{"1.2 Running Check(node, Stopped) -> Done, hook deletes the task", []event{status("B", "d1", Stopped)}, "", false},
		{"1.2 Running Check(node, Removed) -> Done", []event{status("B", "d1", Removed)}, "", false},
		{"1.2 Running Check(node, Working) ignored", []event{status("B", "d1", Working)}, "Running", true},
		{"1.2 Running Check(node, WaitingMerge) ignored", []event{status("B", "d1", WaitingMerge)}, "Running", true},
		{"1.2 Running Check(other node, Stopped) ignored", []event{status("C", "d1", Stopped)}, "Running", true},
		{"1.2 Running OnNodeRemove(node) -> Done, hook runs", []event{nodeLost("B")}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.StartRemove("d1"))
			for _, e := range tc.events {
				e(c)
			}
			requireOp(t, c, "d1", tc.state)
			_, ok := c.Task("d1")
			require.Equal(t, tc.exists, ok)
		})
	}
	t.Run("1.2 Running OnTaskRemoved -> Cancelled, hook skipped", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartRemove("d1"))
		obs := &recorder{}
		c.cfg.Observer = obs
		c.HandleTableDropped(100)
		require.Contains(t, obs.seen, "remove d1 Running->Cancelled")
		rec, ok := c.Operator("d1")
		require.True(t, ok)
		require.Equal(t, HookNone, rec.Hook)
	})
}

func TestMove(t *testing.T) {
	cases := []struct {
		row    string
		events []event
		state  string
		task   Task
	}{
		{"1.3 Start() -> removeOrigin, MarkSpanScheduling (node still origin)", nil, "RemoveOrigin",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "B", Checkpoint: 10}},
		{"1.3 removeOrigin Check(origin, Working) ignored", []event{status("B", "d1", Working)}, "RemoveOrigin",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "B", Checkpoint: 10}},
		{"1.3 removeOrigin Check(origin, non-Working) -> addDest, BindSpanToNode(origin, dest)", []event{status("B", "d1", Stopped)}, "AddDest",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "C", Checkpoint: 10}},
		{"1.3 removeOrigin OnNodeRemove(origin) -> addDest", []event{nodeLost("B")}, "AddDest",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "C", Checkpoint: 10}},
		{"1.3 removeOrigin OnNodeRemove(dest) -> abortRemoveOrigin", []event{nodeLost("C")}, "AbortRemoveOrigin",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "B", Checkpoint: 10}},
		{"1.3 abortRemoveOrigin Check(origin, non-Working) -> MarkSpanAbsent, done", []event{nodeLost("C"), status("B", "d1", Stopped)}, "",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 10}},
		{"1.3 abortRemoveOrigin OnNodeRemove(origin) -> MarkSpanAbsent, done", []event{nodeLost("C"), nodeLost("B")}, "",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 10}},
		{"1.3 addDest Check(dest, Working) -> doneSuccess, MarkSpanReplicating", []event{status("B", "d1", Stopped), status("C", "d1", Working)}, "",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "C", Checkpoint: 10}},
		{"1.3 addDest Check(dest, Initializing) ignored", []event{status("B", "d1", Stopped), status("C", "d1", Initializing)}, "AddDest",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "C", Checkpoint: 10}},
		{"1.3 addDest OnNodeRemove(dest) -> MarkSpanAbsent, done", []event{status("B", "d1", Stopped), nodeLost("C")}, "",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 10}},
		{"1.3 addDest OnNodeRemove(origin) nothing", []event{status("B", "d1", Stopped), nodeLost("B")}, "AddDest",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Scheduling, Node: "C", Checkpoint: 10}},
		{"1.3 both nodes removed: origin then dest -> Absent with empty node", []event{nodeLost("B"), nodeLost("C")}, "",
			Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.StartMove("d1", "C"))
			for _, e := range tc.events {
				e(c)
			}
			requireOp(t, c, "d1", tc.state)
			require.Equal(t, tc.task, taskOf(c, "d1"))
		})
	}
	t.Run("1.3 Start() with origin == dest -> doneSuccess", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMove("d1", "B"))
		requireOp(t, c, "d1", "")
		require.Equal(t, Replicating, taskOf(c, "d1").Sched)
	})
	t.Run("1.3 any OnTaskRemoved -> MarkSpanReplicating, the DDL remove targets the node", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMove("d1", "C"))
		c.HandleStatus("B", Status{ID: "d1", State: Stopped})
		c.HandleTableDropped(100)
		rec, ok := c.Operator("d1")
		require.True(t, ok)
		require.Equal(t, TypeRemove, rec.Type)
		require.Equal(t, NodeID("C"), rec.Origin, "the remove goes to the node the task was bound to")
	})
	t.Run("1.3 Create is sent to dest only after origin stopped (S9)", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMove("d1", "C"))
		require.Equal(t, []Message{{To: "B", Kind: Remove, Record: mustOp(t, c, "d1")}}, c.Pending())
		c.HandleStatus("B", Status{ID: "d1", State: Stopped})
		msgs := c.Pending()
		require.Len(t, msgs, 1)
		require.Equal(t, Create, msgs[0].Kind)
		require.Equal(t, NodeID("C"), msgs[0].To)
		require.Equal(t, MoveAddDest, msgs[0].Record.State)
	})
}

func TestSplit(t *testing.T) {
	spans := []Span{span(100, "", "f"), span(100, "f", "m")}
	t.Run("1.4 Start() MarkSpanScheduling; Check(origin, non-Working) -> Done, ReplaceReplicaSet onto targets", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartSplit("d1", spans, []NodeID{"B", "C"}))
		require.Equal(t, Scheduling, taskOf(c, "d1").Sched)
		c.HandleStatus("B", Status{ID: "d1", State: Working})
		requireOp(t, c, "d1", "Running")
		c.HandleStatus("B", Status{ID: "d1", State: Stopped, Checkpoint: 12})
		requireOp(t, c, "d1", "")
		_, ok := c.Task("d1")
		require.False(t, ok)
		require.Equal(t, Task{ID: "d1.2.1", Span: spans[0], Sched: Scheduling, Node: "B", Checkpoint: 12}, taskOf(c, "d1.2.1"))
		require.Equal(t, Task{ID: "d1.2.2", Span: spans[1], Sched: Scheduling, Node: "C", Checkpoint: 12}, taskOf(c, "d1.2.2"))
		requireOp(t, c, "d1.2.1", "Running")
		requireOp(t, c, "d1.2.2", "Running")
	})
	t.Run("1.4 Done without aligned targets: new tasks Absent", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartSplit("d1", spans, nil))
		c.HandleStatus("B", Status{ID: "d1", State: Stopped})
		require.Equal(t, Absent, taskOf(c, "d1.2.1").Sched)
		requireOp(t, c, "d1.2.1", "")
	})
	for _, tc := range []struct {
		row string
		ev  event
	}{
		{"1.4 Running OnNodeRemove(origin) -> Aborted, original Absent with the same id", nodeLost("B")},
	} {
		t.Run(tc.row, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.StartSplit("d1", spans, nil))
			tc.ev(c)
			requireOp(t, c, "d1", "")
			require.Equal(t, Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 10}, taskOf(c, "d1"))
		})
	}
	t.Run("targets not one per span: accepted, new tasks Absent for a scheduler", func(t *testing.T) {
		for _, targets := range [][]NodeID{{"C"}, {"B", "C", "B"}, {"B", ""}} {
			c := world(t)
			require.NoError(t, c.StartSplit("d1", spans, targets), "%v", targets)
			rec := mustOp(t, c, "d1")
			require.Empty(t, rec.SplitTargets)
			c.HandleStatus("B", Status{ID: "d1", State: Stopped})
			require.Equal(t, Absent, taskOf(c, "d1.2.1").Sched)
			require.Equal(t, Absent, taskOf(c, "d1.2.2").Sched)
		}
	})
	for _, tc := range []struct {
		name  string
		spans []Span
		msg   string
	}{
		{"a gap", []Span{span(100, "", "f"), span(100, "g", "m")}, "100[g,m) does not follow 100[,f)"},
		{"one span", []Span{span(100, "", "m")}, "1 spans: a split needs two or more"},
		{"not to the end", []Span{span(100, "", "f"), span(100, "f", "k")}, "100[f,k) does not end 100[,m)"},
		{"another table", []Span{span(100, "", "f"), span(101, "f", "m")}, "101[f,m) is not a part of 100[,m)"},
	} {
		t.Run("refused: spans that do not tile the task: "+tc.name, func(t *testing.T) {
			c := world(t)
			err := c.StartSplit("d1", tc.spans, nil)
			require.ErrorIs(t, err, ErrSplitSpans)
			require.EqualError(t, err, "operators: split operator for d1 refused: invalid split spans: "+tc.msg, "an API call's error, not a decoder's")
			require.Equal(t, Replicating, taskOf(c, "d1").Sched, "nothing changed")
		})
	}
}

func TestMerge(t *testing.T) {
	t.Run("1.5 Start(): occupy per source, merged Scheduling on origin at min checkpoint", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMerge([]DispatcherID{"d2", "d1"}, "dm"))
		require.Equal(t, Task{ID: "dm", Span: span(100, "", ""), Sched: Scheduling, Node: "B", Checkpoint: 7}, taskOf(c, "dm"))
		requireOp(t, c, "d1", "Holding")
		requireOp(t, c, "d2", "Holding")
		rec := mustOp(t, c, "dm")
		require.Equal(t, []DispatcherID{"d1", "d2"}, rec.Sources)
		require.Equal(t, []Message{{To: "B", Kind: Merge, Record: rec}}, c.Pending())
	})
	cases := []struct {
		row     string
		events  []event
		state   string
		merged  *Task
		sources Sched
	}{
		{"1.5 Running Check(origin, Working) merged -> DoneOK: sources deleted, merged Replicating", []event{status("B", "dm", Working)}, "",
			&Task{ID: "dm", Span: span(100, "", ""), Sched: Replicating, Node: "B", Checkpoint: 7}, 255},
		{"1.5 Running merged Initializing (commit point) keeps waiting", []event{status("B", "dm", Initializing)}, "Running",
			&Task{ID: "dm", Span: span(100, "", ""), Sched: Scheduling, Node: "B", Checkpoint: 7}, Scheduling},
		{"1.5 source WaitingMerge goes to its occupy operator (no-op)", []event{status("B", "d1", WaitingMerge)}, "Running",
			&Task{ID: "dm", Span: span(100, "", ""), Sched: Scheduling, Node: "B", Checkpoint: 7}, Scheduling},
		{"1.5 Running OnNodeRemove(origin) -> AbortedNode: sources Absent, merged deleted", []event{nodeLost("B")}, "", nil, Absent},
	}
	for _, tc := range cases {
		t.Run(tc.row, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
			for _, e := range tc.events {
				e(c)
			}
			requireOp(t, c, "dm", tc.state)
			got, ok := c.Task("dm")
			if tc.merged == nil {
				require.False(t, ok)
			} else {
				require.Equal(t, *tc.merged, got)
			}
			for _, s := range []DispatcherID{"d1", "d2"} {
				st, ok := c.Task(s)
				if tc.sources == 255 {
					require.False(t, ok)
					continue
				}
				require.Equal(t, tc.sources, st.Sched)
				if tc.state == "" {
					requireOp(t, c, s, "") // occupy released at the end of PostFinish
				}
			}
		})
	}
	t.Run("1.5 Running OnTaskRemoved (DDL) -> AbortedDDL, then remove operators for every bound task", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
		c.HandleTableDropped(100)
		for _, id := range []DispatcherID{"d1", "d2", "dm"} {
			rec := mustOp(t, c, id)
			require.Equal(t, TypeRemove, rec.Type, id)
			_, ok := c.Task(id)
			require.False(t, ok)
		}
	})
	t.Run("late source Stopped after the merge finished is ignored (no task, no operator)", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
		c.HandleStatus("B", Status{ID: "dm", State: Working})
		require.Empty(t, c.HandleStatus("B", Status{ID: "d1", State: Stopped}))
		tasks, ops := c.Len()
		require.Equal(t, 2, tasks) // dm and d3
		require.Zero(t, ops)
	})
	refusals := []struct {
		name    string
		sources []DispatcherID
		merged  DispatcherID
		err     error
	}{
		{"fewer than two sources", []DispatcherID{"d1"}, "dm", ErrMergeSources},
		{"duplicate source", []DispatcherID{"d1", "d1"}, "dm", ErrMergeSources},
		{"unknown source", []DispatcherID{"d1", "dx"}, "dm", ErrUnknownTask},
		{"merged id taken", []DispatcherID{"d1", "d2"}, "d3", ErrTaskExists},
		{"different tables", []DispatcherID{"d1", "d4"}, "dm", ErrMergeSources},
		{"not adjacent", []DispatcherID{"d1", "d5"}, "dm", ErrMergeSources},
		{"different nodes", []DispatcherID{"d2", "d6"}, "dm", ErrMergeSources},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			c := world(t)
			require.NoError(t, c.AddTask(Task{ID: "d4", Span: span(300, "m", ""), Sched: Replicating, Node: "B"}))
			require.NoError(t, c.AddTask(Task{ID: "d5", Span: span(100, "x", "z"), Sched: Replicating, Node: "B"}))
			require.NoError(t, c.AddTask(Task{ID: "d6", Span: span(100, "", "m"), Sched: Replicating, Node: "C"}))
			before := c.Tasks()
			err := c.StartMerge(tc.sources, tc.merged)
			require.ErrorIs(t, err, tc.err)
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			require.Equal(t, before, c.Tasks(), "a refused merge changes nothing")
			_, ops := c.Len()
			require.Zero(t, ops)
		})
	}
}

func TestOccupy(t *testing.T) {
	t.Run("1.6 OnNodeRemove(node) -> Lost, source Absent", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
		c.HandleNodeRemoved("B")
		requireOp(t, c, "d1", "")
		require.Equal(t, Absent, taskOf(c, "d1").Sched)
	})
	t.Run("1.6 another node's loss leaves the occupy Holding", func(t *testing.T) {
		c := world(t)
		require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
		c.HandleNodeRemoved("C")
		requireOp(t, c, "d1", "Holding")
		require.Equal(t, Scheduling, taskOf(c, "d1").Sched)
	})
	// An occupy restored alone (its merge decided elsewhere) shows its own finish effects.
	alone := func(t *testing.T) *Controller {
		c := world(t)
		require.NoError(t, c.Restore(Record{Changefeed: cf, ID: "d1", Type: TypeOccupy, State: OccupyHolding, Epoch: 2,
			Span: span(100, "", "m"), Origin: "B"}))
		return c
	}
	t.Run("1.6 alone: Lost marks its source Absent", func(t *testing.T) {
		c := alone(t)
		c.HandleNodeRemoved("B")
		requireOp(t, c, "d1", "")
		require.Equal(t, Absent, taskOf(c, "d1").Sched)
	})
}

func TestControllerRefusals(t *testing.T) {
	c := world(t)
	require.NoError(t, c.StartMove("d1", "C"))
	require.ErrorIs(t, c.StartMove("d1", "A"), ErrOperatorExists)
	require.ErrorIs(t, c.StartRemove("d1"), ErrOperatorExists)
	require.ErrorIs(t, c.ScheduleAbsent("nope", "A"), ErrUnknownTask)
	require.ErrorIs(t, c.ScheduleAbsent("d2", "A"), ErrTaskState)
	require.ErrorIs(t, c.StartRemove("d3"), ErrTaskState)
	require.ErrorIs(t, c.ScheduleAbsent("d3", ""), ErrInvalidRecord)
	require.ErrorIs(t, c.AddTask(Task{ID: "d1", Span: span(1, "", "")}), ErrTaskExists)
	require.ErrorIs(t, c.AddTask(Task{ID: "x", Span: span(1, "b", "a")}), ErrInvalidSpan)
	require.ErrorIs(t, c.AddTask(Task{ID: "x", Span: span(1, "", ""), Sched: Replicating}), ErrTaskState)
	require.ErrorIs(t, c.DeleteTask("d1"), ErrOperatorExists)
	require.ErrorIs(t, c.DeleteTask("zz"), ErrUnknownTask)
	require.NoError(t, c.DeleteTask("d2"))
}

func TestStatusWithoutOperator(t *testing.T) {
	c := world(t)
	// An orphan reporting Working gets a one-shot Remove (3.6).
	msgs := c.HandleStatus("C", Status{ID: "ghost", State: Working})
	require.Len(t, msgs, 1)
	require.Equal(t, NodeID("C"), msgs[0].To)
	require.Equal(t, Remove, msgs[0].Kind)
	// A non-Working orphan is ignored.
	require.Empty(t, c.HandleStatus("C", Status{ID: "ghost", State: Stopped}))
	// A report from a node the task is not bound to is ignored (G1).
	c.HandleStatus("C", Status{ID: "d1", State: Stopped})
	require.Equal(t, Replicating, taskOf(c, "d1").Sched)
	// The bound node's checkpoint is kept when it rises.
	c.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: 20})
	require.Equal(t, uint64(20), taskOf(c, "d1").Checkpoint)
	// Stopped without an operator: Absent (lost-operator fallback).
	c.HandleStatus("B", Status{ID: "d1", State: Stopped})
	require.Equal(t, Task{ID: "d1", Span: span(100, "", "m"), Sched: Absent, Checkpoint: 20}, taskOf(c, "d1"))
}

func TestNodeRemovedMarksTasksWithoutOperatorAbsent(t *testing.T) {
	c := world(t)
	require.NoError(t, c.StartMove("d1", "C"))
	c.HandleNodeRemoved("B")
	require.Equal(t, Absent, taskOf(c, "d2").Sched)
	requireOp(t, c, "d1", "AddDest")
}

func TestRestore(t *testing.T) {
	c := world(t)
	rec := Record{Changefeed: cf, ID: "d1", Type: TypeMove, State: MoveAddDest, Epoch: 1, Span: span(100, "", "m"), Origin: "B", Dest: "C"}
	require.NoError(t, c.Restore(rec))
	got := mustOp(t, c, "d1")
	require.Equal(t, MoveAddDest, got.State)
	require.Equal(t, NodeID("C"), got.Dest)
	require.Equal(t, Epoch(2), got.Epoch, "restored operators carry the new epoch")
	require.ErrorIs(t, c.Restore(rec), ErrOperatorExists)
	other := rec
	other.Changefeed = "other"
	require.ErrorIs(t, c.Restore(other), ErrWrongChangefeed)
	bad := rec
	bad.ID, bad.State = "d2", fsm.State(200)
	require.Error(t, c.Restore(bad))
	noTask := rec
	noTask.ID = "zz"
	require.ErrorIs(t, c.Restore(noTask), ErrUnknownTask)
}

// TestEveryTriggerHandled proves that Controller.fire never meets an unhandled trigger: in
// every non-terminal state, every trigger the event mappings can produce is permitted or
// explicitly ignored.
func TestEveryTriggerHandled(t *testing.T) {
	nodes := []NodeID{"A", "B", "C"}
	for typ := TypeAdd; typ <= TypeOccupy; typ++ {
		def := defs[typ]
		for s := range def.States() {
			o := &Operator{id: "x", typ: typ, state: fsmState(s), origin: "A", dest: "B"}
			if o.Done() {
				continue
			}
			var trig []uint8
			for _, n := range nodes {
				for st := Initializing; st <= Removed; st++ {
					trig = append(trig, uint8(kinds[typ].statusTrigger(o, n, st)))
				}
				trig = append(trig, uint8(kinds[typ].nodeLostTrigger(o, n)))
			}
			trig = append(trig, uint8(kinds[typ].taskRemovedTrigger()))
			for _, tr := range trig {
				if tr == uint8(noTrigger) {
					continue
				}
				require.True(t, def.Can(o.state, fsmTrigger(tr)), "%s %s cannot handle %s", typ, def.StateName(o.state), def.TriggerName(fsmTrigger(tr)))
			}
		}
	}
}

func requireOp(t *testing.T, c *Controller, id DispatcherID, state string) {
	t.Helper()
	rec, ok := c.Operator(id)
	if state == "" {
		require.False(t, ok, "operator %s should be finished, is %s", id, rec.StateName())
		return
	}
	require.True(t, ok, "operator %s missing", id)
	require.Equal(t, state, rec.StateName())
}

func mustOp(t *testing.T, c *Controller, id DispatcherID) Record {
	t.Helper()
	rec, ok := c.Operator(id)
	require.True(t, ok, "operator %s missing", id)
	return rec
}

func TestLogging(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := NewController(Config{Changefeed: cf, Epoch: 2, Logger: zap.New(core)})
	require.NoError(t, c.AddTask(Task{ID: "d3", Span: span(200, "", ""), Sched: Absent}))
	require.NoError(t, c.ScheduleAbsent("d3", "C"))
	require.ErrorIs(t, c.ScheduleAbsent("d3", "C"), ErrOperatorExists)
	c.HandleStatus("C", Status{ID: "d3", State: Working})
	var msgs []string
	for _, e := range logs.All() {
		msgs = append(msgs, e.Message)
	}
	require.Equal(t, []string{"operator added", "operator refused", "operator finished"}, msgs)
	require.Equal(t, "d3", logs.All()[1].ContextMap()["id"])
}
