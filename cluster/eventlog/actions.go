package eventlog

// The actions a log may hold. Node processes log NodeStarted first, then DMDeliver (a
// request applied or refused), DMEffect (what the core asked of its dispatchers), DMSend
// (a status report) and DMAnswer (a bootstrap answer); maintainer candidates log
// CandidateStarted first, then Elected, Bootstrap, Recover, MaintainerSend (a request),
// MaintainerStatus and MaintainerAnswer (a report or answer received), and their local
// decisions. A process run with tracing on also logs Step (one spec action its core took,
// with its state after it), a local action of either kind of process.
const (
	NodeStarted      = "NodeStarted"
	DMDeliver        = "DMDeliver"
	DMEffect         = "DMEffect"
	DMSend           = "DMSend"
	DMAnswer         = "DMAnswer"
	CandidateStarted = "CandidateStarted"
	Elected          = "Elected"
	Bootstrap        = "Bootstrap"
	Recover          = "Recover"
	MaintainerSend   = "MaintainerSend"
	MaintainerStatus = "MaintainerStatus"
	MaintainerAnswer = "MaintainerAnswer"
	Step             = "Step"
)

type role uint8

const (
	roleLocal role = iota
	roleStart
	roleSendRequest // MaintainerSend: to Node, on stream (Node, Epoch), number Seq
	roleRecvRequest // DMDeliver: on stream (this node, Epoch), number Seq
	roleSendStatus  // DMSend, DMAnswer: on this node's stream, number Seq
	roleRecvStatus  // MaintainerStatus, MaintainerAnswer: from Node, number Seq
)

// actionSpec says what an action needs to be ordered.
type actionSpec struct {
	role             role
	epoch, seq, node bool
}

var actions = map[string]actionSpec{
	NodeStarted:       {role: roleStart},
	CandidateStarted:  {role: roleStart},
	DMDeliver:         {role: roleRecvRequest, epoch: true, seq: true},
	DMEffect:          {},
	Step:              {},
	DMSend:            {role: roleSendStatus, epoch: true, seq: true},
	DMAnswer:          {role: roleSendStatus, epoch: true, seq: true},
	Elected:           {epoch: true},
	Bootstrap:         {epoch: true},
	Recover:           {epoch: true},
	MaintainerSend:    {role: roleSendRequest, epoch: true, seq: true, node: true},
	MaintainerStatus:  {role: roleRecvStatus, epoch: true, seq: true, node: true},
	MaintainerAnswer:  {role: roleRecvStatus, epoch: true, seq: true, node: true},
	"NodeAdded":       {node: true},
	"NodeRemoved":     {node: true},
	"CreateTable":     {},
	"DropTable":       {},
	"Schedule":        {epoch: true},
	"WorkloadDone":    {epoch: true},
	"Checkpoint":      {epoch: true},
	"CheckpointError": {},
	"Deposed":         {epoch: true},
}

// Known reports whether action is one a log may hold.
func Known(action string) bool {
	_, ok := actions[action]
	return ok
}
