package scenario

import ops "github.com/opfsm/opfsm/operators"

// Step is one statement of the script part of a scenario (docs/scenarios.md): an operation
// (AddStep, MoveStep, SplitStep, MergeStep, RemoveStep, DropStep, CreateStep), a block or
// its release (BlockStep, ReleaseStep), time and faults (RunStep, KillStep, DoStep), or a
// monitor (NeverDispatcherStep, NeverAbsentStep). Every step type embeds Pos.
type Step interface {
	// StepLine is the line of the file the statement is on.
	StepLine() int
}

// Pos is where a statement is in its file.
type Pos struct {
	Line int
}

// StepLine returns the statement's line.
func (p Pos) StepLine() int { return p.Line }

// AddStep is `add ID to NODE`: an add operator for the Absent task ID.
type AddStep struct {
	Pos
	ID   ops.DispatcherID
	Node ops.NodeID
}

// MoveStep is `move ID to NODE`: move the Replicating task ID to Node.
type MoveStep struct {
	Pos
	ID   ops.DispatcherID
	Node ops.NodeID
}

// SplitStep is `split ID at KEY`: split task ID at Key, strictly inside its span.
type SplitStep struct {
	Pos
	ID  ops.DispatcherID
	Key string
}

// MergeStep is `merge ID ID... as MERGED`: merge the adjacent spans IDs into As.
type MergeStep struct {
	Pos
	IDs []ops.DispatcherID
	As  ops.DispatcherID
}

// RemoveStep is `remove ID`: a standalone remove of task ID.
type RemoveStep struct {
	Pos
	ID ops.DispatcherID
}

// DropStep is `drop TABLE [late|unseen]`: DROP TABLE, timed by DDL.
type DropStep struct {
	Pos
	Table ops.TableID
	DDL   DDL
}

// CreateStep is `create TABLE as ID [late]`: CREATE TABLE, an Absent task ID for the new
// table's whole key range, timed by DDL.
type CreateStep struct {
	Pos
	Table ops.TableID
	ID    ops.DispatcherID
	DDL   DDL
}

// DDL times a drop or create against the next maintainer's start checkpoint; the zero
// value is in time: the next maintainer's snapshot agrees with the DDL.
type DDL string

const (
	// DDLLate: the DDL commits after the next maintainer's start, so its snapshot does not
	// show it and it replays the DDL right after recovery.
	DDLLate DDL = "late"
	// DDLUnseen (drop only): the drop committed before the next maintainer's start, but
	// this maintainer never processes it.
	DDLUnseen DDL = "unseen"
)

// BlockStep is `block KIND on NODE|all [epoch E]`: the block holds until released.
type BlockStep struct {
	Pos
	Block
}

// ReleaseStep is `release KIND on NODE|all [epoch E]`, lifting the matching block, or
// `release all` (All), lifting every block.
type ReleaseStep struct {
	Pos
	Block
	All bool
}

// Block is one block: what Kind holds back on Node ("" for every node); a deliver block
// with an Epoch holds back only that maintainer epoch's requests (0: every epoch).
type Block struct {
	Kind  BlockKind
	Node  ops.NodeID
	Epoch ops.Epoch
}

// BlockKind is what a block holds back; each stands for one of TiCDC's failpoints.
type BlockKind string

// The kinds of block.
const (
	// BlockClose: the node cannot close dispatchers (no sweep, no merge commit).
	BlockClose BlockKind = "close"
	// BlockSweep: only the sweep; a merge can commit but its closed sources stay.
	BlockSweep BlockKind = "sweep"
	// BlockCreate: a Create at the head of a stream to the node is not handled.
	BlockCreate BlockKind = "create"
	// BlockDeliver: no request (of the block's epoch) reaches the node.
	BlockDeliver BlockKind = "deliver"
	// BlockStatus: the maintainer reads no status from the node.
	BlockStatus BlockKind = "status"
)

// blockKinds lists every BlockKind, in the order error messages give them.
var blockKinds = []BlockKind{BlockClose, BlockSweep, BlockCreate, BlockDeliver, BlockStatus}

// RunStep is `run [N]` (Steps: at most N fair steps, 0 for the default) or `run until
// LABEL` (Until: fair steps until the action labelled so was applied).
type RunStep struct {
	Pos
	Steps int
	Until string
}

// KillStep is `kill maintainer` or `kill node NODE` (Node set): at once, once the action
// labelled After was applied, or as the run's step number AtStep.
type KillStep struct {
	Pos
	Node   ops.NodeID
	After  string
	AtStep int
}

// DoStep is `do LABEL`: apply the enabled action Label now.
type DoStep struct {
	Pos
	Label string
}

// NeverDispatcherStep is `never dispatcher ID`: from here on no live node has dispatcher ID.
type NeverDispatcherStep struct {
	Pos
	ID ops.DispatcherID
}

// NeverAbsentStep is `never absent TABLE`: from here on no task of Table is Absent.
type NeverAbsentStep struct {
	Pos
	Table ops.TableID
}
