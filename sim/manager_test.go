package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

const cf = ops.ChangefeedID("cf")

var (
	spanA = ops.Span{Table: 100, Start: "", End: "m"}
	spanB = ops.Span{Table: 100, Start: "m", End: ""}
	spanM = ops.Span{Table: 100, Start: "", End: ""}
)

func mergeRec() ops.Record {
	return ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: "Running", Span: spanM, Origin: "B", Sources: []ops.DispatcherID{"a", "b"}}
}

// halves is node B with "a" and "b" Working, obeying epoch 1.
func halves() *Manager {
	m := NewManager("B", cf, 1)
	m.Place("a", spanA)
	m.Place("b", spanB)
	return m
}

func handle(t *testing.T, m *Manager, r Request) []ops.Status {
	t.Helper()
	st, _, err := m.Handle(r)
	require.NoError(t, err)
	return st
}

func TestManagerRequests(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bugs     Bugs
		req      Request
		want     []ops.Status
		check    func(t *testing.T, m *Manager)
		unchange bool
	}{
		{name: "create makes a missing dispatcher Initializing",
			req: Request{Epoch: 1, Kind: CreateRequest, Record: ops.Record{ID: "c", Span: spanM}},
			check: func(t *testing.T, m *Manager) {
				d, ok := m.Dispatcher("c")
				require.True(t, ok)
				require.Equal(t, ops.Initializing, d.State)
			}},
		{name: "create for an existing dispatcher is dropped", unchange: true,
			req: Request{Epoch: 1, Kind: CreateRequest, Record: ops.Record{ID: "a", Span: spanA}}},
		{name: "stale create is fenced", unchange: true,
			req: Request{Epoch: 0, Kind: CreateRequest, Record: ops.Record{ID: "c", Span: spanM}}},
		{name: "no_epoch_fence applies a stale create", bugs: Bugs{NoEpochFence: true},
			req: Request{Epoch: 0, Kind: CreateRequest, Record: ops.Record{ID: "c", Span: spanM}},
			check: func(t *testing.T, m *Manager) {
				_, ok := m.Dispatcher("c")
				require.True(t, ok)
			}},
		{name: "remove marks removing and journals the record with the sender's epoch",
			req: Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "a", Type: ops.TypeMove, State: "RemoveOrigin", Origin: "B", Dest: "C"}},
			check: func(t *testing.T, m *Manager) {
				d, _ := m.Dispatcher("a")
				require.True(t, d.Removing)
				rec, ok := m.Journaled("a")
				require.True(t, ok)
				require.Equal(t, ops.Epoch(1), rec.Epoch)
				require.Equal(t, ops.NodeID("C"), rec.Dest)
			}},
		{name: "remove of a missing dispatcher answers Stopped and journals nothing",
			req:  Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "z"}},
			want: []ops.Status{{ID: "z", State: ops.Stopped}},
			check: func(t *testing.T, m *Manager) {
				_, ok := m.Journaled("z")
				require.False(t, ok)
			}},
		{name: "journal_missing_remove journals it", bugs: Bugs{JournalMissingRemove: true},
			req:  Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "z"}},
			want: []ops.Status{{ID: "z", State: ops.Stopped}},
			check: func(t *testing.T, m *Manager) {
				_, ok := m.Journaled("z")
				require.True(t, ok)
			}},
		{name: "merge starts: target Preparing, sources WaitingMerge, journaled",
			req: Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()},
			check: func(t *testing.T, m *Manager) {
				d, _ := m.Dispatcher("m")
				require.Equal(t, ops.Preparing, d.State)
				for _, s := range []ops.DispatcherID{"a", "b"} {
					sd, _ := m.Dispatcher(s)
					require.Equal(t, ops.WaitingMerge, sd.State)
				}
				_, ok := m.MergeJournaled("m")
				require.True(t, ok)
			}},
		{name: "stale merge is neither applied nor journaled (C9)", unchange: true,
			req: Request{Epoch: 0, Kind: MergeRequest, Record: mergeRec()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := halves()
			m.Bugs = tc.bugs
			before := m.Dispatchers()
			require.Equal(t, tc.want, handle(t, m, tc.req))
			if tc.unchange {
				require.Equal(t, before, m.Dispatchers())
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestManagerUnknownRequest(t *testing.T) {
	m := halves()
	_, _, err := m.Handle(Request{Epoch: 1, Kind: RequestKind(9)})
	require.ErrorIs(t, err, ErrUnknownRequest)
	require.Len(t, m.Dispatchers(), 2, "nothing recorded is lost")
}

// TestManagerMergeCommit walks a merge through its commit point, the sweep of its sources
// and the journal cleanup, checking Enabled at every step.
func TestManagerMergeCommit(t *testing.T) {
	m := halves()
	handle(t, m, Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()})
	require.Equal(t, []LocalAction{{"DMPrepared", "m"}}, m.Enabled())
	require.ErrorIs(t, m.Commit("m"), ErrNotEnabled)
	require.NoError(t, m.Prepared("m"))
	require.Equal(t, []LocalAction{{"DMCommit", "m"}}, m.Enabled())
	require.NoError(t, m.Commit("m"))
	require.Equal(t, []LocalAction{{"DMSweep", "a"}, {"DMSweep", "b"}, {"DMWorking", "m"}}, m.Enabled())
	st, err := m.Working("m")
	require.NoError(t, err)
	require.Equal(t, ops.Status{ID: "m", State: ops.Working}, st)
	// A resent merge request re-reports the Working target.
	require.Equal(t, []ops.Status{{ID: "m", State: ops.Working}}, handle(t, m, Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()}))
	for _, s := range []ops.DispatcherID{"a", "b"} {
		st, err := m.Sweep(s)
		require.NoError(t, err)
		require.Equal(t, ops.Stopped, st.State)
	}
	require.Equal(t, []LocalAction{{"DMJournalCleanup", "m"}}, m.Enabled())
	require.NoError(t, m.JournalCleanup("m"))
	require.Empty(t, m.Enabled())
	require.Equal(t, []Dispatcher{{ID: "m", Span: spanM, State: ops.Working}}, m.Dispatchers())
}

// TestManagerMergeAbort: removing a source before the commit point aborts the merge; the
// target is swept (G6 fixed) unless the sweep_skips_precommit bug is on.
func TestManagerMergeAbort(t *testing.T) {
	for _, bug := range []bool{false, true} {
		m := halves()
		m.Bugs.SweepSkipsPreCommit = bug
		handle(t, m, Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()})
		handle(t, m, Request{Epoch: 1, Kind: RemoveRequest, Record: ops.Record{ID: "a", Type: ops.TypeRemove}})
		require.Contains(t, m.Enabled(), LocalAction{"DMAbortMerge", "m"})
		require.NoError(t, m.AbortMerge("m"))
		b, _ := m.Dispatcher("b")
		require.Equal(t, ops.Working, b.State, "the other source is restored")
		_, journaled := m.MergeJournaled("m")
		require.False(t, journaled)
		_, err := m.Sweep("m")
		if bug {
			require.ErrorIs(t, err, ErrNotEnabled, "G6: the aborted target is never swept")
			require.NotContains(t, m.Enabled(), LocalAction{"DMSweep", "m"})
		} else {
			require.NoError(t, err)
		}
	}
}

