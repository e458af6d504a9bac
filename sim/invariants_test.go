package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

func TestNoDuplicateActiveDispatcher(t *testing.T) {
	b := halves()
	c := NewManager("C", cf, 1)
	require.NoError(t, NoDuplicateActiveDispatcher([]*Manager{b, c}))

	// A merge in progress is fine: the target is not active before its commit point, and
	// the sources are not active after it.
	handle(t, b, Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()})
	require.NoError(t, b.Prepared("m"))
	require.NoError(t, NoDuplicateActiveDispatcher([]*Manager{b, c}))
	require.NoError(t, b.Commit("m"))
	require.NoError(t, NoDuplicateActiveDispatcher([]*Manager{b, c}))

	// The seeded shape of every S1 bug: a second active copy of a key elsewhere.
	handle(t, c, Request{Epoch: 1, Kind: CreateRequest, Record: ops.Record{ID: "b2", Span: ops.Span{Table: 100, Start: "x", End: ""}}})
	err := NoDuplicateActiveDispatcher([]*Manager{b, c})
	var v *Violation
	require.ErrorAs(t, err, &v)
	require.Equal(t, "NoDuplicateActiveDispatcher", v.Property)
	require.Contains(t, v.Detail, "b2")

	// Another table's identical keys do not overlap.
	d := NewManager("D", cf, 1)
	d.Place("t2", ops.Span{Table: 200})
	require.NoError(t, NoDuplicateActiveDispatcher([]*Manager{halves(), d}))
}

func TestRemoveJournalSound(t *testing.T) {
	for _, bug := range []bool{false, true} {
		m := halves()
		m.Bugs.JournalMissingRemove = bug
		handle(t, m, Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "a", Type: ops.TypeRemove}})
		_, err := m.Sweep("a")
		require.NoError(t, err)
		// A resent Remove reaches the node after the sweep.
		handle(t, m, Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "a", Type: ops.TypeRemove}})
		err = RemoveJournalSound([]*Manager{m})
		if !bug {
			require.NoError(t, err)
			continue
		}
		var v *Violation
		require.ErrorAs(t, err, &v)
		require.Equal(t, "RemoveJournalSound", v.Property)
	}
}

// TestNodeBinding: the controller refuses unbound Scheduling tasks on insertion, so the
// check is shown to fail on task lists built by hand.
func TestNodeBinding(t *testing.T) {
	ok := []ops.Task{{ID: "a", Sched: ops.Absent}, {ID: "b", Sched: ops.Replicating, Node: "B"}}
	require.NoError(t, NodeBinding(ok))
	for _, bad := range []ops.Task{{ID: "x", Sched: ops.Scheduling}, {ID: "y", Sched: ops.Absent, Node: "B"}} {
		var v *Violation
		require.ErrorAs(t, NodeBinding(append(ok, bad)), &v)
		require.Equal(t, "NodeBinding", v.Property)
	}
}
