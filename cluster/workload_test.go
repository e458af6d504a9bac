package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
)

// steps is how many workload steps a test takes: enough for every branch of a seeded
// workload to come up many times.
const steps = 60

// task is a Replicating task id for span s on node n.
func task(id ops.DispatcherID, s ops.Span, n ops.NodeID) ops.Task {
	return ops.Task{ID: id, Span: s, Node: n}
}

// maintaining is a running maintainer of epoch 2 with nodes and tasks.
func maintaining(t *testing.T, nodes []ops.NodeID, tasks ...ops.Task) *maintainer.Maintainer {
	t.Helper()
	var tables []ops.TableID
	for _, x := range tasks {
		if !slices.Contains(tables, x.Span.Table) {
			tables = append(tables, x.Span.Table)
		}
	}
	m, err := maintainer.NewWithTasks(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: nodes, Tables: tables}, tasks)
	require.NoError(t, err)
	return m
}

// run steps w on m n times with live nodes, and returns what it did, refusals marked.
func run(t *testing.T, w *Workload, m *maintainer.Maintainer, live []ops.NodeID, n int) []string {
	t.Helper()
	var out []string
	for range n {
		what, err := w.Step(m, live)
		if what == "" {
			require.NoError(t, err)
			continue
		}
		if err != nil {
			what += " refused"
		}
		out = append(out, what)
	}
	return out
}

// Spans without a split key strictly inside, for tests that must see no split.
var (
	xy  = ops.Span{Table: 1, Start: "x", End: "y"}
	yz  = ops.Span{Table: 1, Start: "y", End: "z"}
	yyz = ops.Span{Table: 1, Start: "yy", End: "z"}
)

// TestNewWorkload proves that a workload allows at least one operator in flight.
func TestNewWorkload(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{-3, 1}, {0, 1}, {1, 1}, {4, 4}} {
		require.Equal(t, tc.want, NewWorkload(1, tc.in).MaxInFlight, "NewWorkload(1, %d)", tc.in)
	}
}

// TestWorkloadBooting proves that the workload does nothing while the maintainer boots.
func TestWorkloadBooting(t *testing.T) {
	m, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1}})
	require.NoError(t, err)
	require.True(t, m.Booting())
	require.Empty(t, run(t, NewWorkload(1, 5), m, []ops.NodeID{"A"}, steps))
}

// TestWorkloadMoves proves the moves: a Replicating task moves to another node, among the
// task nodes and the live ones, never to its own; a destination the maintainer does not
// know is refused and the refusal returned.
func TestWorkloadMoves(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []ops.NodeID // the maintainer's
		tasks []ops.Task
		live  []ops.NodeID
		want  []string
	}{
		{name: "to a live node", nodes: []ops.NodeID{"A", "C"}, tasks: []ops.Task{task("a", xy, "A")}, live: []ops.NodeID{"C"},
			want: []string{"move a to C"}},
		{name: "to another task's node", nodes: []ops.NodeID{"A", "B"}, tasks: []ops.Task{task("a", xy, "A"), task("b", yyz, "B")},
			want: []string{"move b to A"}},
		{name: "nowhere else to go", nodes: []ops.NodeID{"A", "B"}, tasks: []ops.Task{task("a", xy, "A")}, live: []ops.NodeID{"A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := maintaining(t, tc.nodes, tc.tasks...)
			require.Equal(t, tc.want, run(t, NewWorkload(1, 1), m, tc.live, steps))
		})
	}

	// A live node the maintainer does not know: every move there is refused, and nothing
	// is left in flight.
	m := maintaining(t, []ops.NodeID{"A"}, task("a", xy, "A"))
	w := NewWorkload(1, 1)
	refused := 0
	for range steps {
		what, err := w.Step(m, []ops.NodeID{"Z"})
		if what != "" {
			require.Equal(t, "move a to Z", what)
			require.ErrorIs(t, err, maintainer.ErrUnknownNode)
			refused++
		}
	}
	require.Positive(t, refused)
	_, busy := m.Controller().Len()
	require.Zero(t, busy)
}

// TestWorkloadSplits proves that a split cuts a task only at a key strictly inside its
// span, in two, onto nodes of the workload's choice.
func TestWorkloadSplits(t *testing.T) {
	for _, tc := range []struct {
		span ops.Span
		want string // the only key inside, "" for none
	}{
		{span: ops.Span{Table: 1, Start: "c", End: "f"}},
		{span: ops.Span{Table: 1, Start: "c", End: "i"}, want: "f"},
		{span: ops.Span{Table: 1, Start: "b", End: "d"}, want: "c"},
		{span: ops.Span{Table: 1, End: "c"}},
		{span: ops.Span{Table: 1, End: "d"}, want: "c"},
		{span: ops.Span{Table: 1, Start: "x"}},
		{span: ops.Span{Table: 1, Start: "u"}, want: "x"},
	} {
		t.Run(tc.span.String(), func(t *testing.T) {
			m := maintaining(t, []ops.NodeID{"A"}, task("s", tc.span, "A"))
			got := run(t, NewWorkload(3, 1), m, []ops.NodeID{"A"}, steps)
			if tc.want == "" {
				require.Empty(t, got)
				return
			}
			require.Equal(t, []string{fmt.Sprintf("split s at %q", tc.want)}, got)
			rec, ok := m.Controller().Operator("s")
			require.True(t, ok)
			require.Equal(t, ops.TypeSplit, rec.Type)
			lo, hi := tc.span, tc.span
			lo.End, hi.Start = tc.want, tc.want
			require.Equal(t, []ops.Span{lo, hi}, rec.SplitSpans)
			require.Equal(t, []ops.NodeID{"A", "A"}, rec.SplitTargets)
		})
	}
}

