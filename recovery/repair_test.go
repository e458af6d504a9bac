package recovery

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestRepairCoverageAfterRestoredRemove: a restored standalone remove of a live table
// deletes its task when it finishes, and then exactly the ranges of that table left
// uncovered get Absent tasks with fillHoles' ids (domain.md 3.3, C10). A remove nobody
// restored, or one of a dropped table, repairs nothing.
func TestRepairCoverageAfterRestoredRemove(t *testing.T) {
	removeJournal := func(sp ops.Span) ops.Record {
		return ops.Record{Changefeed: cf, ID: "d", Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: sp, Origin: "B"}
	}
	stopped := func(c *ops.Controller) { require.Nil(t, c.HandleStatus("B", ops.Status{ID: "d", State: ops.Stopped})) }
	cases := []struct {
		name   string
		tables []ops.TableID
		resps  []protocol.BootstrapAnswer
		before []string // tasks right after Recover
		act    func(t *testing.T, c *ops.Controller)
		want   []string // tasks after act
	}{
		{"whole table removed: one Absent task for the whole table", []ops.TableID{100},
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", full, ops.Working))), removeJournal(full))},
			[]string{"d 100[,) Replicating@B"},
			func(t *testing.T, c *ops.Controller) { stopped(c) },
			[]string{"t100-e2- 100[,) Absent"}},
		{"one half removed, the other adopted: Absent for the removed half only", []ops.TableID{100},
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", left, ops.Working))), removeJournal(left)), resp("C", disp("d2", right, ops.Working))},
			[]string{"d 100[,m) Replicating@B", "d2 100[m,) Replicating@C"},
			func(t *testing.T, c *ops.Controller) { stopped(c) },
			[]string{"d2 100[m,) Replicating@C", "t100-e2- 100[,m) Absent"}},
		{"part of the range covered again before the remove finished: only the rest", []ops.TableID{100},
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", left, ops.Working))), removeJournal(left)), resp("C", disp("d2", right, ops.Working))},
			[]string{"d 100[,m) Replicating@B", "d2 100[m,) Replicating@C"},
			func(t *testing.T, c *ops.Controller) {
				require.NoError(t, c.AddTask(ops.Task{ID: "x", Span: ops.Span{Table: 100, End: "g"}, Sched: ops.Absent}))
				stopped(c)
			},
			[]string{"d2 100[m,) Replicating@C", "t100-e2-g 100[g,m) Absent", "x 100[,g) Absent"}},
		{"origin lost: the remove finishes and repairs the same way", []ops.TableID{100},
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", left, ops.Working))), removeJournal(left)), resp("C", disp("d2", right, ops.Working))},
			[]string{"d 100[,m) Replicating@B", "d2 100[m,) Replicating@C"},
			func(t *testing.T, c *ops.Controller) { c.HandleNodeRemoved("B") },
			[]string{"d2 100[m,) Replicating@C", "t100-e2- 100[,m) Absent"}},
		{"other tables are left alone", []ops.TableID{100, 200},
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", left, ops.Working))), removeJournal(left)), resp("C", disp("d2", right, ops.Working), disp("e", ops.Span{Table: 200, End: "m"}, ops.Working))},
			[]string{"d 100[,m) Replicating@B", "d2 100[m,) Replicating@C", "e 200[,m) Replicating@C", "t200-e2-m 200[m,) Absent"},
			func(t *testing.T, c *ops.Controller) {
				require.NoError(t, c.DeleteTask("t200-e2-m")) // a hole in table 200 that is not this remove's business
				stopped(c)
			},
			[]string{"d2 100[m,) Replicating@C", "e 200[,m) Replicating@C", "t100-e2- 100[,m) Absent"}},
		{"a remove the scheduler added after recovery only deletes", []ops.TableID{100},
			[]protocol.BootstrapAnswer{resp("B", disp("d", left, ops.Working)), resp("C", disp("d2", right, ops.Working))},
			[]string{"d 100[,m) Replicating@B", "d2 100[m,) Replicating@C"},
			func(t *testing.T, c *ops.Controller) {
				require.NoError(t, c.StartRemove("d"))
				stopped(c)
			},
			[]string{"d2 100[m,) Replicating@C"}},
		{"remove of a dropped table: no task, nothing to repair", nil,
			[]protocol.BootstrapAnswer{withRemoves(resp("B", removing(disp("d", left, ops.Working))), removeJournal(left))},
			nil,
			func(t *testing.T, c *ops.Controller) { stopped(c) },
			nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Recover(protocol.Snapshot{Changefeed: cf, Epoch: 2, Tables: tc.tables, Answers: tc.resps})
			require.NoError(t, err)
			require.Empty(t, res.Rejected)
			require.Equal(t, tc.before, summarize(res).tasks)
			tc.act(t, res.Controller)
			require.Equal(t, tc.want, summarize(res).tasks)
			_, opsLeft := res.Controller.Len()
			require.Zero(t, opsLeft)
		})
	}
}

// TestRepairWaitsForRecoverToFinish: a journaled remove that is already finished when it
// is restored deletes its task during Recover; the hole is then fillHoles' to fill, once.
func TestRepairWaitsForRecoverToFinish(t *testing.T) {
	done := ops.Record{Changefeed: cf, ID: "d", Type: ops.TypeRemove, State: ops.RemoveDone, Epoch: 1, Span: left, Origin: "B"}
	res, err := Recover(protocol.Snapshot{Changefeed: cf, Epoch: 2, Tables: []ops.TableID{100}, Answers: []protocol.BootstrapAnswer{
		withRemoves(resp("B", removing(disp("d", left, ops.Working))), done), resp("C", disp("d2", right, ops.Working)),
	}})
	require.NoError(t, err)
	require.Empty(t, res.Rejected)
	require.Equal(t, []string{"d2 100[m,) Replicating@C", "t100-e2- 100[,m) Absent"}, summarize(res).tasks)
}
