package operators

import (
	"fmt"
	"slices"

	"github.com/opfsm/opfsm/fsm"
)

// The merge operator (domain.md 1.5): the node hosting adjacent sources prepares a merged
// dispatcher and commits it; an occupy operator (occupy.go) reserves each source
// meanwhile.
var (
	mergeB             = fsm.NewBuilder("merge")
	MergeRunning       = mergeB.State("Running")
	MergeDoneOK        = mergeB.Terminal("DoneOK")
	MergeAbortedNode   = mergeB.Terminal("AbortedNode")
	MergeAbortedDDL    = mergeB.Terminal("AbortedDDL")
	MergeMergedWorking = mergeB.Trigger("MergedWorking")
	MergeMergedOther   = mergeB.Trigger("MergedNotWorking")
	MergeOriginLost    = mergeB.Trigger("OriginLost")
	MergeTaskRemoved   = mergeB.Trigger("TaskRemoved")
	mergeDef           = mergeB.Permit(MergeRunning, MergeMergedWorking, MergeDoneOK).Ignore(MergeRunning, MergeMergedOther).Permit(MergeRunning, MergeOriginLost, MergeAbortedNode).Permit(MergeRunning, MergeTaskRemoved, MergeAbortedDDL).MustBuild()
)

// StartMerge merges two or more adjacent Replicating tasks of one table on one node into a new
// task mergedID (domain.md 1.5): an occupy operator reserves each source, and the merged
// task starts Scheduling on the sources' node with the lowest source checkpoint.
func (c *Controller) StartMerge(sources []DispatcherID, mergedID DispatcherID) error {
	if _, ok := c.ops[mergedID]; ok {
		return c.refused(TypeMerge, mergedID, ErrOperatorExists)
	}
	if c.tasks.get(mergedID) != nil {
		return c.refused(TypeMerge, mergedID, ErrTaskExists)
	}
	if len(sources) < 2 {
		return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %d sources", ErrMergeSources, len(sources)))
	}
	tasks := make([]*Task, 0, len(sources))
	for _, s := range sources {
		t, err := c.admit(TypeMerge, s, Replicating)
		if err != nil {
			return c.refused(TypeMerge, mergedID, fmt.Errorf("source %s: %w", s, err))
		}
		if slices.Contains(tasks, t) {
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s listed twice", ErrMergeSources, s))
		}
		tasks = append(tasks, t)
	}
	slices.SortFunc(tasks, func(a, b *Task) int { return CompareSpans(a.Span, b.Span) })
	ckpt := tasks[0].Checkpoint
	for i, t := range tasks[1:] {
		prev := tasks[i]
		switch {
		case t.Span.Table != prev.Span.Table:
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s and %s are of different tables", ErrMergeSources, prev.ID, t.ID))
		case t.Node != prev.Node:
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s on %s, %s on %s", ErrMergeSources, prev.ID, prev.Node, t.ID, t.Node))
		case !prev.Span.Adjacent(t.Span):
			return c.refused(TypeMerge, mergedID, fmt.Errorf("%w: %s %s and %s %s are not adjacent", ErrMergeSources, prev.ID, prev.Span, t.ID, t.Span))
		}
		ckpt = min(ckpt, t.Checkpoint)
	}
	origin := tasks[0].Node
	merged := Span{Table: tasks[0].Span.Table, Start: tasks[0].Span.Start, End: tasks[len(tasks)-1].Span.End}
	ids := make([]DispatcherID, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
		t.Sched = Scheduling
		c.start(&Operator{id: t.ID, typ: TypeOccupy, state: OccupyHolding, span: t.Span, origin: origin, checkpoint: t.Checkpoint})
	}
	c.tasks.insert(Task{ID: mergedID, Span: merged, Sched: Scheduling, Node: origin, Checkpoint: ckpt})
	c.start(&Operator{id: mergedID, typ: TypeMerge, state: MergeRunning, span: merged, origin: origin,
		checkpoint: ckpt, extra: &extra{sources: ids}})
	return nil
}

type mergeKind struct{ noEffect }

func (mergeKind) statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger {
	return workingAtOrigin(o, from, st, MergeMergedWorking, MergeMergedOther)
}

func (mergeKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	return when(n == o.origin, MergeOriginLost)
}

func (mergeKind) taskRemovedTrigger() fsm.Trigger { return MergeTaskRemoved }

func (mergeKind) message(o *Operator) (NodeID, MessageKind, bool) {
	return o.origin, Merge, o.state == MergeRunning
}

// finish is a merge's PostFinish (domain.md 1.5): a committed merge deletes the source
// tasks and serves the merged one; an aborted one deletes the merged task and leaves the
// sources Absent (the node died) or served (DDL). The occupy operators are released last
// (PR #4543), so a late source Stopped never meets a source task without an operator.
func (mergeKind) finish(c *Controller, o *Operator, merged *Task) {
	for _, s := range o.extra.sources {
		t := c.tasks.get(s)
		switch o.state {
		case MergeDoneOK:
			c.tasks.remove(s)
		case MergeAbortedNode:
			markAbsent(t)
		case MergeAbortedDDL:
			markReplicating(t)
		}
	}
	if o.state == MergeDoneOK {
		markReplicating(merged)
	} else {
		c.tasks.remove(o.id)
	}
	for _, s := range o.extra.sources {
		if occ, ok := c.ops[s]; ok && occ.typ == TypeOccupy {
			c.fire(occ, OccupyRelease)
		}
	}
}

func (mergeKind) checkRecord(r Record) error {
	return firstErr(need(r.Type, "origin", r.Origin != "", "an origin"), need(r.Type, "sources", len(r.Sources) >= 2, "two or more sources"))
}

func (mergeKind) uses() field { return fieldSources }
