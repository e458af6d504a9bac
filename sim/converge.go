package sim

import (
	"fmt"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Settle runs the cluster with faults and scheduler operations stopped until it has
// converged (stable, and every task served by a Working dispatcher) or maxSteps steps were
// taken. The scheduler is fair (the spec's weak fairness): of the
// enabled actions it takes the one taken least recently, so no action that stays enabled
// waits forever behind a resend loop. It returns the steps taken; the invariants are
// checked after each one.
func (c *Cluster) Settle(maxSteps int) ([]Action, error) {
	var trace []Action
	f := NewFair()
	for len(trace) < maxSteps && c.Converged() != nil {
		a, ok := f.Next(c, nil)
		if !ok {
			break
		}
		if err := c.Apply(a); err != nil {
			return trace, fmt.Errorf("sim: settle step %s: %w", a, err)
		}
		trace = append(trace, a)
		if err := c.Check(); err != nil {
			return trace, err
		}
	}
	return trace, c.Converged()
}

// Fair is the fair scheduler of Settle, usable step by step (scenario runs interleave it
// with their own actions): of the enabled actions that are neither faults nor scheduler
// operations, it picks the one it picked least recently.
type Fair struct {
	last map[string]int
	turn int
}

// NewFair returns a fair scheduler that has picked nothing yet.
func NewFair() *Fair { return &Fair{last: map[string]int{}} }

// Next picks the next fair action of c among those allow accepts (nil: all); ok is false
// when there is none.
func (f *Fair) Next(c *Cluster, allow func(Action) bool) (Action, bool) {
	var a Action
	best := -1
	for _, e := range c.Enabled() {
		if e.IsFault() || e.IsScheduler() || (allow != nil && !allow(e)) {
			continue
		}
		if t := f.last[e.String()]; best < 0 || t < best {
			a, best = e, t
		}
	}
	if best < 0 {
		return Action{}, false
	}
	f.turn++
	f.last[a.String()] = f.turn
	return a, true
}

// Stable: the maintainer runs with no operator and no Absent or Scheduling task, no node
// has a journal entry, and no create, remove or merge request is in flight.
func (c *Cluster) Stable() bool {
	ctrl := c.m.Controller()
	if ctrl == nil {
		return false
	}
	if _, n := ctrl.Len(); n > 0 {
		return false
	}
	for _, t := range ctrl.Tasks() {
		if t.Sched != ops.Replicating {
			return false
		}
	}
	for _, nd := range c.liveCores() {
		if _, removes, merges := nd.Len(); removes > 0 || merges > 0 {
			return false
		}
	}
	for _, rq := range c.net.req {
		if c.alive[rq.s.Node] && slices.ContainsFunc(rq.q, func(r protocol.Request) bool { return r.Kind != protocol.Bootstrap }) {
			return false
		}
	}
	return true
}

// Converged checks L2 with S6 (Converge in Properties.tla): stable, every task Working on
// its live node, every live table covered exactly once (but for the spans the running
// maintainer's standalone removes took out, which may be uncovered), and no dispatcher
// without its task (no orphans, dropped tables cleaned: L4, L5).
func (c *Cluster) Converged() error {
	fail := func(format string, args ...any) error {
		return &Violation{Property: "Converge", Detail: fmt.Sprintf(format, args...)}
	}
	if !c.Stable() {
		return fail("not stable")
	}
	owned := map[ops.NodeID]map[ops.DispatcherID]bool{}
	cover := map[ops.TableID][]ops.Span{}
	for _, t := range c.m.Controller().Tasks() {
		d, ok := c.core(t.Node).Dispatcher(t.ID)
		if !c.alive[t.Node] || !ok || d.State != ops.Working || d.Removing {
			return fail("task %s is not served on %s", t.ID, t.Node)
		}
		if owned[t.Node] == nil {
			owned[t.Node] = map[ops.DispatcherID]bool{}
		}
		owned[t.Node][t.ID] = true
		cover[t.Span.Table] = append(cover[t.Span.Table], t.Span)
	}
	for _, nd := range c.liveCores() {
		for _, d := range nd.Dispatchers() {
			if !owned[nd.Name()][d.ID] {
				return fail("dispatcher %s %s on %s has no task", d.ID, d.Span, nd.Name())
			}
		}
	}
	for _, tb := range c.tables {
		spans := cover[tb]
		slices.SortFunc(spans, ops.CompareSpans)
		if err := c.coveredOnce(tb, spans); err != nil {
			return fail("table %d is not covered exactly once: %v", tb, err)
		}
	}
	for tb := range cover {
		if !slices.Contains(c.tables, tb) {
			return fail("dropped table %d still has tasks", tb)
		}
	}
	return nil
}

// coveredOnce checks that the task spans of live table tb, sorted, tile it, but for the
// spans the running maintainer's standalone removes took out: those may stay uncovered, or
// be covered again when a remove recovery restored finishes and repairs the table's
// coverage (every range of the table then uncovered gets a task).
func (c *Cluster) coveredOnce(tb ops.TableID, spans []ops.Span) error {
	removed := c.removed[tb]
	if len(removed) == 0 {
		return ops.Tiles(ops.Span{Table: tb}, spans)
	}
	for i := 1; i < len(spans); i++ {
		if prev := spans[i-1]; prev.End == "" || prev.End > spans[i].Start {
			return fmt.Errorf("%s and %s overlap", prev, spans[i])
		}
	}
	all := slices.SortedFunc(slices.Values(append(slices.Clone(spans), removed...)), ops.CompareSpans)
	if holes := ops.AppendHoles(nil, tb, len(all), func(i int) *ops.Span { return &all[i] }); len(holes) > 0 {
		return fmt.Errorf("%s has no task and no remove took it out", holes[0])
	}
	return nil
}
