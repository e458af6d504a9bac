package testgen

import (
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// BigSnapshot is the bootstrap snapshot of a large changefeed at epoch 2: `spans` spans in
// tables of ten over 100 nodes. Each table's first span is in the middle of something,
// cycling through a move in its remove-origin phase, a move whose destination created the
// dispatcher, a split, a merge (pre-commit, with full evidence), a standalone remove, and
// an add whose dispatcher is initializing: one in-flight operator per ten spans.
func BigSnapshot(spans int) protocol.Snapshot {
	const nodes = 100
	resps := make([]protocol.BootstrapAnswer, nodes)
	for i := range resps {
		resps[i] = protocol.BootstrapAnswer{Node: ops.NodeID("n" + strconv.Itoa(i)), Changefeed: "cf", Epoch: 2}
	}
	keys := []string{"", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", ""}
	tables := make([]ops.TableID, 0, spans/10)
	for t := 0; t < spans/10; t++ {
		tb := ops.TableID(t)
		tables = append(tables, tb)
		n := t % nodes
		node := resps[n].Node
		dest := resps[(n+1)%nodes].Node
		for k := 0; k < 10; k++ {
			id := ops.DispatcherID("t" + strconv.Itoa(t) + "-" + strconv.Itoa(k))
			sp := ops.Span{Table: tb, Start: keys[k], End: keys[k+1]}
			d := protocol.Dispatcher{ID: id, Span: sp, State: ops.Working}
			if k == 0 {
				switch t % 6 {
				case 0:
					d.Removing = true
					resps[n].Removes = append(resps[n].Removes, ops.Record{Changefeed: "cf", ID: id, Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1, Span: sp, Origin: node, Dest: dest})
				case 1:
					// A move whose Create the destination handled: adopted there.
					resps[(n+1)%nodes].Dispatchers = append(resps[(n+1)%nodes].Dispatchers, protocol.Dispatcher{ID: id, Span: sp, State: ops.Initializing})
					continue
				case 2:
					d.Removing = true
					mid := ops.Span{Table: tb, Start: sp.Start, End: "k0"}
					rest := ops.Span{Table: tb, Start: "k0", End: sp.End}
					resps[n].Removes = append(resps[n].Removes, ops.Record{Changefeed: "cf", ID: id, Type: ops.TypeSplit, State: ops.SplitRunning, Epoch: 1, Span: sp, Origin: node, SplitSpans: []ops.Span{mid, rest}})
				case 3:
					d.State = ops.WaitingMerge
					next := ops.DispatcherID("t" + strconv.Itoa(t) + "-1")
					mid := ops.DispatcherID("t" + strconv.Itoa(t) + "-m")
					resps[n].Dispatchers = append(resps[n].Dispatchers, protocol.Dispatcher{ID: mid, Span: ops.Span{Table: tb, Start: keys[0], End: keys[2]}, State: ops.MergeReady})
					resps[n].Merges = append(resps[n].Merges, ops.Record{Changefeed: "cf", ID: mid, Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1, Span: ops.Span{Table: tb, Start: keys[0], End: keys[2]}, Origin: node, Sources: []ops.DispatcherID{id, next}})
				case 4:
					d.Removing = true
					resps[n].Removes = append(resps[n].Removes, ops.Record{Changefeed: "cf", ID: id, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: sp, Origin: node})
				case 5:
					d.State = ops.Initializing // an add whose Create was handled
				}
			}
			if k == 1 && t%6 == 3 {
				d.State = ops.WaitingMerge
			}
			resps[n].Dispatchers = append(resps[n].Dispatchers, d)
		}
	}
	return protocol.Snapshot{Changefeed: "cf", Epoch: 2, Tables: tables, Answers: resps}
}
