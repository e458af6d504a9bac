package conformance

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/internal/tla"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// recoveryKeys are RecoveryKeys.cfg's snapshots, loaded (TLC run) once for the tests below.
var recoveryKeys = sync.OnceValues(func() (*RecoverySnapshots, error) {
	return LoadRecoverySnapshots(context.Background(), "../spec/failover", "RecoveryKeys.cfg", 1)
})

// TestRecoveryThreeKeys: on every snapshot of RecoveryKeys.cfg (three keys, so partial
// overlaps, two holes and a merge of three sources; two nodes, the second up or down; the
// table live or dropped), package recovery recovers the tasks, operators and first
// requests that the spec's Recover does.
func TestRecoveryThreeKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	snaps, err := recoveryKeys()
	require.NoError(t, err)
	rep, err := snaps.Compare()
	require.NoError(t, err)
	t.Logf("%d snapshots, TLC %s", rep.Snapshots, rep.TLC.Duration)
	require.Equal(t, 5304, rep.Snapshots)
	require.NoError(t, rep.Err())
	// Every rule of docs/recovery.md met, but the three for a journal entry whose
	// dispatcher is gone: a node journals a Remove only while it hosts the dispatcher.
	var met []string
	for r := range rep.Rules {
		met = append(met, r)
	}
	require.ElementsMatch(t, []string{"3.4-merge-done", "3.4-merge-done-source", "3.4-merge-resume",
		"3.4-merge-committed-partial", "3.4-merge-committed-source", "G6-abort-precommit-target",
		"3.4-merge-stale-journal", "3.3-remove-resume", "3.3-resume-contested", "3.3-journal-superseded",
		"C6-dropped-table", "3.2-adopt", "G8-overlap", "3.5-not-active", "3.2-hole"}, met)
}

// TestRecoveryComparisonCatchesSeededBugs: each of package recovery's seeded bugs that
// changes what is recovered on one table makes the comparison fail. (merge_geometry_unchecked
// needs sources that do not tile their target, strays_unlisted changes only Result.Strays,
// and g8_first_report_wins decides by the answers' order, which here is the node order
// the rules break ties by: none shows in this world.)
func TestRecoveryComparisonCatchesSeededBugs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	snaps, err := recoveryKeys()
	require.NoError(t, err)
	for _, bug := range []string{"overlap_loser_uncovered", "removing_source_is_evidence",
		"precommit_target_adopted", "dropped_table_adopted", "resume_contested"} {
		t.Run(bug, func(t *testing.T) {
			rep, err := snaps.Compare(seeded.RecoveryBug(bug).(recovery.Option))
			require.NoError(t, err)
			require.ErrorIs(t, rep.Err(), ErrRecoveryDiffers)
			t.Logf("%d of %d snapshots differ; the first:\n%s", rep.Differing, rep.Snapshots, rep.Examples[0])
		})
	}
}

// A snapshot state as TLC prints RecoveryKeys' initial states (node 1: "ab" Working, "c"
// closing under a journaled move to node 2; node 2 down).
const recoverySnapshotText = `/\ alive = {1}
/\ dropEpoch = 0
/\ epoch = 2
/\ resp = << [ok |-> TRUE, disp |-> [m |-> "none", ab |-> "Working", bc |-> "none", a |-> "none", b |-> "none", c |-> "Working"],
  rem |-> [m |-> FALSE, ab |-> FALSE, bc |-> FALSE, a |-> FALSE, b |-> FALSE, c |-> TRUE],
  opJ |-> [m |-> [op |-> "", epoch |-> 0, dest |-> 0], ab |-> [op |-> "", epoch |-> 0, dest |-> 0], bc |-> [op |-> "", epoch |-> 0, dest |-> 0],
  a |-> [op |-> "", epoch |-> 0, dest |-> 0], b |-> [op |-> "", epoch |-> 0, dest |-> 0], c |-> [op |-> "move", epoch |-> 1, dest |-> 2]],
  mergeJ |-> 1],
  [ok |-> FALSE, disp |-> [m |-> "none", ab |-> "none", bc |-> "none", a |-> "none", b |-> "none", c |-> "none"],
  rem |-> [m |-> FALSE, ab |-> FALSE, bc |-> FALSE, a |-> FALSE, b |-> FALSE, c |-> FALSE],
  opJ |-> [m |-> [op |-> "", epoch |-> 0, dest |-> 0], ab |-> [op |-> "", epoch |-> 0, dest |-> 0], bc |-> [op |-> "", epoch |-> 0, dest |-> 0],
  a |-> [op |-> "", epoch |-> 0, dest |-> 0], b |-> [op |-> "", epoch |-> 0, dest |-> 0], c |-> [op |-> "", epoch |-> 0, dest |-> 0]],
  mergeJ |-> 0] >>`

