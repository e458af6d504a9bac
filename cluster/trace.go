package cluster

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The trace events of a process run with Trace on: one "Step" event per spec action the
// core took, with the core's state after it, in the JSON that docs/cluster.md ("Runs the
// spec can check") fixes and `opfsm conform --logs` reads. Both hosts call the cores under
// their mutex and the cores call Trace from inside; the builders below read the core they
// are given and take no lock.

// The step a maintainer takes when it starts to bootstrap: the previous maintainer is
// gone and a new epoch starts (the spec's MaintainerCrash).
const stepMaintainerCrash = "MaintainerCrash"

// spanObject is a span as {"table", "start", "end"}, every key always there.
type spanObject ops.Span

func (s spanObject) MarshalLogObject(o zapcore.ObjectEncoder) error {
	o.AddInt64("table", int64(s.Table))
	o.AddString("start", s.Start)
	o.AddString("end", s.End)
	return nil
}

// arrayOf is a slice as a JSON array of objects, [] when empty.
type arrayOf[T any] struct {
	items []T
	obj   func(o zapcore.ObjectEncoder, item T)
}

func (a arrayOf[T]) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, it := range a.items {
		_ = enc.AppendObject(zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
			a.obj(o, it)
			return nil
		}))
	}
	return nil
}

// nodeState is a node core's state: {"owner", "disp", "removes", "merges"}.
type nodeState struct{ n *node.Node }

func (s nodeState) MarshalLogObject(o zapcore.ObjectEncoder) error {
	o.AddUint64("owner", uint64(s.n.Owner()))
	_ = o.AddArray("disp", arrayOf[protocol.Dispatcher]{items: s.n.Dispatchers(), obj: func(o zapcore.ObjectEncoder, d protocol.Dispatcher) {
		o.AddString("id", string(d.ID))
		_ = o.AddObject("span", spanObject(d.Span))
		o.AddString("state", d.State.String())
		o.AddBool("removing", d.Removing)
	}})
	_ = o.AddArray("removes", arrayOf[ops.Record]{items: s.n.RemoveJournal(), obj: func(o zapcore.ObjectEncoder, r ops.Record) {
		o.AddString("id", string(r.ID))
		_ = o.AddObject("span", spanObject(r.Span))
		o.AddString("op", r.Type.String())
		o.AddUint64("epoch", uint64(r.Epoch))
		o.AddString("dest", string(r.Dest))
	}})
	_ = o.AddArray("merges", arrayOf[ops.Record]{items: s.n.MergeJournal(), obj: func(o zapcore.ObjectEncoder, r ops.Record) {
		o.AddString("id", string(r.ID))
		_ = o.AddObject("span", spanObject(r.Span))
		o.AddUint64("epoch", uint64(r.Epoch))
		_ = o.AddArray("sources", zapcore.ArrayMarshalerFunc(func(enc zapcore.ArrayEncoder) error {
			for _, id := range r.Sources {
				enc.AppendString(string(id))
			}
			return nil
		}))
	}})
	return nil
}

// nodeStep is the Step event of one local step of a node core: its action, the dispatcher,
// and the state after it (not for a heartbeat, which changes nothing but the status
// stream).
func nodeStep(n *node.Node, a node.Action) []zap.Field {
	f := []zap.Field{zap.String("step", a.Kind.String()), zap.String("id", string(a.ID))}
	if a.Kind != node.ActHeartbeat {
		f = append(f, zap.Object("state", nodeState{n}))
	}
	return f
}

// maintainerState is a maintainer's state: {"epoch", "booting", "tasks", "ops"}; tasks and
// operators are [] while it boots.
type maintainerState struct{ m *maintainer.Maintainer }

func (s maintainerState) MarshalLogObject(o zapcore.ObjectEncoder) error {
	o.AddUint64("epoch", uint64(s.m.Epoch()))
	o.AddBool("booting", s.m.Booting())
	var tasks []ops.Task
	var recs []ops.Record
	if ctrl := s.m.Controller(); ctrl != nil {
		tasks, recs = ctrl.Tasks(), ctrl.Operators()
	}
	_ = o.AddArray("tasks", arrayOf[ops.Task]{items: tasks, obj: func(o zapcore.ObjectEncoder, t ops.Task) {
		o.AddString("id", string(t.ID))
		_ = o.AddObject("span", spanObject(t.Span))
		o.AddString("sched", t.Sched.String())
		o.AddString("node", string(t.Node))
	}})
	_ = o.AddArray("ops", arrayOf[ops.Record]{items: recs, obj: func(o zapcore.ObjectEncoder, r ops.Record) {
		o.AddString("id", string(r.ID))
		_ = o.AddObject("span", spanObject(r.Span))
		o.AddString("type", r.Type.String())
		o.AddString("state", r.StateName())
		o.AddString("origin", string(r.Origin))
		o.AddString("dest", string(r.Dest))
	}})
	return nil
}

// maintainerStep is the Step event of one maintainer step: its action, dispatcher and
// node (empty when the step has none), table (when it has one), the status it took (a
// MaintainerStatus), and the state after it.
func maintainerStep(m *maintainer.Maintainer, s maintainer.Step) []zap.Field {
	f := []zap.Field{zap.String("step", s.Action), zap.String("id", string(s.ID)), zap.String("node", string(s.Node))}
	if s.Table != 0 {
		f = append(f, zap.Int64("table", int64(s.Table)))
	}
	if s.Action == maintainer.StepStatus {
		f = append(f, zap.Object("status", zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
			o.AddString("id", string(s.Status.ID))
			o.AddString("state", s.Status.State.String())
			return nil
		})), zap.Uint64("reportEpoch", uint64(s.Epoch)))
	}
	return append(f, zap.Object("state", maintainerState{m}))
}

// maintainerCrash is the Step event a new maintainer logs right after Bootstrap: the spec
// step that starts its epoch.
func maintainerCrash(m *maintainer.Maintainer) []zap.Field {
	return []zap.Field{zap.String("step", stepMaintainerCrash), zap.Uint64("epoch", uint64(m.Epoch())),
		zap.Object("state", maintainerState{m})}
}
