package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
)

// Workload is a seeded random scheduler that a maintainer process runs to keep operators
// in flight: moves, splits and merges of Replicating tasks. It is what the chaos run kills
// maintainers in the middle of.
type Workload struct {
	rng *rand.Rand
	// MaxInFlight is how many operators may run at once before it starts another, as the
	// controller counts them: a merge of two tasks is three (the merge and an occupy on
	// each source), so with 2 nothing else starts while a merge runs.
	MaxInFlight int
	// Spec keeps to the spec's world (docs/cluster.md, "Runs the spec can check"): one
	// operation at a time, and only a move of a task to another live node, a split of a
	// table's whole-range task at SpecCut (the maintainer places the halves), or a merge
	// of the two halves on one node.
	Spec bool
	next uint64
}

// SpecCut is the key at which the spec's world splits its table: the table is one task
// for the whole key range, or two, the halves below and from SpecCut.
const SpecCut = "1"

// SpecHalves are the halves of table t in the spec's world, in key order.
func SpecHalves(t ops.TableID) []ops.Span {
	return ops.Span{Table: t}.Pieces([]ops.Span{{Table: t, Start: SpecCut}})
}

// NewWorkload returns a workload seeded with seed.
func NewWorkload(seed uint64, maxInFlight int) *Workload {
	return &Workload{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), MaxInFlight: max(1, maxInFlight)}
}

// splitKeys are where the workload cuts spans: keys are strings, and these leave room on
// both sides of every cut.
var splitKeys = []string{"c", "f", "i", "l", "o", "r", "u", "x"}

// Step starts at most one operation on m, if m runs and has room, with destinations among
// the task nodes and live, and says what it did
// ("" when nothing): "move <id> to <node>", "split <id> at <key>", "merge <a>+<b> into <id>".
// An operation the maintainer refuses is reported with its error; refusals are expected
// (a task that just got an operator, a node that left).
func (w *Workload) Step(m *maintainer.Maintainer, live []ops.NodeID) (string, error) {
	if m.Booting() {
		return "", nil
	}
	if w.Spec {
		return w.specStep(m, live)
	}
	ctrl := m.Controller()
	if _, busy := ctrl.Len(); busy >= w.MaxInFlight {
		return "", nil
	}
	var nodes []ops.NodeID
	var free []ops.Task
	for _, t := range ctrl.Tasks() {
		if t.Sched != ops.Replicating {
			continue
		}
		if _, busy := ctrl.Operator(t.ID); !busy {
			free = append(free, t)
		}
		if !slices.Contains(nodes, t.Node) {
			nodes = append(nodes, t.Node)
		}
	}
	for _, n := range live {
		if !slices.Contains(nodes, n) {
			nodes = append(nodes, n)
		}
	}
	slices.Sort(nodes)
	if len(free) == 0 || len(nodes) == 0 {
		return "", nil
	}
	switch w.rng.IntN(3) {
	case 0:
		t := free[w.rng.IntN(len(free))]
		dest := nodes[w.rng.IntN(len(nodes))]
		if dest == t.Node {
			return "", nil
		}
		return fmt.Sprintf("move %s to %s", t.ID, dest), m.Move(t.ID, dest)
	case 1:
		t := free[w.rng.IntN(len(free))]
		var inside []string
		for _, k := range splitKeys {
			if k > t.Span.Start && (t.Span.End == "" || k < t.Span.End) {
				inside = append(inside, k)
			}
		}
		if len(inside) == 0 {
			return "", nil
		}
		k := inside[w.rng.IntN(len(inside))]
		spans := []ops.Span{{Table: t.Span.Table, Start: t.Span.Start, End: k}, {Table: t.Span.Table, Start: k, End: t.Span.End}}
		targets := []ops.NodeID{nodes[w.rng.IntN(len(nodes))], nodes[w.rng.IntN(len(nodes))]}
		return fmt.Sprintf("split %s at %q", t.ID, k), m.Split(t.ID, spans, targets)
	default:
		// Merge two adjacent free tasks of one table; if they are on different nodes, move
		// one next to the other first (a later step merges them).
		slices.SortFunc(free, func(a, b ops.Task) int { return ops.CompareSpans(a.Span, b.Span) })
		var pairs [][2]ops.Task
		for i := 0; i+1 < len(free); i++ {
			if free[i].Span.Adjacent(free[i+1].Span) {
				pairs = append(pairs, [2]ops.Task{free[i], free[i+1]})
			}
		}
		if len(pairs) == 0 {
			return "", nil
		}
		p := pairs[w.rng.IntN(len(pairs))]
		if p[0].Node != p[1].Node {
			return fmt.Sprintf("move %s to %s", p[1].ID, p[0].Node), m.Move(p[1].ID, p[0].Node)
		}
		return w.merge(m, p[0], p[1])
	}
}

// specStep is Step in the spec's world: with no operator in flight and every task
// Replicating, it picks a kind among those possible (move, split, merge), then one
// operation of that kind.
func (w *Workload) specStep(m *maintainer.Maintainer, live []ops.NodeID) (string, error) {
	ctrl := m.Controller()
	if _, busy := ctrl.Len(); busy > 0 {
		return "", nil
	}
	tasks := ctrl.Tasks()
	type move struct {
		t    ops.Task
		dest ops.NodeID
	}
	var moves []move
	for _, t := range tasks {
		if t.Sched != ops.Replicating {
			return "", nil
		}
		for _, n := range live {
			if n != t.Node {
				moves = append(moves, move{t, n})
			}
		}
	}
	var kinds []string
	if len(moves) > 0 {
		kinds = append(kinds, "move")
	}
	if len(tasks) == 1 && tasks[0].Span == (ops.Span{Table: tasks[0].Span.Table}) {
		kinds = append(kinds, "split")
	}
	if len(tasks) == 2 {
		slices.SortFunc(tasks, func(a, b ops.Task) int { return ops.CompareSpans(a.Span, b.Span) })
		if halves := SpecHalves(tasks[0].Span.Table); tasks[0].Span == halves[0] && tasks[1].Span == halves[1] && tasks[0].Node == tasks[1].Node {
			kinds = append(kinds, "merge")
		}
	}
	if len(kinds) == 0 {
		return "", nil
	}
	switch kinds[w.rng.IntN(len(kinds))] {
	case "move":
		mv := moves[w.rng.IntN(len(moves))]
		return fmt.Sprintf("move %s to %s", mv.t.ID, mv.dest), m.Move(mv.t.ID, mv.dest)
	case "split":
		t := tasks[0]
		// No targets: the halves are left Absent and the maintainer's clock places them
		// (a ScheduleAbsent step each), as in the spec; with targets the controller adds
		// them within the step that takes the origin's Stopped, which the spec has not.
		return fmt.Sprintf("split %s at %q", t.ID, SpecCut), m.Split(t.ID, SpecHalves(t.Span.Table), nil)
	default:
		return w.merge(m, tasks[0], tasks[1])
	}
}

// merge merges adjacent tasks a and b into a new task.
func (w *Workload) merge(m *maintainer.Maintainer, a, b ops.Task) (string, error) {
	w.next++
	id := ops.DispatcherID(fmt.Sprintf("m%d.%d", m.Epoch(), w.next))
	return fmt.Sprintf("merge %s+%s into %s", a.ID, b.ID, id), m.Merge([]ops.DispatcherID{a.ID, b.ID}, id)
}
