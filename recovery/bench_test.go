package recovery

import (
	"fmt"
	"strconv"
	"testing"

	ops "github.com/opfsm/opfsm/operators"
)

// bigSnapshot has `spans` spans in tables of ten spans over 100 nodes, with one in-flight
// operator per ten spans, cycling through every type (move in remove-origin, move in
// add-dest, split, merge, remove, add).
func bigSnapshot(spans int) Snapshot {
	const nodes = 100
	resps := make([]Response, nodes)
	for i := range resps {
		resps[i] = Response{Node: ops.NodeID("n" + strconv.Itoa(i)), Changefeed: cf, Epoch: 2}
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
			d := Dispatcher{ID: id, Span: sp, State: ops.Working}
			if k == 0 {
				switch t % 6 {
				case 0:
					d.Removing = true
					resps[n].Journal = append(resps[n].Journal, JournalEntry{Action: ops.Remove, Record: ops.Record{Changefeed: cf, ID: id, Type: ops.TypeMove, State: "RemoveOrigin", Epoch: 1, Span: sp, Origin: node, Dest: dest}})
				case 1:
					resps[(n+1)%nodes].Journal = append(resps[(n+1)%nodes].Journal, JournalEntry{Action: ops.Create, Record: ops.Record{Changefeed: cf, ID: id, Type: ops.TypeMove, State: "AddDest", Epoch: 1, Span: sp, Origin: node, Dest: dest}})
					continue
				case 2:
					d.Removing = true
					mid := ops.Span{Table: tb, Start: sp.Start, End: "k0"}
					rest := ops.Span{Table: tb, Start: "k0", End: sp.End}
					resps[n].Journal = append(resps[n].Journal, JournalEntry{Action: ops.Remove, Record: ops.Record{Changefeed: cf, ID: id, Type: ops.TypeSplit, State: "Running", Epoch: 1, Span: sp, Origin: node, SplitSpans: []ops.Span{mid, rest}}})
				case 3:
					d.State = ops.WaitingMerge
					next := ops.DispatcherID("t" + strconv.Itoa(t) + "-1")
					mid := ops.DispatcherID("t" + strconv.Itoa(t) + "-m")
					resps[n].Dispatchers = append(resps[n].Dispatchers, Dispatcher{ID: mid, Span: ops.Span{Table: tb, Start: keys[0], End: keys[2]}, State: ops.MergeReady})
					resps[n].MergeJournal = append(resps[n].MergeJournal, ops.Record{Changefeed: cf, ID: mid, Type: ops.TypeMerge, State: "Running", Epoch: 1, Span: ops.Span{Table: tb, Start: keys[0], End: keys[2]}, Origin: node, Sources: []ops.DispatcherID{id, next}})
				case 4:
					d.Removing = true
					resps[n].Journal = append(resps[n].Journal, JournalEntry{Action: ops.Remove, Record: ops.Record{Changefeed: cf, ID: id, Type: ops.TypeRemove, State: "Running", Epoch: 1, Span: sp, Origin: node}})
				case 5:
					d.State = ops.Initializing
					resps[n].Journal = append(resps[n].Journal, JournalEntry{Action: ops.Create, Record: ops.Record{Changefeed: cf, ID: id, Type: ops.TypeAdd, State: "Running", Epoch: 1, Span: sp, Dest: node}})
				}
			}
			if k == 1 && t%6 == 3 {
				d.State = ops.WaitingMerge
			}
			resps[n].Dispatchers = append(resps[n].Dispatchers, d)
		}
	}
	return Snapshot{Changefeed: cf, Epoch: 2, Tables: tables, Responses: resps}
}

// BenchmarkRecover recovers 10^4, 10^5 and 10^6 spans over 100 nodes, a tenth of them
// under an in-flight operator (goal at 10^6: <= 1 s and <= 1 GiB on one core).
func BenchmarkRecover(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		snap := bigSnapshot(n)
		b.Run(fmt.Sprintf("spans=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := Recover(snap)
				if err != nil || len(res.Rejected) > 0 {
					b.Fatal(err, res.Rejected)
				}
				if _, opsN := res.Controller.Len(); opsN < n/10 {
					b.Fatalf("only %d operators restored", opsN)
				}
			}
		})
	}
}
