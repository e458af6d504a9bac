package fsm_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/qmuntal/stateless"

	"github.com/opfsm/opfsm/fsm"
)

// pingPong is a two-state machine that can fire forever: the hot path of a transition.
func pingPong(b *testing.B) (*fsm.Definition, fsm.Trigger, fsm.Trigger) {
	bl := fsm.NewBuilder("pingpong")
	a, z := bl.State("A"), bl.State("B")
	ab, ba := bl.Trigger("AB"), bl.Trigger("BA")
	bl.Permit(a, ab, z).Permit(z, ba, a)
	def, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	return def, ab, ba
}

// BenchmarkFire fires one transition on a shared definition (goal: <= 300 ns, 0 allocs).
func BenchmarkFire(b *testing.B) {
	def, ab, ba := pingPong(b)
	st := def.Initial()
	triggers := [2]fsm.Trigger{ab, ba}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := def.Fire(&st, triggers[i&1], "op", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFireCounted is BenchmarkFire with the metrics observer attached.
func BenchmarkFireCounted(b *testing.B) {
	def, ab, ba := pingPong(b)
	counter := fsm.NewCounter(def)
	st := def.Initial()
	triggers := [2]fsm.Trigger{ab, ba}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := def.Fire(&st, triggers[i&1], "op", counter); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirePerInstanceStateless is the comparison: a stateless machine per instance.
func BenchmarkFirePerInstanceStateless(b *testing.B) {
	sm := stateless.NewStateMachineWithMode("A", stateless.FiringImmediate)
	sm.Configure("A").Permit("AB", "B")
	sm.Configure("B").Permit("BA", "A")
	triggers := [2]string{"AB", "BA"}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sm.FireCtx(ctx, triggers[i&1]); err != nil {
			b.Fatal(err)
		}
	}
}

const instances = 100_000

// retained measures the live heap that n objects made by mk keep, in bytes per object.
func retained(b *testing.B, mk func(i int) any) float64 {
	keep := make([]any, instances)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = mk(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / instances
}

// instance is what the fsm layer asks an operator to hold: its State.
type instance struct {
	st fsm.State
}

// BenchmarkRetainedPerInstance creates 100,000 instances of a shared definition and reports
// the retained heap per instance (goal: <= 256 bytes of FSM overhead), next to the same
// number of per-instance stateless machines.
func BenchmarkRetainedPerInstance(b *testing.B) {
	def, ab, _ := pingPong(b)
	for i := 0; i < b.N; i++ {
		shared := retained(b, func(int) any {
			in := &instance{st: def.Initial()}
			if _, err := def.Fire(&in.st, ab, "op", nil); err != nil {
				b.Fatal(err)
			}
			return in
		})
		perInstance := retained(b, func(i int) any {
			sm := stateless.NewStateMachineWithMode("A", stateless.FiringImmediate)
			sm.Configure("A").Permit("AB", "B")
			sm.Configure("B").Permit("BA", "A")
			if err := sm.Fire("AB"); err != nil {
				b.Fatal(err)
			}
			return sm
		})
		b.ReportMetric(shared, "shared-B/instance")
		b.ReportMetric(perInstance, "stateless-B/instance")
	}
}

// BenchmarkCreatePerInstanceStateless is the time to configure one stateless machine per
// instance, which the shared definition avoids.
func BenchmarkCreatePerInstanceStateless(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sm := stateless.NewStateMachineWithMode("A"+strconv.Itoa(i&1), stateless.FiringImmediate)
		sm.Configure("A").Permit("AB", "B")
		sm.Configure("B").Permit("BA", "A")
	}
}
