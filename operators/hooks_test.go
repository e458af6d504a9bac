package operators

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTaskDeletedHook: Config.TaskDeleted hears of exactly the tasks a finished remove
// with HookDelete deleted, and may add tasks from inside the call.
func TestTaskDeletedHook(t *testing.T) {
	h := &recordingHook{}
	c := NewController(Config{Changefeed: cf, Epoch: 2, TaskDeleted: h})
	require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.AddTask(Task{ID: "d2", Span: span(100, "m", ""), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.AddTask(Task{ID: "d3", Span: span(200, "", ""), Sched: Replicating, Node: "B"}))

	require.NoError(t, c.StartRemove("d1"))
	c.HandleStatus("B", Status{ID: "d1", State: Stopped})
	require.Equal(t, []string{"d1 100[,m) Replicating@B"}, h.deleted)

	// A remove with another hook, a cancelled remove and a dropped table call nothing.
	require.NoError(t, c.Restore(Record{Changefeed: cf, ID: "d2", Type: TypeRemove, State: RemoveRunning, Epoch: 1, Span: span(100, "m", ""), Origin: "B", Hook: HookMarkAbsent}))
	c.HandleStatus("B", Status{ID: "d2", State: Stopped})
	require.NoError(t, c.StartRemove("d3"))
	c.HandleTableDropped(200)
	require.Equal(t, []string{"d1 100[,m) Replicating@B"}, h.deleted)

	var tasks []string
	for _, t := range c.Tasks() {
		tasks = append(tasks, t.String())
	}
	require.Equal(t, []string{"d1-again 100[,m) Absent", "d2 100[m,) Absent"}, tasks)
}

// recordingHook records the tasks it hears of and adds each back under a new id.
type recordingHook struct{ deleted []string }

func (h *recordingHook) TaskDeleted(c *Controller, t Task) {
	h.deleted = append(h.deleted, t.String())
	_ = c.AddTask(Task{ID: t.ID + "-again", Span: t.Span, Sched: Absent})
}

func (h *recordingHook) Clone() TaskHook {
	return &recordingHook{deleted: append([]string(nil), h.deleted...)}
}

// TestControllerClone: a clone has the same tasks and operators, evolves on its own, and
// has its own copy of the TaskDeleted hook.
func TestControllerClone(t *testing.T) {
	h := &recordingHook{}
	c := NewController(Config{Changefeed: cf, Epoch: 2, TaskDeleted: h})
	require.NoError(t, c.AddTask(Task{ID: "d1", Span: span(100, "", "m"), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.AddTask(Task{ID: "d2", Span: span(100, "m", ""), Sched: Replicating, Node: "B"}))
	require.NoError(t, c.StartRemove("d1"))

	d := c.Clone()
	require.Equal(t, c.Tasks(), d.Tasks())
	require.Equal(t, c.Operators(), d.Operators())

	d.HandleStatus("B", Status{ID: "d1", State: Stopped})
	dh := d.cfg.TaskDeleted.(*recordingHook)
	require.Equal(t, []string{"d1 100[,m) Replicating@B"}, dh.deleted)
	require.Empty(t, h.deleted, "the original's hook heard of the clone's delete")
	_, ok := c.Task("d1")
	require.True(t, ok, "the clone's remove deleted the original's task")
	_, busy := c.Operator("d1")
	require.True(t, busy)
	_, ok = d.Task("d1-again")
	require.True(t, ok)
}
