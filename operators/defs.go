package operators

import (
	"fmt"

	"github.com/opfsm/opfsm/fsm"
)

// Type is an operator type.
type Type uint8

// The operator types. Occupy reserves a merge source while its merge runs.
const (
	TypeAdd Type = iota
	TypeRemove
	TypeMove
	TypeSplit
	TypeMerge
	TypeOccupy
)

var typeNames = [...]string{"add", "remove", "move", "split", "merge", "occupy"}

// String returns the type's name as records and the TLA+ spec spell it.
func (t Type) String() string { return enumName(typeNames[:], t, "Type") }

// ParseType maps a name back to its type.
func ParseType(name string) (Type, error) {
	return parseEnum[Type](typeNames[:], name, "operator type", ErrUnknownType)
}

// The states and triggers of every operator machine. Names are shared with the TLA+ spec.
var (
	addB            = fsm.NewBuilder("add")
	AddRunning      = addB.State("Running")
	AddDoneOK       = addB.Terminal("DoneOK")
	AddDoneRemoved  = addB.Terminal("DoneRemoved")
	AddDestWorking  = addB.Trigger("DestWorking")
	AddDestRemoved  = addB.Trigger("DestRemoved")
	AddDestStopped  = addB.Trigger("DestStopped")
	AddDestLost     = addB.Trigger("DestLost")
	AddTaskRemoved  = addB.Trigger("TaskRemoved")
	addDef          = addB.Permit(AddRunning, AddDestWorking, AddDoneOK).Permit(AddRunning, AddDestRemoved, AddDoneRemoved).Ignore(AddRunning, AddDestStopped).Permit(AddRunning, AddDestLost, AddDoneRemoved).Permit(AddRunning, AddTaskRemoved, AddDoneRemoved).MustBuild()
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

// The move operator (domain.md 1.3).
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

// The split operator (domain.md 1.4); it only removes the original dispatcher, add
// operators create the new spans afterwards.
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

// The merge operator (domain.md 1.5) and the occupy operator that reserves each source
// (domain.md 1.6).
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

var defs = [...]*fsm.Definition{TypeAdd: addDef, TypeRemove: removeDef, TypeMove: moveDef, TypeSplit: splitDef, TypeMerge: mergeDef, TypeOccupy: occupyDef}

// Definitions returns the operator machines in type order: add, remove, move, split,
// merge, occupy.
func Definitions() []*fsm.Definition { return append([]*fsm.Definition(nil), defs[:]...) }

// Definition returns the machine of operator type t.
func Definition(t Type) (*fsm.Definition, error) {
	if int(t) >= len(defs) {
		return nil, fmt.Errorf("%v: %w", t, ErrUnknownType)
	}
	return defs[t], nil
}
