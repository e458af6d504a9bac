package operators

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTaskDeletedHook: Config.TaskDeleted hears of exactly the tasks a finished remove
// with HookDelete deleted, and may add tasks from inside the call.
func TestTaskDeletedHook(t *testing.T) {
	var c *Controller
	var deleted []string
	c = NewController(Config{Changefeed: cf, Epoch: 2, TaskDeleted: func(t Task) {
		deleted = append(deleted, t.String())
		_ = c.AddTask(Task{ID: t.ID + "-again", Span: t.Span, Sched: Absent})
	}})
	require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.AddTask(Task{ID: "d2", Span: span(100, "m", ""), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.AddTask(Task{ID: "d3", Span: span(200, "", ""), Sched: Replicating, Node: "B"}))

	require.NoError(t, c.AddRemove("d1"))
	c.HandleStatus("B", Status{ID: "d1", State: Stopped})
	require.Equal(t, []string{"d1 100[,m) Replicating@B"}, deleted)

	// A remove with another hook, a cancelled remove and a dropped table call nothing.
	require.NoError(t, c.Restore(Record{Changefeed: cf, ID: "d2", Type: TypeRemove, State: "Running", Epoch: 1, Span: span(100, "m", ""), Origin: "B", Hook: HookMarkAbsent}))
	c.HandleStatus("B", Status{ID: "d2", State: Stopped})
	require.NoError(t, c.AddRemove("d3"))
	c.HandleTableDropped(200)
	require.Equal(t, []string{"d1 100[,m) Replicating@B"}, deleted)

	var tasks []string
	for _, t := range c.Tasks() {
		tasks = append(tasks, t.String())
	}
	require.Equal(t, []string{"d1-again 100[,m) Absent", "d2 100[m,) Absent"}, tasks)
}
