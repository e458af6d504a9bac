package recovery

import (
	"math/rand/v2"
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// randomSnapshot builds a cluster of nodes n0..n4 with `tables` tables of two spans each and
// operators of every type in flight, some tables dropped, some dispatchers duplicated
// across nodes: the awkward cases recovery must resolve the same way whatever the order.
func randomSnapshot(rng *rand.Rand, tables int) protocol.Snapshot {
	nodes := []ops.NodeID{"n0", "n1", "n2", "n3", "n4"}
	resps := make(map[ops.NodeID]*protocol.BootstrapAnswer, len(nodes))
	for _, n := range nodes {
		resps[n] = &protocol.BootstrapAnswer{Node: n, Changefeed: cf, Epoch: 2}
	}
	var live []ops.TableID
	for t := 0; t < tables; t++ {
		tb := ops.TableID(t)
		if rng.IntN(6) > 0 {
			live = append(live, tb)
		}
		l, r, f := ops.Span{Table: tb, End: "m"}, ops.Span{Table: tb, Start: "m"}, ops.Span{Table: tb}
		id := func(s string) ops.DispatcherID { return ops.DispatcherID("t" + strconv.Itoa(t) + s) }
		n := nodes[rng.IntN(len(nodes))]
		other := nodes[rng.IntN(len(nodes))]
		add := func(node ops.NodeID, d protocol.Dispatcher) {
			resps[node].Dispatchers = append(resps[node].Dispatchers, d)
		}
		journal := func(node ops.NodeID, rec ops.Record) {
			resps[node].Removes = append(resps[node].Removes, rec)
		}
		states := []ops.ComponentState{ops.Working, ops.Initializing}
		switch rng.IntN(8) {
		case 0: // steady, two spans
			add(n, disp(id("a"), l, states[rng.IntN(2)]))
			add(other, disp(id("b"), r, ops.Working))
		case 1: // move in remove-origin
			add(n, removing(disp(id("a"), f, ops.Working)))
			journal(n, ops.Record{Changefeed: cf, ID: id("a"), Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1, Span: f, Origin: n, Dest: other})
		case 2: // move whose origin closed the dispatcher but still journals it (a snapshot taken
			// between the two), and whose destination may already have it
			journal(n, ops.Record{Changefeed: cf, ID: id("a"), Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 1, Span: f, Origin: n, Dest: other})
			if rng.IntN(2) == 0 {
				add(other, disp(id("a"), f, ops.Initializing))
			}
		case 3: // split
			add(n, removing(disp(id("a"), f, ops.Working)))
			journal(n, ops.Record{Changefeed: cf, ID: id("a"), Type: ops.TypeSplit, State: ops.SplitRunning, Epoch: 1, Span: f, Origin: n, SplitSpans: []ops.Span{l, r}})
		case 4: // merge in flight, any commit point
			tgt := []ops.ComponentState{ops.Preparing, ops.MergeReady, ops.Initializing, ops.Working}[rng.IntN(4)]
			add(n, disp(id("a"), l, ops.WaitingMerge))
			add(n, disp(id("b"), r, ops.WaitingMerge))
			add(n, disp(id("m"), f, tgt))
			resps[n].Merges = append(resps[n].Merges, ops.Record{Changefeed: cf, ID: id("m"), Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: 1, Span: f, Origin: n, Sources: []ops.DispatcherID{id("a"), id("b")}})
		case 5: // identical spans on two nodes
			add(n, disp(id("a"), f, states[rng.IntN(2)]))
			add(other, disp(id("b"), f, states[rng.IntN(2)]))
		case 6: // same id on two nodes, plus an aborted merge target
			add(n, disp(id("a"), f, ops.Working))
			add(other, disp(id("a"), f, ops.Working))
			add(n, removing(disp(id("m"), f, ops.Preparing)))
		case 7: // nothing reported
		}
	}
	s := protocol.Snapshot{Changefeed: cf, Epoch: 2, Tables: live}
	for _, n := range nodes {
		s.Answers = append(s.Answers, *resps[n])
	}
	return s
}