// TestWorkloadMerges proves the merges: two adjacent tasks of one table on one node are
// merged into a new task named after the epoch and a counter; adjacent tasks on two nodes
// are brought together by a move first; tasks that are not adjacent are never merged.
func TestWorkloadMerges(t *testing.T) {
	t2xy, t2yz := xy, yz
	t2xy.Table, t2yz.Table = 2, 2
	for _, tc := range []struct {
		name        string
		tasks       []ops.Task
		maxInFlight int
		want        []string
	}{
		{name: "adjacent on one node", tasks: []ops.Task{task("b", yz, "A"), task("a", xy, "A")}, maxInFlight: 1,
			want: []string{"merge a+b into m2.1"}},
		// A merge is three operators in flight: the merge and one holding each source.
		{name: "two pairs", tasks: []ops.Task{task("a", xy, "A"), task("b", yz, "A"), task("c", t2xy, "A"), task("d", t2yz, "A")},
			maxInFlight: 4, want: []string{"merge c+d into m2.1", "merge a+b into m2.2"}},
		{name: "a merge takes three places", tasks: []ops.Task{task("a", xy, "A"), task("b", yz, "A"), task("c", t2xy, "A"), task("d", t2yz, "A")},
			maxInFlight: 3, want: []string{"merge c+d into m2.1"}},
		{name: "adjacent on two nodes", tasks: []ops.Task{task("a", xy, "A"), task("b", yz, "B")}, maxInFlight: 1,
			want: []string{"move b to A"}},
		{name: "not adjacent", tasks: []ops.Task{task("a", xy, "A"), task("b", yyz, "A")}, maxInFlight: 1},
		{name: "adjacent keys of two tables", tasks: []ops.Task{task("a", xy, "A"), task("b", t2yz, "A")}, maxInFlight: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nodes []ops.NodeID
			for _, x := range tc.tasks {
				if !slices.Contains(nodes, x.Node) {
					nodes = append(nodes, x.Node)
				}
			}
			m := maintaining(t, nodes, tc.tasks...)
			// Every node is a task's: a move from the random choice of case 0 would go
			// nowhere new, so what moves here is the merge's move.
			got := run(t, NewWorkload(5, tc.maxInFlight), m, nil, steps)
			if len(nodes) == 1 {
				require.Equal(t, tc.want, got)
			} else {
				require.Contains(t, [][]string{{"move b to A"}, {"move a to B"}}, got)
			}
			for _, what := range tc.want {
				var a, b, id string
				if _, err := fmt.Sscanf(what, "merge %1s+%1s into %s", &a, &b, &id); err == nil {
					rec, ok := m.Controller().Operator(ops.DispatcherID(id))
					require.True(t, ok)
					require.Equal(t, ops.TypeMerge, rec.Type)
					require.Equal(t, []ops.DispatcherID{ops.DispatcherID(a), ops.DispatcherID(b)}, rec.Sources)
				}
			}
		})
	}
}

// TestWorkloadMergeMovesTogether proves that two adjacent tasks on two nodes are merged
// only after one moved next to the other: the merge branch moves the later one to the
// earlier one's node.
func TestWorkloadMergeMovesTogether(t *testing.T) {
	for seed := range uint64(20) {
		m := maintaining(t, []ops.NodeID{"A", "B"}, task("a", xy, "A"), task("b", yz, "B"))
		for _, what := range run(t, NewWorkload(seed, 1), m, []ops.NodeID{"A", "B"}, steps) {
			require.Contains(t, []string{"move a to B", "move b to A"}, what, "seed %d", seed)
		}
	}
}

// TestWorkloadMaxInFlight proves that the workload starts operators until MaxInFlight are
// in flight, and no more.
func TestWorkloadMaxInFlight(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			m := maintaining(t, []ops.NodeID{"A", "B"}, task("a", ops.Span{Table: 1}, "A"), task("b", ops.Span{Table: 2}, "A"),
				task("c", ops.Span{Table: 3}, "A"), task("d", ops.Span{Table: 4}, "A"), task("e", ops.Span{Table: 5}, "A"))
			w := NewWorkload(7, limit)
			for range steps {
				_, err := w.Step(m, []ops.NodeID{"A", "B"})
				require.NoError(t, err)
				_, busy := m.Controller().Len()
				require.LessOrEqual(t, busy, limit)
			}
			_, busy := m.Controller().Len()
			require.Equal(t, limit, busy)
		})
	}
}

