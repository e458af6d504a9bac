package maintainer

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/opfsm/opfsm/internal/testgen"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// steadyFleet is a running maintainer of n tasks over 100 nodes, a tenth of them under a
// move, with the heartbeat each node sends when nothing changed: every dispatcher Working
// at the checkpoint its task has.
func steadyFleet(tb testing.TB, n int) (*Maintainer, []protocol.StatusReport) {
	const nodes = 100
	cfg := Config{Changefeed: "cf", Epoch: 2}
	tasks := make([]ops.Task, 0, n)
	reports := make([]protocol.StatusReport, nodes)
	for i := range nodes {
		node := ops.NodeID("n" + strconv.Itoa(i))
		cfg.Nodes = append(cfg.Nodes, node)
		reports[i] = protocol.StatusReport{Changefeed: "cf", Node: node, Epoch: 2}
	}
	for i := range n {
		id := ops.DispatcherID("t" + strconv.Itoa(i/10) + "-" + strconv.Itoa(i%10))
		node := i % nodes
		tasks = append(tasks, ops.Task{ID: id, Span: ops.Span{Table: ops.TableID(i)}, Node: cfg.Nodes[node], Checkpoint: 1000})
		reports[node].Statuses = append(reports[node].Statuses, ops.Status{ID: id, State: ops.Working, Checkpoint: 1000})
	}
	m, err := NewWithTasks(cfg, tasks)
	if err != nil {
		tb.Fatal(err)
	}
	// A tenth of the tasks are moving away: their operators ignore the origin's Working.
	for i := 0; i < n; i += 10 {
		if err := m.Move(tasks[i].ID, cfg.Nodes[(i+1)%nodes]); err != nil {
			tb.Fatal(err)
		}
	}
	m.Advance()
	return m, reports
}

// BenchmarkHeartbeat: a maintainer of a million tasks absorbs one heartbeat round from
// its 100 nodes, a million statuses of Working dispatchers (goal when nothing changed:
// <= 50 ms on one core, no allocation). "advancing" is the usual round of a live
// changefeed: every checkpoint moved, so every task is written.
func BenchmarkHeartbeat(b *testing.B) {
	m, reports := steadyFleet(b, 1_000_000)
	round := func(b *testing.B) {
		for _, r := range reports {
			if err := m.StepStatus(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	round(b) // the first round from each node finds its tasks by hash and leaves hints
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			round(b)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/status")
	})
	b.Run("advancing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			for _, r := range reports {
				for i := range r.Statuses {
					r.Statuses[i].Checkpoint++
				}
			}
			b.StartTimer()
			round(b)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/status")
	})
}

// BenchmarkBootstrap: a new maintainer of a changefeed of n spans over 100 nodes decodes
// the 100 protobuf bootstrap answers, steps them in and recovers (goal at a million spans:
// <= 1 s and <= 1 GiB allocated on one core).
func BenchmarkBootstrap(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		snap := testgen.BigSnapshot(n)
		wire := make([][]byte, len(snap.Answers))
		for i, a := range snap.Answers {
			var err error
			if wire[i], err = a.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		cfg := Config{Changefeed: snap.Changefeed, Epoch: snap.Epoch, Tables: snap.Tables}
		for _, a := range snap.Answers {
			cfg.Nodes = append(cfg.Nodes, a.Node)
		}
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				for _, w := range wire {
					var a protocol.BootstrapAnswer
					if err := a.UnmarshalBinary(w); err != nil {
						b.Fatal(err)
					}
					if err := m.StepAnswer(a); err != nil {
						b.Fatal(err)
					}
				}
				if err := m.Recover(); err != nil {
					b.Fatal(err)
				}
				if _, opsN := m.Controller().Len(); opsN < n/10 || len(m.Recovery().Rejected) > 0 {
					b.Fatalf("%d operators restored, rejected %v", opsN, m.Recovery().Rejected)
				}
			}
		})
	}
}
