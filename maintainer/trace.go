package maintainer

import ops "github.com/opfsm/opfsm/operators"

// Step is one step the maintainer took, named as the spec names its actions, for
// Config.Trace: a host logs each with the maintainer's state to have a run checked
// against the spec. The steps and what they set:
//
//   - MaintainerStatus: Node's status Status, sent under Epoch, was taken (one step per
//     status, also for one that waited for recovery; a report of another epoch too).
//   - Recover: recovery ran (before the DDL and statuses that waited for it are replayed).
//   - ScheduleAbsent, StartMove: operator ID started towards Node.
//   - StartSplit, StartRemove: operator ID started. StartMerge: merged task ID started.
//   - DropTable, CreateTable: DDL of Table applied (also when replayed after recovery).
//   - Resend: operator ID's request was queued again for Node.
//   - ResendStray: the remove of stray ID on Node was queued again.
//   - NodeCrash: live Node left. NodeAdded: Node joined.
//   - AskBootstrap: Node, which has not answered, was asked again.
type Step struct {
	Action string
	ID     ops.DispatcherID
	Node   ops.NodeID
	Status ops.Status
	Epoch  ops.Epoch
	Table  ops.TableID
}

// The step names.
const (
	StepStatus       = "MaintainerStatus"
	StepRecover      = "Recover"
	StepScheduleAbs  = "ScheduleAbsent"
	StepMove         = "StartMove"
	StepSplit        = "StartSplit"
	StepMerge        = "StartMerge"
	StepRemove       = "StartRemove"
	StepDropTable    = "DropTable"
	StepCreateTable  = "CreateTable"
	StepResend       = "Resend"
	StepResendStray  = "ResendStray"
	StepNodeCrash    = "NodeCrash"
	StepNodeAdded    = "NodeAdded"
	StepAskBootstrap = "AskBootstrap"
)

// trace tells Config.Trace about a step taken.
func (m *Maintainer) trace(s Step) {
	if m.cfg.Trace != nil {
		m.cfg.Trace(s)
	}
}