// TestWorkloadDeterministic proves that a workload's choices are its seed's: two runs of
// one seed on equal maintainers do the same, another seed does otherwise; and that a
// workload of enough steps moves, splits and merges.
func TestWorkloadDeterministic(t *testing.T) {
	cluster := func() *maintainer.Maintainer {
		return maintaining(t, []ops.NodeID{"A", "B", "C"},
			task("a", ops.Span{Table: 1, End: "k"}, "A"), task("b", ops.Span{Table: 1, Start: "k", End: "t"}, "A"),
			task("c", ops.Span{Table: 1, Start: "t"}, "B"), task("d", ops.Span{Table: 2}, "C"),
			task("e", ops.Span{Table: 3, End: "m"}, "C"), task("f", ops.Span{Table: 3, Start: "m"}, "C"))
	}
	live := []ops.NodeID{"A", "B", "C", "D"}
	first := run(t, NewWorkload(11, 10), cluster(), live, steps)
	require.Equal(t, first, run(t, NewWorkload(11, 10), cluster(), live, steps))
	require.NotEqual(t, first, run(t, NewWorkload(12, 10), cluster(), live, steps))

	kinds := map[string]int{}
	for seed := range uint64(5) {
		for _, what := range run(t, NewWorkload(seed, 10), cluster(), live, steps) {
			var kind string
			_, _ = fmt.Sscan(what, &kind)
			kinds[kind]++
		}
	}
	require.Positive(t, kinds["move"])
	require.Positive(t, kinds["split"])
	require.Positive(t, kinds["merge"])
	require.Equal(t, []string{"merge", "move", "split"}, sortedKeys(kinds))
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSpecHalves proves the halves of the spec's world: below and from SpecCut.
func TestSpecHalves(t *testing.T) {
	require.Equal(t, []ops.Span{{Table: 7, End: "1"}, {Table: 7, Start: "1"}}, SpecHalves(7))
}

// TestSpecWorkload proves the workload of the spec's world: one operation at a time
// whatever MaxInFlight; a move of a task to another live node; a split only of a table's
// whole-range task, at SpecCut, the halves left to the maintainer to place; a merge only
// of the two halves on one node; nothing while a task is not Replicating.
func TestSpecWorkload(t *testing.T) {
	halves := SpecHalves(1)
	live := []ops.NodeID{"A", "B", "C"}
	for _, tc := range []struct {
		name  string
		tasks []ops.Task
		want  []string // what the first operation may be
	}{
		{name: "whole", tasks: []ops.Task{task("m", t1All, "A")},
			want: []string{`split m at "1"`, "move m to B", "move m to C"}},
		{name: "halves on one node", tasks: []ops.Task{task("b", halves[1], "B"), task("a", halves[0], "B")},
			want: []string{"merge a+b into m2.1", "move a to A", "move a to C", "move b to A", "move b to C"}},
		{name: "halves on two nodes", tasks: []ops.Task{task("a", halves[0], "A"), task("b", halves[1], "B")},
			want: []string{"move a to B", "move a to C", "move b to A", "move b to C"}},
		{name: "not the spec's spans", tasks: []ops.Task{task("x", xy, "A")}, want: []string{"move x to B", "move x to C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for seed := range uint64(30) {
				m := maintaining(t, live, tc.tasks...)
				w := NewWorkload(seed, 10)
				w.Spec = true
				got := run(t, w, m, live, steps)
				require.Len(t, got, 1, "one operation at a time")
				require.Contains(t, tc.want, got[0])
				seen[got[0]] = true
				switch {
				case strings.HasPrefix(got[0], "split"):
					rec, ok := m.Controller().Operator("m")
					require.True(t, ok)
					require.Equal(t, halves, rec.SplitSpans)
					require.Empty(t, rec.SplitTargets)
				case strings.HasPrefix(got[0], "merge"):
					rec, ok := m.Controller().Operator("m2.1")
					require.True(t, ok)
					require.Equal(t, []ops.DispatcherID{"a", "b"}, rec.Sources)
				}
			}
			require.Len(t, seen, len(tc.want), "every choice comes up: %v", seen)
		})
	}

	// A task that is not Replicating (its node left; the maintainer's clock places it):
	// nothing.
	m := maintaining(t, live, task("a", halves[0], "A"), task("b", halves[1], "B"))
	m.NodeRemoved("B")
	tk, _ := m.Controller().Task("b")
	require.Equal(t, ops.Absent, tk.Sched)
	_, busy := m.Controller().Len()
	require.Zero(t, busy)
	w := NewWorkload(1, 10)
	w.Spec = true
	require.Empty(t, run(t, w, m, []ops.NodeID{"A", "C"}, steps))
}
