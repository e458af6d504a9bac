package maintainer_test

import (
	"fmt"
	"strings"

	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// A new maintainer bootstraps from two nodes, recovers a dispatcher that survived the
// old maintainer and schedules the table's uncovered range, all in one process: requests
// go straight into the node cores, statuses and answers straight back, and a created
// dispatcher starts working one round later.
func ExampleMaintainer() {
	names := []ops.NodeID{"A", "B"}
	nodes := map[ops.NodeID]*node.Node{}
	for _, name := range names {
		nodes[name], _ = node.New(node.Config{Node: name, Changefeed: "cf", Owner: 1})
	}
	_ = nodes["A"].Preload(protocol.Dispatcher{ID: "left", Span: ops.Span{Table: 7, End: "m"}, State: ops.Working, Checkpoint: 90})

	m, _ := maintainer.New(maintainer.Config{Changefeed: "cf", Epoch: 2, Nodes: names, Tables: []ops.TableID{7}, Checkpoint: 80})
	starting := map[ops.NodeID][]ops.DispatcherID{}
	for round := 0; round < 4; round++ {
		for _, msg := range m.Ready() {
			fmt.Println(strings.TrimSpace(fmt.Sprint("-> ", msg.To, " ", msg.Request.Kind, " ", msg.Request.Record.ID)))
			_ = nodes[msg.To].Step(msg.Request)
		}
		m.Advance()
		for _, name := range names {
			n := nodes[name]
			for _, id := range starting[name] {
				_ = n.Working(id)
			}
			starting[name] = nil
			rd := n.Ready()
			for _, e := range rd.Effects {
				if e.Kind == node.EffectCreate {
					starting[name] = append(starting[name], e.ID)
				}
			}
			for _, a := range rd.Answers {
				_ = m.StepAnswer(a)
			}
			for _, r := range rd.Reports {
				_ = m.StepStatus(r)
			}
			n.Advance()
		}
		m.Tick() // recovers once both answered, then places the Absent range
	}
	for _, t := range m.Controller().Tasks() {
		fmt.Println(t, "from", t.Checkpoint)
	}
	// Output:
	// -> A Bootstrap
	// -> B Bootstrap
	// -> B Create t7-e2-m
	// left 7[,m) Replicating@A from 90
	// t7-e2-m 7[m,) Replicating@B from 80
}
