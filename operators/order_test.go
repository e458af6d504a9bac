package operators

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIDOrderBeyondPrefix: ids that share their first eight bytes (the sort's first key)
// still come out in id order, from Operators, Pending, EachOperator and Tasks.
func TestIDOrderBeyondPrefix(t *testing.T) {
	ids := []DispatcherID{"dispatcher-9", "dispatcher-10", "dispatcher-1", "dispatcher-2", "d0", "zzzzzzzzzz"}
	c := NewController(Config{Changefeed: cf, Epoch: 2})
	for i, id := range ids {
		require.NoError(t, c.AddTask(Task{ID: id, Span: span(TableID(i+1), "", ""), Sched: Replicating, Node: "B"}))
		require.NoError(t, c.StartMove(id, "C"))
	}
	want := slices.Sorted(slices.Values(ids))
	var got, each, pending, tasks []DispatcherID
	for _, r := range c.Operators() {
		got = append(got, r.ID)
	}
	c.EachOperator(func(r Record) { each = append(each, r.ID) })
	for _, m := range c.Pending() {
		pending = append(pending, m.Record.ID)
	}
	for _, tk := range c.Tasks() {
		tasks = append(tasks, tk.ID)
	}
	require.Equal(t, want, got)
	require.Equal(t, want, each)
	require.Equal(t, want, pending)
	require.Equal(t, want, tasks)
}
