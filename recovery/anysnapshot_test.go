package recovery

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// recoverOne recovers a snapshot of table 100 at epoch 2 from the given answers.
func recoverOne(t *testing.T, answers ...protocol.BootstrapAnswer) Result {
	t.Helper()
	res, err := Recover(protocol.Snapshot{Changefeed: cf, Epoch: 2, Tables: []ops.TableID{100}, Answers: answers})
	require.NoError(t, err)
	return res
}

// TestOverlapLoserKeepsItsRangeCoveredUntilItStops: two Working dispatchers overlap with
// no journal. The loser may serve its keys until its Remove lands, so it keeps a task
// (temporary coverage) and no task for the range only it covers is scheduled elsewhere
// before it stopped; then its task goes and the range gets one.
func TestOverlapLoserKeepsItsRangeCoveredUntilItStops(t *testing.T) {
	kept := ops.Span{Table: 100, End: "m"}
	rejected := ops.Span{Table: 100, Start: "g"}
	res := recoverOne(t, resp("B", disp("kept", kept, ops.Working)), resp("C", disp("rejected", rejected, ops.Working)))
	require.Equal(t, outcome{tasks: []string{"kept 100[,m) Replicating@B", "rejected 100[g,) Replicating@C"},
		ops: []string{"remove rejected Running"}, msgs: []string{"Remove rejected ->C e2"}}, summarize(res))
	require.True(t, hasRule(res, "G8-overlap"))
	c := res.Controller
	c.HandleStatus("C", ops.Status{ID: "rejected", State: ops.Working})
	_, ok := c.Task("t100-e2-m")
	require.False(t, ok, "no task for [m,) while the loser may still serve it")
	c.HandleStatus("C", ops.Status{ID: "rejected", State: ops.Stopped})
	hole, ok := c.Task("t100-e2-m")
	require.True(t, ok, "once it stopped, the range it alone covered gets a task")
	require.Equal(t, ops.Task{ID: "t100-e2-m", Span: ops.Span{Table: 100, Start: "m"}, Sched: ops.Absent}, hole)
	_, ok = c.Task("rejected")
	require.False(t, ok)
}

// TestMergeJournalWithSourcesThatDoNotTile: every source waits and the target is
// prepared, but the sources [,a) and [ab,) leave [a,ab) uncovered. The journal is no
// evidence: it is rejected, the sources keep their tasks, and the target, which the node
// may still commit, covers its span until its remove is done; then the gap is filled.
func TestMergeJournalWithSourcesThatDoNotTile(t *testing.T) {
	s1, s2 := ops.Span{Table: 100, End: "a"}, ops.Span{Table: 100, Start: "ab"}
	rec := ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: "Running", Epoch: 1, Span: full, Origin: "B", Sources: []ops.DispatcherID{"s1", "s2"}}
	res := recoverOne(t, withMerge(resp("B", disp("s1", s1, ops.WaitingMerge), disp("s2", s2, ops.WaitingMerge), disp("m", full, ops.Preparing)), rec))
	require.Len(t, res.Rejected, 1)
	require.ErrorIs(t, res.Rejected[0], ErrBadJournal)
	require.Equal(t, "merge journal m", res.Rejected[0].What)
	require.Equal(t, outcome{tasks: []string{"m 100[,) Replicating@B", "s1 100[,a) Replicating@B", "s2 100[ab,) Replicating@B"},
		ops: []string{"remove m Running"}, msgs: []string{"Remove m ->B e2"}}, summarize(res))
	require.True(t, hasRule(res, "G6-abort-precommit-target"))
	c := res.Controller
	c.HandleStatus("B", ops.Status{ID: "m", State: ops.Stopped})
	gap, ok := c.Task("t100-e2-a")
	require.True(t, ok, "the gap gets a task once the target is gone")
	require.Equal(t, ops.Span{Table: 100, Start: "a", End: "ab"}, gap.Span)
	require.Equal(t, ops.Absent, gap.Sched)
}

// TestRemovingSourceIsNoMergeEvidence: the merge journal names s1 and s2, both waiting,
// but s1 is being removed by a later Remove it journaled. The later Remove wins: no merge
// resumes, s1's remove resumes (deleting its task and repairing coverage when done), s2
// keeps its task, and the pre-commit target is removed.
func TestRemovingSourceIsNoMergeEvidence(t *testing.T) {
	merge := ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: "Running", Epoch: 1, Span: full, Origin: "B", Sources: []ops.DispatcherID{"s1", "s2"}}
	remove := ops.Record{Changefeed: cf, ID: "s1", Type: ops.TypeRemove, State: "Running", Epoch: 1, Span: left, Origin: "B"}
	b := withMerge(resp("B", removing(disp("s1", left, ops.WaitingMerge)), disp("s2", right, ops.WaitingMerge), disp("m", full, ops.MergeReady)), merge)
	b.Removes = []ops.Record{remove}
	res := recoverOne(t, b)
	require.Empty(t, res.Rejected)
	require.Equal(t, outcome{tasks: []string{"s1 100[,m) Replicating@B", "s2 100[m,) Replicating@B"},
		ops: []string{"remove m Running", "remove s1 Running"}, msgs: []string{"Remove m ->B e2", "Remove s1 ->B e2"}}, summarize(res))
	for _, rule := range []string{"G6-abort-precommit-target", "3.3-remove-resume"} {
		require.True(t, hasRule(res, rule), rule)
	}
	require.False(t, hasRule(res, "3.4-merge-resume"))
	require.False(t, hasRule(res, "3.3-journal-superseded"))
}
