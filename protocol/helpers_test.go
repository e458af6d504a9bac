package protocol_test

import (
	"fmt"
	"github.com/opfsm/opfsm/fsm"
	"math/rand/v2"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	pb "github.com/opfsm/opfsm/protocol/protocolpb"
)

// gen draws random valid messages of every type.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) gen { return gen{r: rand.New(rand.NewPCG(seed, 2))} }

// names mixes plain ASCII with multi-byte UTF-8, which both encodings must carry intact.
var names = []string{"A", "B", "node-3", "n\u00e9ud", "\u7bc0\u70b9", "cf", "x"}

func (g gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g gen) id() ops.DispatcherID {
	return ops.DispatcherID(fmt.Sprintf("t%06d-s%02d%s", g.r.IntN(1000000), g.r.IntN(100), g.pick([]string{"", "", "\u00df"})))
}

func (g gen) node() ops.NodeID { return ops.NodeID(g.pick(names)) }

// u64 is zero a third of the time, else small or huge, so both varint lengths show up.
func (g gen) u64() uint64 {
	switch g.r.IntN(3) {
	case 0:
		return 0
	case 1:
		return uint64(g.r.IntN(300))
	default:
		return g.r.Uint64()
	}
}

// table is sometimes negative, a ten-byte varint.
func (g gen) table() ops.TableID {
	if g.r.IntN(5) == 0 {
		return ops.TableID(-g.r.Int64N(1 << 40))
	}
	return ops.TableID(g.r.Int64N(1 << 20))
}

// keys returns n+1 strictly increasing keys; the first is sometimes "" (a table's first
// key) and the last sometimes "" (+inf, which sorts last as an end).
func (g gen) keys(n int) []string {
	cuts := make([]string, 0, n+1)
	k := g.r.IntN(100)
	for range n + 1 {
		cuts = append(cuts, fmt.Sprintf("k%07d", k))
		k += 1 + g.r.IntN(1000)
	}
	if g.r.IntN(3) == 0 {
		cuts[0] = ""
	}
	if g.r.IntN(3) == 0 {
		cuts[n] = ""
	}
	return cuts
}

func (g gen) span() ops.Span {
	k := g.keys(1)
	return ops.Span{Table: g.table(), Start: k[0], End: k[1]}
}

// record returns a valid record of type t.
func (g gen) record(t ops.Type, cf ops.ChangefeedID, epoch ops.Epoch) ops.Record {
	def, err := ops.Definition(t)
	if err != nil {
		panic(err)
	}
	r := ops.Record{Changefeed: cf, ID: g.id(), Type: t, State: fsm.State(g.r.IntN(len(def.States()))), Epoch: epoch, Span: g.span(),
		Checkpoint: g.u64()}
	switch t {
	case ops.TypeAdd:
		r.Dest = g.node()
	case ops.TypeRemove:
		r.Origin = g.node()
		r.Hook = ops.RemoveHook(g.r.IntN(3))
	case ops.TypeOccupy:
		r.Origin = g.node()
	case ops.TypeMove:
		r.Origin, r.Dest = g.node(), g.node()
	case ops.TypeSplit:
		r.Origin = g.node()
		cuts := g.keys(2 + g.r.IntN(3))
		r.Span = ops.Span{Table: g.table(), Start: cuts[0], End: cuts[len(cuts)-1]}
		for i := range len(cuts) - 1 {
			r.SplitSpans = append(r.SplitSpans, ops.Span{Table: r.Span.Table, Start: cuts[i], End: cuts[i+1]})
		}
		if g.r.IntN(2) == 0 {
			for range r.SplitSpans {
				r.SplitTargets = append(r.SplitTargets, g.node())
			}
		}
	case ops.TypeMerge:
		r.Origin = g.node()
		for range 2 + g.r.IntN(3) {
			r.Sources = append(r.Sources, g.id())
		}
	}
	return r
}

func (g gen) anyRecord(cf ops.ChangefeedID, epoch ops.Epoch) ops.Record {
	return g.record(ops.Type(g.r.IntN(int(ops.TypeOccupy)+1)), cf, epoch)
}

func (g gen) epoch() ops.Epoch { return ops.Epoch(1 + g.r.IntN(1000)) }

func (g gen) request() protocol.Request {
	cf, epoch := ops.ChangefeedID(g.pick(names)), g.epoch()
	req := protocol.Request{Changefeed: cf, Epoch: epoch, Kind: protocol.Kind(g.r.IntN(4))}
	switch req.Kind {
	case protocol.Create:
		req.Record = g.record([]ops.Type{ops.TypeAdd, ops.TypeMove}[g.r.IntN(2)], cf, epoch)
	case protocol.Remove:
		req.Record = g.record([]ops.Type{ops.TypeRemove, ops.TypeMove, ops.TypeSplit, ops.TypeOccupy}[g.r.IntN(4)], cf, epoch)
	case protocol.Merge:
		req.Record = g.record(ops.TypeMerge, cf, epoch)
	}
	return req
}

