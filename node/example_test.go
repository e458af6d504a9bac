package node_test

import (
	"fmt"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// A node's host loop: step a request in, apply what Ready says, tell the core what the
// dispatchers did, ship the statuses.
func ExampleNode() {
	n, _ := node.New(node.Config{Node: "B", Changefeed: "cf", Owner: 3})
	create := protocol.Request{Changefeed: "cf", Epoch: 3, Kind: protocol.Create, Record: ops.Record{
		Changefeed: "cf", ID: "d1", Type: ops.TypeAdd, State: ops.AddRunning, Epoch: 3, Span: ops.Span{Table: 100}, Dest: "B", Checkpoint: 42}}
	if err := n.Step(create); err != nil {
		fmt.Println(err)
	}
	rd := n.Ready()
	for _, e := range rd.Effects {
		fmt.Println("host:", e.Kind, e.ID, "from", e.Checkpoint) // the host creates the dispatcher
	}
	n.Advance()

	_ = n.Working("d1") // the dispatcher received its first event
	rd = n.Ready()
	for _, r := range rd.Reports {
		fmt.Println("to maintainer", r.Epoch, ":", r.Statuses[0].ID, r.Statuses[0].State)
	}
	n.Advance()

	// A request of a deposed maintainer changes nothing.
	create.Epoch, create.Record.Epoch = 2, 2
	fmt.Println(n.Step(create))
	// Output:
	// host: Create d1 from 42
	// to maintainer 3 : d1 Working
	// node B: Create of "d1" from epoch 2 refused: fenced: not from the maintainer the node obeys: epoch 2, the node obeys 3
}