func TestManagerBootstrap(t *testing.T) {
	m := halves()
	handle(t, m, Request{Epoch: 1, Kind: MergeRequest, Record: mergeRec()})
	_, resp, err := m.Handle(Request{Epoch: 2, Kind: BootstrapRequest})
	require.NoError(t, err)
	require.NotNil(t, resp)
	require.Equal(t, ops.Epoch(2), m.Owner, "the owner switches before the snapshot")
	require.Equal(t, ops.Epoch(2), resp.Epoch)
	require.Len(t, resp.Dispatchers, 3)
	require.Len(t, resp.MergeJournal, 1)

	_, stale, err := m.Handle(Request{Epoch: 1, Kind: BootstrapRequest})
	require.NoError(t, err)
	require.Nil(t, stale, "a stale bootstrap gets no answer (25b)")
	require.Equal(t, ops.Epoch(2), m.Owner)

	m.Bugs.BootstrapNoFence = true
	_, _, _ = m.Handle(Request{Epoch: 1, Kind: BootstrapRequest})
	require.Equal(t, ops.Epoch(1), m.Owner, "bootstrap_no_fence lets the owner epoch go back")
}

// TestBootstrapFeedsRecovery is scenario 15 end to end: a maintainer's merge request, as
// operators.Controller sends it, reaches a simulated node and prepares; the maintainer dies;
// recovery reads the node's bootstrap response and restores the merge. With the merge
// journal lost (TiCDC 4763) the merge is not restored.
func TestBootstrapFeedsRecovery(t *testing.T) {
	for _, lost := range []bool{false, true} {
		m1 := ops.NewController(ops.Config{Changefeed: cf, Epoch: 1})
		require.NoError(t, m1.AddTask(ops.Task{ID: "a", Span: spanA, Sched: ops.Replicating, Node: "B"}))
		require.NoError(t, m1.AddTask(ops.Task{ID: "b", Span: spanB, Sched: ops.Replicating, Node: "B"}))
		require.NoError(t, m1.AddMerge([]ops.DispatcherID{"a", "b"}, "m"))
		msgs := m1.Pending()
		require.Len(t, msgs, 1)
		require.Equal(t, ops.Merge, msgs[0].Kind)

		b := halves()
		b.Bugs.MergeJournalLost = lost
		handle(t, b, Request{Epoch: 1, Kind: MergeRequest, Record: msgs[0].Record})
		require.NoError(t, b.Prepared("m"))
		_, resp, err := b.Handle(Request{Epoch: 2, Kind: BootstrapRequest})
		require.NoError(t, err)

		res, err := recovery.Recover(recovery.Snapshot{Changefeed: cf, Epoch: 2, Tables: []ops.TableID{100}, Responses: []recovery.Response{*resp}})
		require.NoError(t, err)
		require.Empty(t, res.Rejected)
		rec, restored := res.Controller.Operator("m")
		if lost {
			// The pre-commit target looks like an unexpected overlap: it is cleaned up
			// (G6) instead of resumed, and the merge intent is gone.
			require.True(t, restored)
			require.Equal(t, ops.TypeRemove, rec.Type, "without the merge journal the merge intent is lost")
			continue
		}
		require.True(t, restored)
		require.Equal(t, ops.TypeMerge, rec.Type)
		require.Equal(t, []ops.DispatcherID{"a", "b"}, rec.Sources)
	}
}
