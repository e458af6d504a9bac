package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Update counts tasks and dispatchers by state through countTask and countDispatcher: a
// state it knows lands in its own slot, a closing dispatcher in the closing slot whatever
// its state, and a state past the last one it knows (a newer library's) is left out
// rather than counted under another label or crashing the host.
func TestCountsIgnoreUnknownStates(t *testing.T) {
	t.Run("tasks", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			sched ops.Sched
			want  [numSched]int
		}{
			{"absent", ops.Absent, [numSched]int{1, 0, 0}},
			{"scheduling", ops.Scheduling, [numSched]int{0, 1, 0}},
			{"replicating", ops.Replicating, [numSched]int{0, 0, 1}},
			{"the first unknown", ops.Sched(numSched), [numSched]int{}},
			{"the largest", ops.Sched(255), [numSched]int{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				x := NewMaintainer()
				x.countTask(ops.Task{ID: "t", Sched: tc.sched})
				require.Equal(t, tc.want, x.tasks)
			})
		}
	})
	t.Run("dispatchers", func(t *testing.T) {
		one := func(slot int) (c [numComponent + 1]int) { c[slot] = 1; return c }
		for _, tc := range []struct {
			name string
			d    protocol.Dispatcher
			want [numComponent + 1]int
		}{
			{"initializing", protocol.Dispatcher{ID: "d", State: ops.Initializing}, one(int(ops.Initializing))},
			{"removed, the last known", protocol.Dispatcher{ID: "d", State: ops.Removed}, one(int(ops.Removed))},
			{"closing", protocol.Dispatcher{ID: "d", State: ops.Working, Removing: true}, one(numComponent)},
			{"closing in an unknown state", protocol.Dispatcher{ID: "d", State: ops.ComponentState(numComponent), Removing: true}, one(numComponent)},
			{"the first unknown", protocol.Dispatcher{ID: "d", State: ops.ComponentState(numComponent)}, [numComponent + 1]int{}},
			{"the largest", protocol.Dispatcher{ID: "d", State: ops.ComponentState(255)}, [numComponent + 1]int{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				x := NewNode()
				x.countDispatcher(tc.d)
				require.Equal(t, tc.want, x.dispatchers)
			})
		}
	})
}
