package operators

import "github.com/opfsm/opfsm/fsm"

// The occupy operator (domain.md 1.6): it holds a merge source's task for its merge, so no
// other operator starts on it, until the merge releases it.
var (
	occupyB            = fsm.NewBuilder("occupy")
	OccupyHolding      = occupyB.State("Holding")
	OccupyReleased     = occupyB.Terminal("Released")
	OccupyLost         = occupyB.Terminal("Lost")
	OccupyRemoved      = occupyB.Terminal("Removed")
	OccupyRelease      = occupyB.Trigger("Release")
	OccupyNodeLost     = occupyB.Trigger("NodeLost")
	OccupyTaskRemoved  = occupyB.Trigger("TaskRemoved")
	OccupySourceStatus = occupyB.Trigger("SourceStatus")
	occupyDef          = occupyB.Permit(OccupyHolding, OccupyRelease, OccupyReleased).Permit(OccupyHolding, OccupyNodeLost, OccupyLost).Permit(OccupyHolding, OccupyTaskRemoved, OccupyRemoved).Ignore(OccupyHolding, OccupySourceStatus).MustBuild()
)

type occupyKind struct{ noEffect }

// statusTrigger: the source's statuses are its merge's business; the occupy only notes
// them.
func (occupyKind) statusTrigger(*Operator, NodeID, ComponentState) fsm.Trigger {
	return OccupySourceStatus
}

func (occupyKind) nodeLostTrigger(o *Operator, n NodeID) fsm.Trigger {
	return when(n == o.origin, OccupyNodeLost)
}

func (occupyKind) taskRemovedTrigger() fsm.Trigger { return OccupyTaskRemoved }

// message: an occupy sends nothing; its merge does.
func (occupyKind) message(*Operator) (NodeID, MessageKind, bool) { return "", 0, false }

// finish: a source whose node died goes back to Absent; otherwise the merge decided.
func (occupyKind) finish(_ *Controller, o *Operator, task *Task) {
	if o.state == OccupyLost {
		markAbsent(task)
	}
}

func (occupyKind) checkRecord(r Record) error {
	return firstErr(need(r.Type, "origin", r.Origin != "", "an origin"), forbid(r.Type, "dest", r.Dest == ""))
}

func (occupyKind) uses() field { return 0 }
