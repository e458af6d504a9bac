package operators

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// snapshot is a controller's tasks and operators as text: a copy that shares nothing with
// the controller, so a change made in place anywhere shows as a difference.
func snapshot(c *Controller) string { return fmt.Sprint(c.Tasks(), c.Operators()) }

// cloneWorld is world with a move of d1 (B to C), a merge of d2 with a neighbour
// (its occupies included) and a split of d4, all in flight.
func cloneWorld(t *testing.T) *Controller {
	t.Helper()
	c := world(t)
	require.NoError(t, c.AddTask(Task{ID: "d4", Span: span(300, "", ""), Sched: Replicating, Node: "C", Checkpoint: 3}))
	require.NoError(t, c.AddTask(Task{ID: "d5", Span: span(400, "", "k"), Sched: Replicating, Node: "B", Checkpoint: 4}))
	require.NoError(t, c.AddTask(Task{ID: "d6", Span: span(400, "k", ""), Sched: Replicating, Node: "B", Checkpoint: 5}))
	require.NoError(t, c.StartMove("d1", "C"))
	require.NoError(t, c.StartMerge([]DispatcherID{"d5", "d6"}, "d56"))
	require.NoError(t, c.StartSplit("d4", []Span{span(300, "", "f"), span(300, "f", "")}, nil))
	return c
}

// TestCloneCopiesOperatorsOnWrite: whichever of a controller and its clone is changed, by
// any kind of change to an operator (a transition, a checkpoint only, a node's death, a
// dropped table), the other does not change, and the other's change then does not show
// in the first.
func TestCloneCopiesOperatorsOnWrite(t *testing.T) {
	changes := []struct {
		name string
		do   func(c *Controller)
	}{
		{"transition", func(c *Controller) { c.HandleStatus("B", Status{ID: "d1", State: Stopped, Checkpoint: 11}) }},
		{"checkpoint only", func(c *Controller) { c.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: 12}) }},
		{"merge checkpoint", func(c *Controller) { c.HandleStatus("B", Status{ID: "d56", State: Preparing, Checkpoint: 9}) }},
		{"node removed", func(c *Controller) { c.HandleNodeRemoved("B") }},
		{"table dropped", func(c *Controller) { c.HandleTableDropped(300) }},
		{"finish", func(c *Controller) {
			c.HandleStatus("C", Status{ID: "d4", State: Stopped})
		}},
	}
	for i, ch := range changes {
		other := changes[(i+1)%len(changes)]
		for _, writeClone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/clone=%v", ch.name, writeClone), func(t *testing.T) {
				c := cloneWorld(t)
				d := c.Clone()
				first, second := c, d
				if writeClone {
					first, second = d, c
				}
				was := snapshot(first)
				require.Equal(t, was, snapshot(second))
				ch.do(first)
				now := snapshot(first)
				require.NotEqual(t, was, now, "the change changes the controller")
				require.Equal(t, was, snapshot(second), "the change does not show in the other")
				other.do(second)
				sec := snapshot(second)
				require.NotEqual(t, was, sec)
				require.Equal(t, now, snapshot(first), "nor does the other's change show in the first")
				changes[(i+2)%len(changes)].do(first) // first changes what it may have copied already
				require.Equal(t, sec, snapshot(second))
			})
		}
	}
}

// TestCloneSharesOperators: a clone copies no operator (its allocations do not grow with
// their number), and changing one operator copies that one only, once.
func TestCloneSharesOperators(t *testing.T) {
	c := cloneWorld(t)
	_, n := c.Len()
	require.Equal(t, 5, n)
	var d *Controller
	allocs := testing.AllocsPerRun(20, func() { d = c.Clone() })
	require.LessOrEqual(t, allocs, 8.0, "a clone of %d operators", n)
	for id, o := range d.ops {
		require.Same(t, c.ops[id], o, id)
	}
	d.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: 12})
	require.NotSame(t, c.ops["d1"], d.ops["d1"])
	for _, id := range []DispatcherID{"d4", "d56", "d5", "d6"} {
		require.Same(t, c.ops[id], d.ops[id], id)
	}
	e := c.Clone()
	e.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: taskOf(c, "d1").Checkpoint})
	require.Same(t, c.ops["d1"], e.ops["d1"], "a checkpoint that does not rise changes nothing")
	mine := d.ops["d1"]
	d.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: 13})
	require.Same(t, mine, d.ops["d1"], "an operator copied once is the controller's own")
	for _, ctrl := range []*Controller{d, cloneWorld(t)} { // copied, and started by the controller
		own := ctrl.ops["d1"]
		ctrl.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: 50})
		require.Same(t, own, ctrl.ops["d1"], "changed in place")
		k := uint64(100)
		require.Zero(t, testing.AllocsPerRun(10, func() {
			k++
			ctrl.HandleStatus("B", Status{ID: "d1", State: Working, Checkpoint: k})
		}))
	}
}

// TestCloneConcurrently: several goroutines clone one controller at once and change their
// clones (run with -race); the original does not change, and every clone ends alike.
func TestCloneConcurrently(t *testing.T) {
	c := cloneWorld(t)
	was := snapshot(c)
	got := make([]string, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := c.Clone()
			d.HandleStatus("B", Status{ID: "d1", State: Stopped, Checkpoint: 11})
			d.HandleNodeRemoved("C")
			got[i] = snapshot(d)
		}()
	}
	wg.Wait()
	require.Equal(t, was, snapshot(c))
	for _, g := range got {
		require.Equal(t, got[0], g)
	}
	require.NotEqual(t, was, got[0])
}
