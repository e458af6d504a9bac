package maintainer

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/seeded"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// traced returns a booting maintainer of epoch 3 on nodes A and B with one table whose
// Trace records "Action id node status/epoch table" lines.
func traced(t *testing.T) (*Maintainer, *[]string) {
	t.Helper()
	var got []string
	var m *Maintainer
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B"}, Tables: []ops.TableID{1}, BootstrapTicks: 2,
		Trace: func(s Step) {
			line := fmt.Sprintf("%s %s %s", s.Action, s.ID, s.Node)
			if s.Action == StepStatus {
				line += fmt.Sprintf(" %s/%d", s.Status.State, s.Epoch)
				if s.Epoch == 3 && !m.Booting() {
					_, busy := m.Controller().Operator(s.Status.ID)
					line += fmt.Sprintf(" busy=%v", busy)
				}
			}
			if s.Table != 0 {
				line += fmt.Sprintf(" t%d", s.Table)
			}
			got = append(got, line)
		}})
	require.NoError(t, err)
	return m, &got
}

func TestTraceSeesEveryStepInOrder(t *testing.T) {
	m, got := traced(t)
	take(m)
	require.NoError(t, m.StepAnswer(answer("A", 3, protocol.Dispatcher{ID: "d", Span: whole, State: ops.Working})))
	m.Tick()
	m.Tick() // B is asked again
	require.NoError(t, m.StepStatus(status("A", 3, "d", ops.Working)))
	require.NoError(t, m.StepStatus(status("A", 2, "d", ops.Working)))
	m.DropTable(9)
	require.NoError(t, m.StepAnswer(answer("B", 3)))
	require.NoError(t, m.Recover())
	require.Equal(t, []string{
		"AskBootstrap  B",
		"MaintainerStatus  A Working/2", // another epoch: fenced at once
		"Recover  ",
		"DropTable   t9",
		"MaintainerStatus  A Working/3 busy=false", // waited for recovery
	}, *got)

	*got = nil
	require.NoError(t, m.Move("d", "B"))
	require.Error(t, m.Move("d", "A"), "refused: not traced")
	require.NoError(t, m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 3,
		Statuses: []ops.Status{{ID: "d", State: ops.Working}, {ID: "d", State: ops.Stopped}}}))
	for range 10 {
		m.Tick()
	}
	require.NoError(t, m.CreateTable(2, "t2", 0))
	m.Tick()
	m.NodeRemoved("B")
	m.NodeRemoved("B")
	m.NodeAdded("C")
	require.Equal(t, []string{
		"StartMove d B",
		"MaintainerStatus  A Working/3 busy=true",
		"MaintainerStatus  A Stopped/3 busy=true",
		"Resend d B",
		"CreateTable t2  t2",
		"ScheduleAbsent t2 A",
		"NodeCrash  B",
		"NodeAdded  C",
	}, *got)
}

func TestTraceOffTakesReportsWhole(t *testing.T) {
	m := running(t, ops.Task{ID: "d", Span: whole, Node: "A"})
	require.NoError(t, m.Move("d", "B"))
	take(m)
	require.NoError(t, m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2,
		Statuses: []ops.Status{{ID: "d", State: ops.Working}, {ID: "d", State: ops.Stopped}}}))
	require.Equal(t, uint64(2), m.Metrics().StatusesApplied)
	require.Equal(t, []string{"Create d->B"}, take(m))
}

// TestRecoverEarlyIsSeededOnly: a booting maintainer recovers only once every live node
// answered; with the seeded bug recover_before_all_answers it recovers from the answers it
// has, and a node that did not answer yet contributes nothing.
func TestRecoverEarlyIsSeededOnly(t *testing.T) {
	m, err := New(Config{Changefeed: cf, Epoch: 3, Nodes: []ops.NodeID{"A", "B"}, Tables: []ops.TableID{1}})
	require.NoError(t, err)
	require.NoError(t, m.StepAnswer(answer("B", 3)))
	require.False(t, m.Recoverable())
	require.ErrorIs(t, m.Recover(), ErrAwaitingAnswers)

	bad := m.Clone()
	seeded.SetMaintainerBugs(bad, seeded.MaintainerBugs{RecoverEarly: true})
	require.True(t, bad.Recoverable())
	require.NoError(t, bad.Recover())
	require.False(t, bad.Recoverable(), "a running maintainer recovers no more")
	tk, ok := bad.Controller().Task("t1-e3-")
	require.True(t, ok, "A's span is a hole: %v", bad.Controller().Tasks())
	require.Equal(t, ops.Absent, tk.Sched)
	require.True(t, m.Booting(), "the clone's bug does not touch the original")
}