func (g gen) report(n int) protocol.StatusReport {
	rep := protocol.StatusReport{Changefeed: ops.ChangefeedID(g.pick(names)), Node: g.node(), Epoch: ops.Epoch(g.u64())}
	for range n {
		rep.Statuses = append(rep.Statuses, ops.Status{ID: g.id(), State: ops.ComponentState(g.r.IntN(int(ops.Removed) + 1)), Checkpoint: g.u64()})
	}
	return rep
}

func (g gen) answer(dispatchers, records int) protocol.BootstrapAnswer {
	a := protocol.BootstrapAnswer{Node: g.node(), Changefeed: ops.ChangefeedID(g.pick(names)), Epoch: g.epoch()}
	for range dispatchers {
		a.Dispatchers = append(a.Dispatchers, protocol.Dispatcher{ID: g.id(), Span: g.span(),
			State: ops.ComponentState(g.r.IntN(int(ops.Removed) + 1)), Removing: g.r.IntN(4) == 0, Checkpoint: g.u64()})
	}
	for range g.r.IntN(records + 1) {
		a.Removes = append(a.Removes, g.anyRecord(a.Changefeed, ops.Epoch(g.u64())))
	}
	for range g.r.IntN(records + 1) {
		a.Merges = append(a.Merges, g.record(ops.TypeMerge, a.Changefeed, ops.Epoch(g.u64())))
	}
	return a
}

func (g gen) snapshot() protocol.Snapshot {
	s := protocol.Snapshot{Changefeed: ops.ChangefeedID(g.pick(names)), Epoch: g.epoch(), Checkpoint: g.u64()}
	for range g.r.IntN(6) {
		s.Tables = append(s.Tables, g.table())
	}
	for range g.r.IntN(4) {
		s.Answers = append(s.Answers, g.answer(g.r.IntN(8), 2))
	}
	return s
}

// The norm functions map empty lists to nil, the only difference the encodings may make
// (JSON writes a required list as [], protobuf cannot tell [] from absent).
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func normRecord(r ops.Record) ops.Record {
	r.SplitSpans, r.SplitTargets, r.Sources = nilIfEmpty(r.SplitSpans), nilIfEmpty(r.SplitTargets), nilIfEmpty(r.Sources)
	return r
}

func normRequest(r protocol.Request) protocol.Request {
	r.Record = normRecord(r.Record)
	return r
}

func normReport(s protocol.StatusReport) protocol.StatusReport {
	s.Statuses = nilIfEmpty(s.Statuses)
	return s
}

func normAnswer(a protocol.BootstrapAnswer) protocol.BootstrapAnswer {
	a.Dispatchers = nilIfEmpty(a.Dispatchers)
	a.Removes = normRecords(a.Removes)
	a.Merges = normRecords(a.Merges)
	return a
}

func normRecords(rs []ops.Record) []ops.Record {
	if len(rs) == 0 {
		return nil
	}
	out := make([]ops.Record, len(rs))
	for i, r := range rs {
		out[i] = normRecord(r)
	}
	return out
}

func normSnapshot(s protocol.Snapshot) protocol.Snapshot {
	s.Tables = nilIfEmpty(s.Tables)
	if len(s.Answers) == 0 {
		s.Answers = nil
		return s
	}
	answers := make([]protocol.BootstrapAnswer, len(s.Answers))
	for i, a := range s.Answers {
		answers[i] = normAnswer(a)
	}
	s.Answers = answers
	return s
}

// The conversions between package protocol's types and the generated ones: enums shift
// by one, absent lists are nil, spans are always present.

func toPBSpan(s ops.Span) *pb.Span {
	return &pb.Span{Table: int64(s.Table), Start: s.Start, End: s.End}
}

func fromPBSpan(s *pb.Span) ops.Span {
	return ops.Span{Table: ops.TableID(s.GetTable()), Start: s.GetStart(), End: s.GetEnd()}
}

