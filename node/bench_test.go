package node_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

const (
	benchDispatchers = 10_000
	benchPerTable    = 10 // dispatchers per table: 1,000 tables of 10 spans
)

// benchFleet is a node obeying epoch 1 with benchDispatchers Working dispatchers, and the
// Remove and Create requests of each.
type benchFleet struct {
	n       *node.Node
	ids     []ops.DispatcherID
	removes []protocol.Request
	creates []protocol.Request
}

func newBenchFleet(b testing.TB, perTable int) *benchFleet {
	f := &benchFleet{}
	ds := make([]protocol.Dispatcher, benchDispatchers)
	for i := range ds {
		s := ops.Span{Table: ops.TableID(i / perTable)}
		if k := i % perTable; k > 0 {
			s.Start = fmt.Sprintf("k%02d", k)
		}
		if k := i%perTable + 1; k < perTable {
			s.End = fmt.Sprintf("k%02d", k)
		}
		id := ops.DispatcherID(fmt.Sprintf("d%05d", i))
		ds[i] = disp(id, s, ops.Working, uint64(i))
		f.ids = append(f.ids, id)
		f.removes = append(f.removes, removeReq(id, s, 1))
		f.creates = append(f.creates, createReq(id, s, 1, uint64(i)))
	}
	f.n = newNode(b, 1, ds...)
	return f
}

// iteration runs step i of the steady-state rotation: Remove of a dispatcher, its Closed,
// its Create again, its Working; Ready and Advance every 64 steps.
func (f *benchFleet) iteration(i int) error {
	k := (i / 4) % benchDispatchers
	var err error
	switch i % 4 {
	case 0:
		err = f.n.Step(f.removes[k])
	case 1:
		err = f.n.Closed(f.ids[k], 0)
	case 2:
		err = f.n.Step(f.creates[k])
	default:
		err = f.n.Working(f.ids[k])
	}
	if i%64 == 63 {
		_ = f.n.Ready()
		f.n.Advance()
	}
	return err
}

func benchmarkStep(b *testing.B, perTable int) {
	f := newBenchFleet(b, perTable)
	// Warm up: one full rotation, so every buffer has its steady-state size.
	for i := range 4 * benchDispatchers {
		require.NoError(b, f.iteration(i))
	}
	_ = f.n.Ready()
	f.n.Advance()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := f.iteration(i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	d, r, m := f.n.Len()
	require.GreaterOrEqual(b, d, benchDispatchers-1) // the loop may stop between a Closed and its Create
	require.LessOrEqual(b, r, 1)
	require.Zero(b, m)
}

// BenchmarkStep: one steady-state request or host event per iteration on a node of 10,000
// Working dispatchers.
func BenchmarkStep(b *testing.B) {
	b.Run("10PerTable", func(b *testing.B) { benchmarkStep(b, benchPerTable) })
	b.Run("1PerTable", func(b *testing.B) { benchmarkStep(b, 1) })
}

// BenchmarkTick: the heartbeat of 10,000 Working dispatchers (and the Ready and Advance
// that hand it out).
func BenchmarkTick(b *testing.B) {
	f := newBenchFleet(b, benchPerTable)
	f.n.Tick()
	_ = f.n.Ready()
	f.n.Advance()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f.n.Tick()
		rd := f.n.Ready()
		if len(rd.Reports) != 1 || len(rd.Reports[0].Statuses) != benchDispatchers {
			b.Fatalf("heartbeat of %d reports", len(rd.Reports))
		}
		f.n.Advance()
	}
}

// TestSteadyStateAllocs: a full rotation (Remove, Closed, Create, Working, Ready, Advance)
// allocates nothing once the buffers have grown, when the dispatcher shares its table.
func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10,000 dispatchers")
	}
	rotation := func(f *benchFleet, k int) func() {
		i := 0
		return func() {
			for j := range 4 {
				require.NoError(t, f.iteration(4*((k+i)%benchDispatchers)+j))
			}
			_ = f.n.Ready()
			f.n.Advance()
			i++
		}
	}
	f := newBenchFleet(t, benchPerTable)
	warm := rotation(f, 0)
	for range 100 {
		warm()
	}
	require.Zero(t, testing.AllocsPerRun(1000, rotation(f, 100)))

	t.Run("alone in its table", func(t *testing.T) {
		f := newBenchFleet(t, 1)
		warm := rotation(f, 0)
		for range 100 {
			warm()
		}
		require.Zero(t, testing.AllocsPerRun(1000, rotation(f, 100)))
	})
}

// BenchmarkClone copies a small node core as an exhaustive search does for every state
// whose action changes it: two dispatchers, a merge in progress (go test -bench Clone
// ./node). The copy shares the core's storage: BenchmarkCloneStep adds what a step on it
// copies.
func BenchmarkClone(b *testing.B) {
	n := newNode(b, 1, disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1))
	require.NoError(b, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	_ = n.Ready()
	n.Advance()
	b.ReportAllocs()
	for b.Loop() {
		sink = n.Clone()
	}
}

// BenchmarkCloneStep: a clone of that node and a step on it, as an exhaustive search takes
// one for a successor state: the merged dispatcher becomes MergeReady, then the merge
// commits and the host takes the Ready.
func BenchmarkCloneStep(b *testing.B) {
	n := newNode(b, 1, disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 1))
	require.NoError(b, n.Step(mergeReq("m", t1All, 1, "a", "b")))
	_ = n.Ready()
	n.Advance()
	b.Run("Prepared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = n.Clone()
			if err := sink.Prepared("m"); err != nil {
				b.Fatal(err)
			}
		}
	})
	require.NoError(b, n.Prepared("m"))
	b.Run("CommitMerge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = n.Clone()
			if err := sink.CommitMerge("m"); err != nil {
				b.Fatal(err)
			}
			_ = sink.Ready()
			sink.Advance()
		}
	})
}
