package operators

import (
	"runtime"
	"strconv"
	"testing"
)

const inFlight = 100_000

// fleet builds a controller with n in-flight operators of every type (add, remove, move,
// split and merge with its two occupies, in turn) over 100 nodes.
func fleet(tb testing.TB, n int) (*Controller, []DispatcherID) {
	c := NewController(Config{Changefeed: "cf", Epoch: 3})
	ids := make([]DispatcherID, 0, n)
	node := func(i int) NodeID { return NodeID("n" + strconv.Itoa(i%100)) }
	for i := 0; len(ids) < n; i++ {
		id := DispatcherID("d" + strconv.Itoa(i))
		tbl := TableID(i)
		var err error
		switch i % 5 {
		case 0:
			err = c.AddTask(Task{ID: id, Span: Span{Table: tbl}, Sched: Absent})
			if err == nil {
				err = c.ScheduleAbsent(id, node(i))
			}
		case 1:
			err = c.AddTask(Task{ID: id, Span: Span{Table: tbl}, Sched: Replicating, Node: node(i)})
			if err == nil {
				err = c.StartRemove(id)
			}
		case 2:
			err = c.AddTask(Task{ID: id, Span: Span{Table: tbl}, Sched: Replicating, Node: node(i)})
			if err == nil {
				err = c.StartMove(id, node(i+1))
			}
		case 3:
			err = c.AddTask(Task{ID: id, Span: Span{Table: tbl}, Sched: Replicating, Node: node(i)})
			if err == nil {
				err = c.StartSplit(id, []Span{{Table: tbl, End: "k"}, {Table: tbl, Start: "k"}}, nil)
			}
		case 4:
			a, b := id+"a", id+"b"
			if err = c.AddTask(Task{ID: a, Span: Span{Table: tbl, End: "k"}, Sched: Replicating, Node: node(i)}); err == nil {
				if err = c.AddTask(Task{ID: b, Span: Span{Table: tbl, Start: "k"}, Sched: Replicating, Node: node(i)}); err == nil {
					err = c.StartMerge([]DispatcherID{a, b}, id)
				}
			}
		}
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	return c, ids
}

// BenchmarkRetainedPerOperator reports the heap a controller retains per in-flight
// operator, its task, record parameters and index entries included (goal <= 512 B). A merge
// counts as one operator although it holds two occupies and three tasks.
func BenchmarkRetainedPerOperator(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, ids := fleet(b, inFlight)
		runtime.GC()
		runtime.ReadMemStats(&after)
		idBytes := float64(len(ids)) * 16 // the ids slice is the benchmark's, not the controller's
		retained := float64(after.HeapAlloc-before.HeapAlloc) - idBytes
		_, entries := c.Len()
		b.ReportMetric(retained/inFlight, "B/operator")
		b.ReportMetric(retained/float64(entries), "B/entry")
		runtime.KeepAlive(c)
		runtime.KeepAlive(ids)
	}
}

// BenchmarkHandleStatus feeds status reports to a controller holding 100,000 in-flight
// operators: reports the operators ignore (origin still Working), the steady state of a
// maintainer's heartbeat loop (goal <= 500 ns, 0 allocs).
func BenchmarkHandleStatus(b *testing.B) {
	c, ids := fleet(b, inFlight)
	statuses := make([]struct {
		from NodeID
		st   Status
	}, len(ids))
	for i, id := range ids {
		rec, _ := c.Operator(id)
		from := rec.Origin
		if from == "" {
			from = rec.Dest
		}
		statuses[i].from = from
		statuses[i].st = Status{ID: id, State: Initializing}
		if rec.Type != TypeAdd {
			statuses[i].st.State = Working
		}
		if rec.Type == TypeMerge {
			statuses[i].st.State = MergeReady
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := &statuses[i%len(statuses)]
		if msgs := c.HandleStatus(s.from, s.st); msgs != nil {
			b.Fatal("unexpected message")
		}
	}
	b.StopTimer()
	if _, ops := c.Len(); ops < inFlight {
		b.Fatalf("operators finished: %d left", ops)
	}
}

// BenchmarkTransition drives operators through real transitions (move: origin stopped ->
// AddDest) among 100,000 in-flight ones; each op transitions once, so the fleet is rebuilt
// when it runs out.
func BenchmarkTransition(b *testing.B) {
	var c *Controller
	var moves []DispatcherID
	var origins []NodeID
	next := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if next == len(moves) {
			b.StopTimer()
			var ids []DispatcherID
			c, ids = fleet(b, inFlight)
			moves, origins = moves[:0], origins[:0]
			for j, id := range ids {
				if j%5 == 2 {
					rec, _ := c.Operator(id)
					moves = append(moves, id)
					origins = append(origins, rec.Origin)
				}
			}
			next = 0
			b.StartTimer()
		}
		id := moves[next]
		next++
		c.HandleStatus(origins[next-1], Status{ID: id, State: Stopped})
	}
}
