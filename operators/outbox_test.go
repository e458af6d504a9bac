package operators

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendChanged: the controller names every operator that started, moved to another
// state or finished since the last call, and forgets them; a status that changes no
// state names nothing.
func TestAppendChanged(t *testing.T) {
	c := world(t)
	require.Empty(t, c.AppendChanged(nil))
	require.NoError(t, c.StartMove("d1", "C"))
	require.Equal(t, []DispatcherID{"d1"}, c.AppendChanged(nil))
	require.Empty(t, c.AppendChanged(nil), "forgotten once taken")
	c.HandleStatus("B", Status{ID: "d1", State: Working})
	require.Empty(t, c.AppendChanged(nil), "an ignored status changes no state")
	c.HandleStatus("B", Status{ID: "d1", State: Stopped})
	buf := c.AppendChanged([]DispatcherID{"x"})
	require.Equal(t, []DispatcherID{"x", "d1"}, buf, "appended to what the caller passed")
	c.HandleStatus("C", Status{ID: "d1", State: Working})
	require.Equal(t, []DispatcherID{"d1", "d1"}, c.AppendChanged(nil), "its last transition, then its finish")
	c = world(t)
	require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
	require.Equal(t, []DispatcherID{"d1", "d2", "dm"}, c.AppendChanged(nil))
	clone := c.Clone()
	c.HandleNodeRemoved("B")
	require.NotEmpty(t, c.AppendChanged(nil))
	require.Empty(t, clone.AppendChanged(nil), "a clone keeps its own list")
}

// TestRequest: an operator's current request, the one Pending lists for it.
func TestRequest(t *testing.T) {
	c := world(t)
	_, ok := c.Request("d1")
	require.False(t, ok, "no operator")
	require.NoError(t, c.StartMove("d1", "C"))
	msg, ok := c.Request("d1")
	require.True(t, ok)
	require.Equal(t, c.Pending(), []Message{msg})
	c = world(t)
	require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
	_, ok = c.Request("d1")
	require.False(t, ok, "an occupy sends nothing")
	msg, ok = c.Request("dm")
	require.True(t, ok)
	require.Equal(t, Message{To: "B", Kind: Merge, Record: mustOp(t, c, "dm")}, msg)
	require.Equal(t, uint64(7), msg.Record.Checkpoint, "the lowest source checkpoint")
	c = world(t)
	require.NoError(t, c.StartSplit("d1", []Span{span(100, "", "f"), span(100, "f", "m")}, nil))
	msg, ok = c.Request("d1")
	require.True(t, ok, "a running split asks its origin to remove the original")
	require.Equal(t, Message{To: "B", Kind: Remove, Record: mustOp(t, c, "d1")}, msg)
	require.Equal(t, []Message{msg}, c.Pending())
}

// TestCheckpointsTravel: a Create carries its task's checkpoint; the checkpoint an
// operator hears of (a move's origin stopping at 9) is where its task starts afterwards.
func TestCheckpointsTravel(t *testing.T) {
	c := world(t)
	require.NoError(t, c.StartMove("d1", "C"))
	c.HandleStatus("B", Status{ID: "d1", State: Stopped, Checkpoint: 12})
	msg, ok := c.Request("d1")
	require.True(t, ok)
	require.Equal(t, Create, msg.Kind)
	require.Equal(t, uint64(12), msg.Record.Checkpoint)
	c.HandleStatus("C", Status{ID: "d1", State: Working, Checkpoint: 11})
	require.Equal(t, uint64(12), taskOf(c, "d1").Checkpoint, "never backwards")
	c.HandleStatus("C", Status{ID: "d1", State: Working, Checkpoint: 15})
	require.Equal(t, uint64(15), taskOf(c, "d1").Checkpoint, "without operator the task follows its reports")

	require.NoError(t, c.AddTask(Task{ID: "n", Span: span(300, "", ""), Sched: Absent, Checkpoint: 33}))
	require.NoError(t, c.ScheduleAbsent("n", "C"))
	msg, _ = c.Request("n")
	require.Equal(t, uint64(33), msg.Record.Checkpoint, "an add starts at its task's checkpoint")
	c.HandleNodeRemoved("C")
	require.Equal(t, Task{ID: "n", Span: span(300, "", ""), Sched: Absent, Checkpoint: 33}, taskOf(c, "n"))
}

// TestEachOperatorAndPending: EachOperator and EachPending walk what Operators and Pending
// list, in their order, with the same records, allocating nothing for a few operators and
// sorting as many as there are beyond the stack buffer; Operators' records stay copies the
// caller may change.
func TestEachOperatorAndPending(t *testing.T) {
	many := func(t *testing.T) *Controller {
		c := NewController(Config{Changefeed: cf, Epoch: 2})
		for i := range smallOps + 5 {
			id := DispatcherID(fmt.Sprintf("d%02d", smallOps+5-i)) // inserted out of order
			require.NoError(t, c.AddTask(Task{ID: id, Span: span(TableID(i+1), "", ""), Sched: Replicating, Node: "B"}))
			require.NoError(t, c.StartMove(id, "C"))
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) *Controller
		ops   int
	}{
		{"none", world, 0},
		{"move", func(t *testing.T) *Controller {
			c := world(t)
			require.NoError(t, c.StartMove("d1", "C"))
			return c
		}, 1},
		{"merge and its occupies", func(t *testing.T) *Controller {
			c := world(t)
			require.NoError(t, c.StartMerge([]DispatcherID{"d1", "d2"}, "dm"))
			return c
		}, 3},
		{"split", func(t *testing.T) *Controller {
			c := world(t)
			require.NoError(t, c.StartSplit("d1", []Span{span(100, "", "f"), span(100, "f", "m")}, []NodeID{"B", "C"}))
			return c
		}, 1},
		{"more than the stack holds", many, smallOps + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.setup(t)
			var recs []Record
			c.EachOperator(func(r Record) { recs = append(recs, r) })
			require.Len(t, recs, tc.ops)
			if tc.ops == 0 {
				require.Empty(t, c.Operators())
			} else {
				require.Equal(t, c.Operators(), recs)
			}
			var msgs []Message
			c.EachPending(func(m Message) { msgs = append(msgs, m) })
			require.Equal(t, c.Pending(), msgs)
			if tc.ops <= smallOps {
				n := 0
				require.Zero(t, testing.AllocsPerRun(20, func() {
					c.EachOperator(func(Record) { n++ })
					c.EachPending(func(Message) { n++ })
				}))
			}
			before := fmt.Sprint(c.Operators())
			for _, r := range c.Operators() { // copies: changing them changes no operator
				for i := range r.SplitSpans {
					r.SplitSpans[i].Start, r.SplitTargets[i] = "zz", "Z"
				}
				for i := range r.Sources {
					r.Sources[i] = "zz"
				}
			}
			require.Equal(t, before, fmt.Sprint(c.Operators()))
		})
	}
}
