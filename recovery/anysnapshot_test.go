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
	rec := ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1, Span: full, Origin: "B", Sources: []ops.DispatcherID{"s1", "s2"}}
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
	merge := ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1, Span: full, Origin: "B", Sources: []ops.DispatcherID{"s1", "s2"}}
	remove := ops.Record{Changefeed: cf, ID: "s1", Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: left, Origin: "B"}
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

// TestContestedMoveIsNotResumed: a move journaled on B would create its destination, but
// A reports a dispatcher of the same keys that is not closing. Resuming would put a second
// dispatcher on those keys: the move's remove finishes, A's dispatcher is adopted. A
// dispatcher that is closing contests nothing: then the move resumes.
func TestContestedMoveIsNotResumed(t *testing.T) {
	b := withRemoves(resp("B", removing(disp("d", full, ops.Working))), moveRec(ops.MoveRemoveOrigin))
	res := recoverOne(t, resp("A", disp("x", full, ops.Working)), b, resp("C"))
	require.Equal(t, outcome{tasks: []string{"x 100[,) Replicating@A"}, ops: []string{"remove d Running"}, msgs: []string{"Remove d ->B e2"}}, summarize(res))
	require.True(t, hasRule(res, "3.3-resume-contested"))

	res = recoverOne(t, resp("A", removing(disp("x", full, ops.Working))), b, resp("C"))
	require.False(t, hasRule(res, "3.3-resume-contested"))
	require.Equal(t, outcome{tasks: []string{"d 100[,) Scheduling@B"}, ops: []string{"move d RemoveOrigin ->C", "remove x Running"},
		msgs: []string{"Remove d ->B e2", "Remove x ->A e2"}}, summarize(res))
}

// TestSecondMoveOverTheSameKeysIsContested: two nodes journaled a move of the same keys;
// both dispatchers are closing. The first resumes; the second would create a second
// destination for the keys, so it is not resumed.
func TestSecondMoveOverTheSameKeysIsContested(t *testing.T) {
	e := ops.Record{Changefeed: cf, ID: "e", Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1, Span: full, Origin: "A", Dest: "C"}
	res := recoverOne(t, withRemoves(resp("A", removing(disp("e", full, ops.Working))), e),
		withRemoves(resp("B", removing(disp("d", full, ops.Working))), moveRec(ops.MoveRemoveOrigin)), resp("C"))
	require.Equal(t, outcome{tasks: []string{"e 100[,) Scheduling@A"}, ops: []string{"remove d Running", "move e RemoveOrigin ->C"},
		msgs: []string{"Remove d ->B e2", "Remove e ->A e2"}}, summarize(res))
	require.True(t, hasRule(res, "3.3-resume-contested"))
}

// TestContestedMergeIsNotResumed: B has full evidence of a merge (both sources wait, the
// target is prepared), but A serves the merged keys too. The merge is not resumed: the
// target, which B may still commit, covers its span until its remove is done, and the
// sources are decided with A's report.
func TestContestedMergeIsNotResumed(t *testing.T) {
	rec := ops.Record{Changefeed: cf, ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1, Span: full, Origin: "B", Sources: []ops.DispatcherID{"s1", "s2"}}
	b := withMerge(resp("B", disp("s1", left, ops.WaitingMerge), disp("s2", right, ops.WaitingMerge), disp("m", full, ops.Preparing)), rec)
	res := recoverOne(t, resp("A", disp("x", full, ops.Working)), b)
	require.False(t, hasRule(res, "3.4-merge-resume"))
	require.True(t, hasRule(res, "G6-abort-precommit-target"))
	require.Contains(t, summarize(res).tasks, "m 100[,) Replicating@B", "temporary coverage")
	require.Contains(t, summarize(res).ops, "remove m Running")
}

// TestStrays: one id on three nodes. One copy is adopted, the others get one-shot
// removes; the copy that was not closing is a stray, the closing one is not.
func TestStrays(t *testing.T) {
	res := recoverOne(t, resp("A", disp("d", full, ops.Working)), resp("B", disp("d", full, ops.Initializing)), resp("C", removing(disp("d", full, ops.Working))))
	require.Equal(t, outcome{tasks: []string{"d 100[,) Replicating@A"}, msgs: []string{"Remove d ->B e2", "Remove d ->C e2"}}, summarize(res))
	require.Equal(t, []Stray{{Node: "B", ID: "d", Span: full}}, res.Strays)
}

// TestMoveAfterAResumedSplitIsContested: A journaled a split of the keys, B a move of the
// same keys; both dispatchers are closing. The split resumes first (A sorts first) and
// will create its halves; the move would create a third dispatcher, so it is not resumed.
func TestMoveAfterAResumedSplitIsContested(t *testing.T) {
	split := ops.Record{Changefeed: cf, ID: "e", Type: ops.TypeSplit, State: ops.SplitRunning, Epoch: 1, Span: full, Origin: "A",
		SplitSpans: []ops.Span{left, right}}
	res := recoverOne(t, withRemoves(resp("A", removing(disp("e", full, ops.Working))), split),
		withRemoves(resp("B", removing(disp("d", full, ops.Working))), moveRec(ops.MoveRemoveOrigin)), resp("C"))
	require.True(t, hasRule(res, "3.3-resume-contested"))
	require.Equal(t, []string{"remove d Running", "split e Running [100[,m) 100[m,)]"}, summarize(res).ops)
}

// TestPrecommitTargetWithoutJournal: a merged dispatcher before its commit point (Preparing
// or MergeReady) that no merge journal explains is removed as a pre-commit target (G6).
func TestPrecommitTargetWithoutJournal(t *testing.T) {
	for _, st := range []ops.ComponentState{ops.Preparing, ops.MergeReady} {
		res := recoverOne(t, resp("B", disp("s", full, ops.Working)), resp("C", disp("m", full, st)))
		require.True(t, hasRule(res, "G6-abort-precommit-target"), st.String())
		require.Equal(t, outcome{tasks: []string{"s 100[,) Replicating@B"}, ops: []string{"remove m Running"}, msgs: []string{"Remove m ->C e2"}}, summarize(res))
	}
}
