package seeded

// NodeBugs are the dispatcher manager's seeded bugs, named as spec/README.md names them;
// the zero value is the correct design.
type NodeBugs struct {
	// MergeJournalLost: bootstrap answers omit the merge journal (TiCDC 4763).
	MergeJournalLost bool
	// NoEpochFence: requests of any epoch are applied.
	NoEpochFence bool
	// BootstrapNoFence: a stale bootstrap takes the node over.
	BootstrapNoFence bool
	// SweepSkipsPreCommit: closed Preparing/MergeReady dispatchers are never swept (G6).
	SweepSkipsPreCommit bool
	// JournalMissingRemove: a Remove for a missing dispatcher is journaled anyway.
	JournalMissingRemove bool
	// BootstrapKeepsOwner: a bootstrap is answered but the node keeps obeying its old owner.
	BootstrapKeepsOwner bool
	// AbortIgnoresMissingTarget: the merge check does not abort a merge whose merged
	// dispatcher is gone, so its sources wait for it for good.
	AbortIgnoresMissingTarget bool
	// MergeNotJournaled: a merge starts (or is re-requested) without a merge journal
	// entry, as TiCDC's nodes before the fix of issue 4763 kept none.
	MergeNotJournaled bool
}

// SetNodeBugs switches seeded bugs on in a *node.Node; package node installs it.
var SetNodeBugs func(n any, b NodeBugs)

// MaintainerBugs are the maintainer driver's seeded bugs; the zero value is the correct
// design.
type MaintainerBugs struct {
	// RecoverEarly: a booting maintainer recovers before every live node answered, from the
	// answers it has.
	RecoverEarly bool
}

// SetMaintainerBugs switches seeded bugs on in a *maintainer.Maintainer; package
// maintainer installs it.
var SetMaintainerBugs func(m any, b MaintainerBugs)

// RecoveryBugs names recovery's seeded bugs, and RecoveryBug returns the recovery.Option
// (as any: this package cannot import recovery) that switches one on; package recovery
// installs both.
var (
	RecoveryBugs []string
	RecoveryBug  func(name string) any
)
