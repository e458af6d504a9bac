package operators

import "github.com/opfsm/opfsm/fsm"

// The remove operator (domain.md 1.2): it closes a dispatcher, then does what its hook
// says to the task.
var (
	removeB         = fsm.NewBuilder("remove")
	RemoveRunning   = removeB.State("Running")
	RemoveDone      = removeB.Terminal("Done")
	RemoveCancelled = removeB.Terminal("Cancelled")
	RemoveStopped   = removeB.Trigger("NodeStopped")
	RemoveWorking   = removeB.Trigger("NodeWorking")
	RemoveNodeLost  = removeB.Trigger("NodeLost")
	RemoveTaskGone  = removeB.Trigger("TaskRemoved")
	removeDef       = removeB.Permit(RemoveRunning, RemoveStopped, RemoveDone).Ignore(RemoveRunning, RemoveWorking).Permit(RemoveRunning, RemoveNodeLost, RemoveDone).Permit(RemoveRunning, RemoveTaskGone, RemoveCancelled).MustBuild()
)

// StartRemove removes a bound task's dispatcher from its node; on success the task is deleted
// (a standalone remove, domain.md 1.2 with the delete hook).
func (c *Controller) StartRemove(id DispatcherID) error {
	t, err := c.admit(TypeRemove, id, Scheduling, Replicating)
	if err != nil {
		return err
	}
	c.start(&Operator{id: id, typ: TypeRemove, state: RemoveRunning, hook: HookDelete, span: t.Span, origin: t.Node, checkpoint: t.Checkpoint})
	return nil
}

type removeKind struct{ noEffect }

func (removeKind) statusTrigger(o *Operator, from NodeID, st ComponentState) fsm.Trigger {
	if from != o.origin {
		return noTrigger
	}
	if st.Terminal() {
		return RemoveStopped
	}
	return RemoveWorking
}

func (removeKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	return when(n == o.origin, RemoveNodeLost)
}

func (removeKind) taskRemovedTrigger() fsm.Trigger { return RemoveTaskGone }

func (removeKind) message(o *Operator) (NodeID, MessageKind, bool) {
	return o.origin, Remove, o.state == RemoveRunning
}

// finish: a remove that closed its dispatcher applies its hook to the task.
func (removeKind) finish(c *Controller, o *Operator, task *Task) {
	if o.state != RemoveDone {
		return
	}
	switch o.hook {
	case HookMarkAbsent:
		markAbsent(task)
	case HookDelete:
		if old, ok := c.tasks.remove(o.id); ok && c.cfg.TaskDeleted != nil {
			c.cfg.TaskDeleted.TaskDeleted(c, old)
		}
	}
}

func (removeKind) checkRecord(r Record) error {
	return firstErr(need(r.Type, "origin", r.Origin != "", "an origin"), forbid(r.Type, "dest", r.Dest == ""))
}

func (removeKind) uses() field { return fieldHook }
