package metrics_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// fleet is a running maintainer of n tasks over 10 nodes, one task per table, with a move
// started on every every-th task (none when every is 0).
func fleet(tb testing.TB, x *metrics.Maintainer, n, every int) *maintainer.Maintainer {
	cfg := maintainer.Config{Changefeed: cf, Epoch: 2, Observer: x.Observer()}
	for i := range 10 {
		cfg.Nodes = append(cfg.Nodes, ops.NodeID("n"+strconv.Itoa(i)))
	}
	tasks := make([]ops.Task, n)
	for i := range tasks {
		tasks[i] = ops.Task{ID: ops.DispatcherID("t" + strconv.Itoa(i)), Span: ops.Span{Table: ops.TableID(i)}, Node: cfg.Nodes[i%10]}
	}
	m, err := maintainer.NewWithTasks(cfg, tasks)
	require.NoError(tb, err)
	for i := 0; every > 0 && i < n; i += every {
		require.NoError(tb, m.Move(tasks[i].ID, cfg.Nodes[(i+1)%10]))
	}
	m.Advance()
	return m
}

// TestUpdateAllocations: a node's Update, and a maintainer's without operators, allocate
// nothing; the observer allocates nothing per transition.
func TestUpdateAllocations(t *testing.T) {
	x := metrics.NewMaintainer()
	m := fleet(t, x, 1000, 0)
	require.Zero(t, testing.AllocsPerRun(10, func() { x.Update(m) }))

	nx := metrics.NewNode()
	n := bigNode(t, 1000)
	require.Zero(t, testing.AllocsPerRun(10, func() { nx.Update(n) }))

	obs := x.Observer()
	tr := moveTransition(t)
	require.Zero(t, testing.AllocsPerRun(100, func() { obs.Observe(tr) }))
}

func moveTransition(tb testing.TB) fsm.Transition {
	def, err := ops.Definition(ops.TypeMove)
	require.NoError(tb, err)
	return fsm.Transition{Def: def, ID: "t1", From: ops.MoveRemoveOrigin, To: ops.MoveAddDest, Trigger: ops.MoveOriginStopped}
}

// bigNode is a node core hosting n Working dispatchers, a tenth of them closing.
func bigNode(tb testing.TB, n int) *node.Node {
	core, err := node.New(node.Config{Node: "B", Changefeed: cf, Owner: 2})
	require.NoError(tb, err)
	ds := make([]protocol.Dispatcher, n)
	for i := range ds {
		ds[i] = protocol.Dispatcher{ID: ops.DispatcherID("d" + strconv.Itoa(i)), Span: ops.Span{Table: ops.TableID(i)},
			State: ops.Working, Removing: i%10 == 0}
	}
	require.NoError(tb, core.Preload(ds...))
	return core
}

// BenchmarkObserver is the cost the exporter adds to every operator transition.
func BenchmarkObserver(b *testing.B) {
	obs := metrics.NewMaintainer().Observer()
	tr := moveTransition(b)
	b.ReportAllocs()
	for b.Loop() {
		obs.Observe(tr)
	}
}

// BenchmarkMaintainerUpdate is one Update of a maintainer of 10,000 tasks: idle, and with
// a tenth of them moving (1,000 operators).
func BenchmarkMaintainerUpdate(b *testing.B) {
	for _, c := range []struct {
		name  string
		every int
	}{{"idle", 0}, {"1000-moves", 10}} {
		b.Run(c.name, func(b *testing.B) {
			x := metrics.NewMaintainer()
			m := fleet(b, x, 10_000, c.every)
			b.ReportAllocs()
			for b.Loop() {
				x.Update(m)
			}
		})
	}
}

// BenchmarkNodeUpdate is one Update of a node hosting 10,000 dispatchers.
func BenchmarkNodeUpdate(b *testing.B) {
	x := metrics.NewNode()
	n := bigNode(b, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		x.Update(n)
	}
}
