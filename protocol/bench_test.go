package protocol_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	pb "github.com/opfsm/opfsm/protocol/protocolpb"
)

// The benchmarks compare the hand-written codec ("hand") with the generated code
// ("generated": proto.Unmarshal or proto.Marshal of the protocolpb type, without the
// conversion to package protocol's types, which would only add to its cost).

const (
	benchDispatchers = 10000
	benchRemoves     = 1000
	benchStatuses    = 10000
)

// benchAnswer is a realistic large answer: 10,000 dispatchers of 100 tables, ids like
// "t000123-s04" and keys like "k0001230", and a remove journal of 1,000 records.
func benchAnswer() protocol.BootstrapAnswer {
	a := protocol.BootstrapAnswer{Node: "node-7", Changefeed: "cf-orders", Epoch: 42,
		Dispatchers: make([]protocol.Dispatcher, benchDispatchers), Removes: make([]ops.Record, benchRemoves)}
	const perTable = benchDispatchers / 100
	for i := range a.Dispatchers {
		table, s := i/perTable, i%perTable
		sp := ops.Span{Table: ops.TableID(100 + table), Start: fmt.Sprintf("k%07d", s*10), End: fmt.Sprintf("k%07d", s*10+10)}
		if s == 0 {
			sp.Start = ""
		}
		if s == perTable-1 {
			sp.End = ""
		}
		a.Dispatchers[i] = protocol.Dispatcher{ID: ops.DispatcherID(fmt.Sprintf("t%06d-s%02d", 100+table, s%100)), Span: sp,
			State: ops.Working, Removing: i%50 == 0, Checkpoint: 450000000000000000 + uint64(i)}
	}
	for i := range a.Removes {
		d := a.Dispatchers[i*(benchDispatchers/benchRemoves)]
		a.Removes[i] = ops.Record{Changefeed: a.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 41,
			Span: d.Span, Origin: a.Node, Hook: ops.HookMarkAbsent, Checkpoint: d.Checkpoint}
	}
	return a
}

func benchReport() protocol.StatusReport {
	r := protocol.StatusReport{Changefeed: "cf-orders", Node: "node-7", Epoch: 42, Statuses: make([]ops.Status, benchStatuses)}
	for i := range r.Statuses {
		r.Statuses[i] = ops.Status{ID: ops.DispatcherID(fmt.Sprintf("t%06d-s%02d", 100+i/100, i%100)), State: ops.Working,
			Checkpoint: 450000000000000000 + uint64(i)}
	}
	return r
}

func benchRequest() protocol.Request {
	return protocol.Request{Changefeed: "cf-orders", Epoch: 42, Kind: protocol.Remove, Record: ops.Record{
		Changefeed: "cf-orders", ID: "t000123-s04", Type: ops.TypeSplit, State: ops.SplitRunning, Epoch: 42,
		Span: ops.Span{Table: 123, Start: "k0001230", End: "k0001290"}, Origin: "node-7",
		SplitSpans: []ops.Span{{Table: 123, Start: "k0001230", End: "k0001260"}, {Table: 123, Start: "k0001260", End: "k0001290"}},
		Checkpoint: 450000000000000000}}
}

func mustMarshal(b *testing.B, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	data, err := m.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// perDispatcher reports the time per dispatcher of the answer decoded b.N times.
func perDispatcher(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchDispatchers, "ns/dispatcher")
}

// BenchmarkBootstrapAnswerDecode decodes one answer of 10,000 dispatchers and 1,000
// journaled removes.
func BenchmarkBootstrapAnswerDecode(b *testing.B) {
	data := mustMarshal(b, benchAnswer())
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var a protocol.BootstrapAnswer
			if err := a.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
		perDispatcher(b)
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var a pb.BootstrapAnswer
			if err := proto.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
		}
		perDispatcher(b)
	})
}

// BenchmarkBootstrapAnswerEncode encodes the answer of BenchmarkBootstrapAnswerDecode.
func BenchmarkBootstrapAnswerEncode(b *testing.B) {
	a := benchAnswer()
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		perDispatcher(b)
	})
	b.Run("hand-append", func(b *testing.B) {
		b.ReportAllocs()
		buf := mustMarshal(b, a)
		for b.Loop() {
			var err error
			if buf, err = a.AppendBinary(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
		perDispatcher(b)
	})
	m := toPBAnswer(a)
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
		perDispatcher(b)
	})
}

// BenchmarkRequestDecode decodes one split's Remove request.
func BenchmarkRequestDecode(b *testing.B) {
	data := mustMarshal(b, benchRequest())
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r protocol.Request
			if err := r.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r pb.Request
			if err := proto.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStatusReportDecode decodes a report of 10,000 statuses.
func BenchmarkStatusReportDecode(b *testing.B) {
	data := mustMarshal(b, benchReport())
	perStatus := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchStatuses, "ns/status")
	}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r protocol.StatusReport
			if err := r.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
		perStatus(b)
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r pb.StatusReport
			if err := proto.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
		perStatus(b)
	})
}