func conv[T, U any](in []T, f func(T) U) []U {
	if len(in) == 0 {
		return nil
	}
	out := make([]U, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}

func toPBRecord(r ops.Record) *pb.Record {
	return &pb.Record{Changefeed: string(r.Changefeed), Id: string(r.ID), Type: pb.OperatorType(r.Type + 1), State: r.StateName(),
		Epoch: uint64(r.Epoch), Span: toPBSpan(r.Span), Origin: string(r.Origin), Dest: string(r.Dest),
		SplitSpans:   conv(r.SplitSpans, toPBSpan),
		SplitTargets: conv(r.SplitTargets, func(n ops.NodeID) string { return string(n) }),
		Sources:      conv(r.Sources, func(id ops.DispatcherID) string { return string(id) }),
		Hook:         pb.RemoveHook(r.Hook + 1), Checkpoint: r.Checkpoint}
}

func fromPBRecord(r *pb.Record) ops.Record {
	var st fsm.State
	if def, err := ops.Definition(ops.Type(r.GetType() - 1)); err == nil {
		st, _ = def.StateByName(r.GetState()) // the records compared here are valid
	}
	return ops.Record{Changefeed: ops.ChangefeedID(r.GetChangefeed()), ID: ops.DispatcherID(r.GetId()),
		Type: ops.Type(r.GetType() - 1), State: st, Epoch: ops.Epoch(r.GetEpoch()), Span: fromPBSpan(r.GetSpan()),
		Origin: ops.NodeID(r.GetOrigin()), Dest: ops.NodeID(r.GetDest()), SplitSpans: conv(r.GetSplitSpans(), fromPBSpan),
		SplitTargets: conv(r.GetSplitTargets(), func(s string) ops.NodeID { return ops.NodeID(s) }),
		Sources:      conv(r.GetSources(), func(s string) ops.DispatcherID { return ops.DispatcherID(s) }),
		Hook:         ops.RemoveHook(r.GetHook() - 1), Checkpoint: r.GetCheckpoint()}
}

func toPBRequest(r protocol.Request) *pb.Request {
	m := &pb.Request{Version: protocol.Version, Changefeed: string(r.Changefeed), Epoch: uint64(r.Epoch), Kind: pb.Kind(r.Kind + 1)}
	if r.Kind != protocol.Bootstrap {
		m.Record = toPBRecord(r.Record)
	}
	return m
}

func fromPBRequest(m *pb.Request) protocol.Request {
	r := protocol.Request{Changefeed: ops.ChangefeedID(m.GetChangefeed()), Epoch: ops.Epoch(m.GetEpoch()), Kind: protocol.Kind(m.GetKind() - 1)}
	if m.Record != nil {
		r.Record = fromPBRecord(m.Record)
	}
	return r
}

func toPBReport(s protocol.StatusReport) *pb.StatusReport {
	return &pb.StatusReport{Version: protocol.Version, Changefeed: string(s.Changefeed), Node: string(s.Node), Epoch: uint64(s.Epoch),
		Statuses: conv(s.Statuses, func(st ops.Status) *pb.Status {
			return &pb.Status{Id: string(st.ID), State: pb.ComponentState(st.State + 1), Checkpoint: st.Checkpoint}
		})}
}

func fromPBReport(m *pb.StatusReport) protocol.StatusReport {
	return protocol.StatusReport{Changefeed: ops.ChangefeedID(m.GetChangefeed()), Node: ops.NodeID(m.GetNode()), Epoch: ops.Epoch(m.GetEpoch()),
		Statuses: conv(m.GetStatuses(), func(st *pb.Status) ops.Status {
			return ops.Status{ID: ops.DispatcherID(st.GetId()), State: ops.ComponentState(st.GetState() - 1), Checkpoint: st.GetCheckpoint()}
		})}
}

func toPBAnswer(a protocol.BootstrapAnswer) *pb.BootstrapAnswer {
	return &pb.BootstrapAnswer{Version: protocol.Version, Node: string(a.Node), Changefeed: string(a.Changefeed), Epoch: uint64(a.Epoch),
		Dispatchers: conv(a.Dispatchers, func(d protocol.Dispatcher) *pb.Dispatcher {
			return &pb.Dispatcher{Id: string(d.ID), Span: toPBSpan(d.Span), State: pb.ComponentState(d.State + 1), Removing: d.Removing, Checkpoint: d.Checkpoint}
		}),
		Removes: conv(a.Removes, toPBRecord), Merges: conv(a.Merges, toPBRecord)}
}

func fromPBAnswer(m *pb.BootstrapAnswer) protocol.BootstrapAnswer {
	return protocol.BootstrapAnswer{Node: ops.NodeID(m.GetNode()), Changefeed: ops.ChangefeedID(m.GetChangefeed()), Epoch: ops.Epoch(m.GetEpoch()),
		Dispatchers: conv(m.GetDispatchers(), func(d *pb.Dispatcher) protocol.Dispatcher {
			return protocol.Dispatcher{ID: ops.DispatcherID(d.GetId()), Span: fromPBSpan(d.GetSpan()), State: ops.ComponentState(d.GetState() - 1),
				Removing: d.GetRemoving(), Checkpoint: d.GetCheckpoint()}
		}),
		Removes: conv(m.GetRemoves(), fromPBRecord), Merges: conv(m.GetMerges(), fromPBRecord)}
}

func toPBSnapshot(s protocol.Snapshot) *pb.Snapshot {
	return &pb.Snapshot{Version: protocol.Version, Changefeed: string(s.Changefeed), Epoch: uint64(s.Epoch), Checkpoint: s.Checkpoint,
		Tables: conv(s.Tables, func(t ops.TableID) int64 { return int64(t) }), Answers: conv(s.Answers, toPBAnswer)}
}

func fromPBSnapshot(m *pb.Snapshot) protocol.Snapshot {
	return protocol.Snapshot{Changefeed: ops.ChangefeedID(m.GetChangefeed()), Epoch: ops.Epoch(m.GetEpoch()), Checkpoint: m.GetCheckpoint(),
		Tables: conv(m.GetTables(), func(t int64) ops.TableID { return ops.TableID(t) }), Answers: conv(m.GetAnswers(), fromPBAnswer)}
}

// cat concatenates encoded fields into one message.
func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }
