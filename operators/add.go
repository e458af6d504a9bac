package operators

import (
	"fmt"

	"github.com/opfsm/opfsm/fsm"
)

// The add operator (domain.md 1.1): it binds an Absent task to a node and creates the
// dispatcher there.
var (
	addB           = fsm.NewBuilder("add")
	AddRunning     = addB.State("Running")
	AddDoneOK      = addB.Terminal("DoneOK")
	AddDoneRemoved = addB.Terminal("DoneRemoved")
	AddDestWorking = addB.Trigger("DestWorking")
	AddDestRemoved = addB.Trigger("DestRemoved")
	AddDestStopped = addB.Trigger("DestStopped")
	AddDestLost    = addB.Trigger("DestLost")
	AddTaskRemoved = addB.Trigger("TaskRemoved")
	addDef         = addB.Permit(AddRunning, AddDestWorking, AddDoneOK).Permit(AddRunning, AddDestRemoved, AddDoneRemoved).Ignore(AddRunning, AddDestStopped).Permit(AddRunning, AddDestLost, AddDoneRemoved).Permit(AddRunning, AddTaskRemoved, AddDoneRemoved).MustBuild()
)

// ScheduleAbsent starts an add operator that places Absent task id onto dest (domain.md
// 1.1: the task is bound to dest, Scheduling, until the new dispatcher works). The name is
// the spec's action's.
func (c *Controller) ScheduleAbsent(id DispatcherID, dest NodeID) error {
	if dest == "" {
		return c.refused(TypeAdd, id, fmt.Errorf("%w: empty destination", ErrInvalidRecord))
	}
	t, err := c.admit(TypeAdd, id, Absent)
	if err != nil {
		return err
	}
	t.Sched, t.Node = Scheduling, dest
	c.start(&Operator{id: id, typ: TypeAdd, state: AddRunning, span: t.Span, dest: dest, checkpoint: t.Checkpoint})
	return nil
}

type addKind struct{ noEffect }

func (addKind) statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger {
	if from != o.dest {
		return noTrigger
	}
	switch st {
	case Working:
		return AddDestWorking
	case Removed:
		return AddDestRemoved
	case Stopped:
		return AddDestStopped
	}
	return noTrigger
}

func (addKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	return when(n == o.dest, AddDestLost)
}

func (addKind) taskRemovedTrigger() fsm.Trigger { return AddTaskRemoved }

func (addKind) message(o *Operator) (NodeID, MessageKind, bool) {
	return o.dest, Create, o.state == AddRunning
}

// finish: the task is served where it was added, or goes back to Absent.
func (addKind) finish(_ *Controller, o *Operator, task *Task) {
	if o.state == AddDoneOK {
		markReplicating(task)
	} else {
		markAbsent(task)
	}
}

func (addKind) checkRecord(r Record) error {
	return firstErr(need(r.Type, "dest", r.Dest != "", "a destination"), forbid(r.Type, "origin", r.Origin == ""))
}

func (addKind) uses() field { return 0 }