func TestRecoverySnapshotDecodes(t *testing.T) {
	st, err := tla.ParseState(recoverySnapshotText)
	require.NoError(t, err)
	snap, desc, size, ids, err := recoverySnapshot(st)
	require.NoError(t, err)
	require.Equal(t, 2, size)
	require.ElementsMatch(t, []string{"m", "ab", "bc", "a", "b", "c"}, ids)
	require.Equal(t, "alive {1}, dropEpoch 0\n    node 1: ab Working, c Working closing (journal move to 2), merge journal of epoch 1", desc)
	require.Equal(t, []ops.TableID{1}, snap.Tables)
	require.Len(t, snap.Answers, 1)
	a := snap.Answers[0]
	require.Equal(t, []protocol.Dispatcher{
		{ID: "ab", Span: ops.Span{Table: 1, End: "2"}, State: ops.Working},
		{ID: "c", Span: ops.Span{Table: 1, Start: "2"}, State: ops.Working, Removing: true},
	}, a.Dispatchers)
	require.Equal(t, []ops.Record{{Changefeed: "cf", ID: "c", Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1,
		Span: ops.Span{Table: 1, Start: "2"}, Origin: "1", Dest: "2"}}, a.Removes)
	require.Equal(t, []ops.Record{{Changefeed: "cf", ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1,
		Span: ops.Span{Table: 1}, Origin: "1", Sources: []ops.DispatcherID{"a", "b", "c"}}}, a.Merges)
}

func TestKeyGeometry(t *testing.T) {
	g := keyGeometry{keys: 3}
	for id, sp := range map[string]ops.Span{"m": {Table: 1}, "a": {Table: 1, End: "1"}, "b": {Table: 1, Start: "1", End: "2"},
		"c": {Table: 1, Start: "2"}, "ab": {Table: 1, End: "2"}, "bc": {Table: 1, Start: "1"}} {
		got, err := g.span(id)
		require.NoError(t, err)
		require.Equal(t, sp, got, id)
		back, err := g.id(sp)
		require.NoError(t, err)
		require.Equal(t, id, back)
	}
	for _, bad := range []string{"", "ac", "d", "ba", "x"} {
		_, err := g.span(bad)
		require.ErrorIs(t, err, ErrNotAbstract, bad)
	}
	for _, bad := range []ops.Span{{Table: 2}, {Table: 1, Start: "x"}, {Table: 1, Start: "2", End: "1"}, {Table: 1, End: "4"}} {
		_, err := g.id(bad)
		require.ErrorIs(t, err, ErrNotAbstract, bad.String())
	}
}

// FuzzRecoverySnapshot: any state TLC could print decodes into a snapshot, and recovers,
// or is refused with an error; never a panic.
func FuzzRecoverySnapshot(f *testing.F) {
	f.Add(recoverySnapshotText)
	f.Add(`/\ alive = {} /\ dropEpoch = 1 /\ epoch = 2 /\ resp = <<>>`)
	f.Add(strings.Replace(recoverySnapshotText, `ab |-> "Working"`, `ab |-> "Bogus"`, 1))
	f.Add(strings.Replace(recoverySnapshotText, `op |-> "move"`, `op |-> "teleport"`, 1))
	f.Fuzz(func(t *testing.T, text string) {
		st, err := tla.ParseState(text)
		if err != nil {
			return
		}
		if _, _, _, _, err := recoverySnapshot(st); err != nil {
			require.ErrorIs(t, err, ErrNotAbstract)
		}
	})
}
