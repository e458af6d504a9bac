package operators

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/opfsm/opfsm/fsm"
)

// The split operator (domain.md 1.4): it only closes the original dispatcher; when it has,
// the task is replaced by one task per new span, and add operators create them.
var (
	splitB             = fsm.NewBuilder("split")
	SplitRunning       = splitB.State("Running")
	SplitDone          = splitB.Terminal("Done")
	SplitAborted       = splitB.Terminal("Aborted")
	SplitOriginStopped = splitB.Trigger("OriginStopped")
	SplitOriginWorking = splitB.Trigger("OriginWorking")
	SplitOriginLost    = splitB.Trigger("OriginLost")
	SplitTaskRemoved   = splitB.Trigger("TaskRemoved")
	splitDef           = splitB.Permit(SplitRunning, SplitOriginStopped, SplitDone).Ignore(SplitRunning, SplitOriginWorking).Permit(SplitRunning, SplitOriginLost, SplitAborted).Permit(SplitRunning, SplitTaskRemoved, SplitAborted).MustBuild()
)

// StartSplit splits a Replicating task into spans, which must tile it in key order
// (ErrSplitSpans). When targets has one node per span the new tasks are added there;
// otherwise (nil, or not one per span) they are left Absent for a scheduler (domain.md
// 1.4).
func (c *Controller) StartSplit(id DispatcherID, spans []Span, targets []NodeID) error {
	t, err := c.admit(TypeSplit, id, Replicating)
	if err != nil {
		return err
	}
	if err := splitTiles(t.Span, spans); err != nil {
		return c.refused(TypeSplit, id, err)
	}
	if len(targets) != len(spans) || slices.Contains(targets, "") {
		targets = nil
	}
	t.Sched = Scheduling
	c.start(&Operator{id: id, typ: TypeSplit, state: SplitRunning, span: t.Span, origin: t.Node, checkpoint: t.Checkpoint,
		extra: &extra{splitSpans: slices.Clone(spans), splitTargets: slices.Clone(targets)}})
	return nil
}

// splitTiles checks that a split's spans cover whole exactly, in order, without gaps or
// overlaps; its errors wrap ErrSplitSpans.
func splitTiles(whole Span, spans []Span) error {
	if len(spans) < 2 {
		return fmt.Errorf("%w: %d spans: a split needs two or more", ErrSplitSpans, len(spans))
	}
	if err := Tiles(whole, spans); err != nil {
		return fmt.Errorf("%w: %w", ErrSplitSpans, err)
	}
	return nil
}

type splitKind struct{ noEffect }

func (splitKind) statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger {
	return workingAtOrigin(o, from, st, SplitOriginWorking, SplitOriginStopped)
}

func (splitKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	return when(n == o.origin, SplitOriginLost)
}

func (splitKind) taskRemovedTrigger() fsm.Trigger { return SplitTaskRemoved }

func (splitKind) message(o *Operator) (NodeID, MessageKind, bool) {
	return o.origin, Remove, o.state == SplitRunning
}

// finish: a split that closed the original replaces its task; one that aborted leaves the
// task Absent.
func (splitKind) finish(c *Controller, o *Operator, task *Task) {
	if o.state == SplitDone {
		c.replaceSplit(o, task)
	} else {
		markAbsent(task)
	}
}

// replaceSplit is a finished split's PostFinish: the original task is replaced by one task
// per split span, with fresh ids, at the original checkpoint (or the higher one the origin
// reported). With a target per span they are added there, else left Absent.
func (c *Controller) replaceSplit(o *Operator, task *Task) {
	if task == nil {
		return
	}
	ckpt := max(task.Checkpoint, o.checkpoint)
	c.tasks.remove(o.id)
	aligned := len(o.extra.splitTargets) == len(o.extra.splitSpans)
	for i, s := range o.extra.splitSpans {
		c.splitID++
		id := DispatcherID(string(o.id) + "." + strconv.FormatUint(uint64(c.cfg.Epoch), 10) + "." + strconv.FormatUint(c.splitID, 10))
		c.tasks.insert(Task{ID: id, Span: s, Sched: Absent, Checkpoint: ckpt})
		if aligned {
			_ = c.ScheduleAbsent(id, o.extra.splitTargets[i]) // a fresh id has neither task conflict nor operator
		}
	}
}

func (splitKind) checkRecord(r Record) error {
	if err := firstErr(need(r.Type, "origin", r.Origin != "", "an origin"),
		need(r.Type, "splitSpans", len(r.SplitSpans) >= 2, "two or more split spans")); err != nil {
		return err
	}
	if err := splitTiles(r.Span, r.SplitSpans); err != nil {
		return badField("splitSpans", err)
	}
	if len(r.SplitTargets) > 0 && len(r.SplitTargets) != len(r.SplitSpans) {
		return badField("splitTargets", fmt.Errorf("%w: %d targets for %d spans", ErrInvalidRecord, len(r.SplitTargets), len(r.SplitSpans)))
	}
	return nil
}

func (splitKind) uses() field { return fieldSplit }
