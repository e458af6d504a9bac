package operators

import (
	"fmt"

	"github.com/opfsm/opfsm/fsm"
)

// The move operator (domain.md 1.3): it closes the dispatcher on its origin, then binds
// the task to the destination and creates it there. If the destination dies first it
// aborts, waiting for the origin to close all the same.
var (
	moveB                 = fsm.NewBuilder("move")
	MoveRemoveOrigin      = moveB.State("RemoveOrigin")
	MoveAddDest           = moveB.State("AddDest")
	MoveAbortRemoveOrigin = moveB.State("AbortRemoveOrigin")
	MoveDoneSuccess       = moveB.Terminal("DoneSuccess")
	MoveAborted           = moveB.Terminal("Aborted")
	MoveCancelled         = moveB.Terminal("Cancelled")
	MoveSameNode          = moveB.Trigger("SameNode")
	MoveOriginStopped     = moveB.Trigger("OriginStopped")
	MoveOriginWorking     = moveB.Trigger("OriginWorking")
	MoveOriginLost        = moveB.Trigger("OriginLost")
	MoveDestWorking       = moveB.Trigger("DestWorking")
	MoveDestLost          = moveB.Trigger("DestLost")
	MoveTaskRemoved       = moveB.Trigger("TaskRemoved")
	moveDef               = moveB.
				Permit(MoveRemoveOrigin, MoveSameNode, MoveDoneSuccess).
				Permit(MoveRemoveOrigin, MoveOriginStopped, MoveAddDest).
				Ignore(MoveRemoveOrigin, MoveOriginWorking).
				Permit(MoveRemoveOrigin, MoveOriginLost, MoveAddDest).
				Permit(MoveRemoveOrigin, MoveDestLost, MoveAbortRemoveOrigin).
				Permit(MoveRemoveOrigin, MoveTaskRemoved, MoveCancelled).
				Permit(MoveAbortRemoveOrigin, MoveOriginStopped, MoveAborted).
				Ignore(MoveAbortRemoveOrigin, MoveOriginWorking).
				Permit(MoveAbortRemoveOrigin, MoveOriginLost, MoveAborted).
				Ignore(MoveAbortRemoveOrigin, MoveDestLost).
				Permit(MoveAbortRemoveOrigin, MoveTaskRemoved, MoveCancelled).
				Permit(MoveAddDest, MoveDestWorking, MoveDoneSuccess).
				Permit(MoveAddDest, MoveDestLost, MoveAborted).
				Ignore(MoveAddDest, MoveOriginLost).
				Permit(MoveAddDest, MoveTaskRemoved, MoveCancelled).
				MustBuild()
)

// StartMove moves a Replicating task to dest (domain.md 1.3). A move onto the node the task
// is already on finishes at once.
func (c *Controller) StartMove(id DispatcherID, dest NodeID) error {
	if dest == "" {
		return c.refused(TypeMove, id, fmt.Errorf("%w: empty destination", ErrInvalidRecord))
	}
	t, err := c.admit(TypeMove, id, Replicating)
	if err != nil {
		return err
	}
	o := &Operator{id: id, typ: TypeMove, state: MoveRemoveOrigin, span: t.Span, origin: t.Node, dest: dest, checkpoint: t.Checkpoint}
	if t.Node == dest {
		c.start(o)
		c.fire(o, MoveSameNode)
		return nil
	}
	t.Sched = Scheduling
	c.start(o)
	return nil
}

type moveKind struct{}

func (moveKind) statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger {
	switch o.state {
	case MoveRemoveOrigin, MoveAbortRemoveOrigin:
		if from != o.origin {
			return noTrigger
		}
		if st == Working {
			return MoveOriginWorking
		}
		return MoveOriginStopped
	case MoveAddDest:
		if from == o.dest && st == Working {
			return MoveDestWorking
		}
	}
	return noTrigger
}

func (moveKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	switch n {
	case o.origin:
		return MoveOriginLost
	case o.dest:
		return MoveDestLost
	}
	return noTrigger
}

func (moveKind) taskRemovedTrigger() fsm.Trigger { return MoveTaskRemoved }

func (moveKind) message(o *Operator) (NodeID, MessageKind, bool) {
	switch o.state {
	case MoveRemoveOrigin, MoveAbortRemoveOrigin:
		return o.origin, Remove, true
	case MoveAddDest:
		return o.dest, Create, true
	}
	return "", 0, false
}

// entered: once the origin is gone (AddDest), the task is bound to the destination
// before the Create goes out (domain.md 1.3).
func (moveKind) entered(c *Controller, o *Operator) {
	if o.state == MoveAddDest {
		if t := c.tasks.get(o.id); t != nil {
			t.Sched, t.Node = Scheduling, o.dest
		}
	}
}

// finish: the task is served at the destination (or stays where it was when the move was
// cancelled), or goes back to Absent when the move aborted.
func (moveKind) finish(_ *Controller, o *Operator, task *Task) {
	switch o.state {
	case MoveDoneSuccess, MoveCancelled:
		markReplicating(task)
	case MoveAborted:
		markAbsent(task)
	}
}

func (moveKind) checkRecord(r Record) error {
	return firstErr(need(r.Type, "origin", r.Origin != "", "an origin"), need(r.Type, "dest", r.Dest != "", "a destination"))
}

func (moveKind) uses() field { return 0 }
