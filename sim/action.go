package sim

import (
	"fmt"
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
)

// Action is one step of the simulation, named as in spec/failover (docs/abstract-state.md).
// Only the fields its name uses are set.
type Action struct {
	Name  string
	Node  ops.NodeID
	Epoch ops.Epoch
	ID    ops.DispatcherID
	IDs   []ops.DispatcherID
	Index int
	Table ops.TableID
	// Key is where StartSplit cuts (empty: SplitKey of the span).
	Key string
	// DDL times a DropTable or CreateTable against the next maintainer's start ts
	// (scenario operations; random walks leave it empty): "" the maintainer processes it
	// and the next snapshot agrees; "late" the maintainer processes it but its commit ts is
	// after the next maintainer's start ts, so the next snapshot does not show it and the
	// next maintainer replays it right after recovery (the table trigger dispatcher);
	// "unseen" (drop only) it committed before the next start ts but this maintainer never
	// processes it.
	DDL string
}

// String formats the action as the spec labels it.
func (a Action) String() string {
	switch a.Name {
	case "DMDeliver", "DMDeliverDup":
		return fmt.Sprintf("%s(%s, %d)", a.Name, a.Node, a.Epoch)
	case "Lose":
		return fmt.Sprintf("Lose(%s, %d, %d)", a.Node, a.Epoch, a.Index)
	case "MaintainerStatus", "NodeCrash", "DMHeartbeat":
		return fmt.Sprintf("%s(%s)", a.Name, a.Node)
	case "ScheduleAbsent", "StartMove":
		return fmt.Sprintf("%s(%s, %s)", a.Name, a.ID, a.Node)
	case "StartSplit":
		if a.Key != "" {
			return fmt.Sprintf("StartSplit(%s, %q)", a.ID, a.Key)
		}
		return "StartSplit(" + string(a.ID) + ")"
	case "StartRemove":
		return "StartRemove(" + string(a.ID) + ")"
	case "CreateTable":
		if a.DDL != "" {
			return fmt.Sprintf("CreateTable(%d, %s, %s)", a.Table, a.ID, a.DDL)
		}
		return fmt.Sprintf("CreateTable(%d, %s)", a.Table, a.ID)
	case "StartMerge":
		if a.ID != "" {
			return fmt.Sprintf("StartMerge(%v, %s)", a.IDs, a.ID)
		}
		return fmt.Sprintf("StartMerge(%v)", a.IDs)
	case "DropTable":
		if a.DDL != "" {
			return fmt.Sprintf("DropTable(%d, %s)", a.Table, a.DDL)
		}
		return "DropTable(" + strconv.FormatInt(int64(a.Table), 10) + ")"
	case "Resend":
		return "Resend(" + string(a.ID) + ")"
	case "MaintainerCrash", "Recover":
		return a.Name
	}
	return fmt.Sprintf("%s(%s, %s)", a.Name, a.Node, a.ID)
}

// IsFault reports whether the action is a fault (it never happens under fairness alone).
func (a Action) IsFault() bool {
	switch a.Name {
	case "MaintainerCrash", "NodeCrash", "Lose", "DMDeliverDup", "DMPrepareFail":
		return true
	}
	return false
}

// IsScheduler reports whether the action is a scheduler's choice (move, split, merge, drop).
func (a Action) IsScheduler() bool {
	switch a.Name {
	case "StartMove", "StartSplit", "StartMerge", "DropTable", "StartRemove", "CreateTable":
		return true
	}
	return false
}
