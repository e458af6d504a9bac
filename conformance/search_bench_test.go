package conformance

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/opfsm/opfsm/sim"

	"github.com/stretchr/testify/require"
)

// BenchmarkSimGraph explores the simulator on a CI world, abstracting every state, as the
// graph comparison does (go test -bench SimGraph -benchtime 1x), and reports its rate, the
// most clusters it held at once and the live heap of the finished graph per state.
func BenchmarkSimGraph(b *testing.B) {
	for _, name := range []string{"Failover.cfg", "NodeCrash.cfg", "MergeAbort.cfg"} {
		b.Run(name, func(b *testing.B) {
			w, err := WorldFromConfig("../spec/failover/" + name)
			require.NoError(b, err)
			for b.Loop() {
				before := liveHeap()
				g, ex, err := SimGraph(context.Background(), w, 0)
				require.NoError(b, err)
				b.ReportMetric(float64(liveHeap()-before)/float64(g.States()), "graph-B/state")
				b.ReportMetric(ex.StatesPerSecond(), "states/s")
				b.ReportMetric(float64(g.States()), "abstract")
				b.ReportMetric(float64(ex.Frontier), "frontier")
				runtime.KeepAlive(g)
			}
		})
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSimGraphHoldsOnePath: the graph search is depth first, so it holds the clusters of
// one path and their siblings, not a breadth-first level (7,287 clusters on this world).
func TestSimGraphHoldsOnePath(t *testing.T) {
	w, err := WorldFromConfig("../spec/failover/Failover.cfg")
	require.NoError(t, err)
	g, ex, err := SimGraph(context.Background(), w, 0)
	require.NoError(t, err)
	require.Equal(t, 43951, g.States())
	require.Equal(t, 43951, ex.Abstract)
	require.Less(t, ex.Frontier, 200)
}

// TestCanonicalizerAgrees: the keys of the per-value canonicalizer the search uses have
// exactly canonical's text (a whole-state parse) on the states of random walks in a spec world,
// with every fault and operation kind.
func TestCanonicalizerAgrees(t *testing.T) {
	w, err := WorldFromConfig("../spec/failover/NodeCrash.cfg")
	require.NoError(t, err)
	w.Limits.MaxLoss, w.Limits.MaxDup = 2, 2
	cz := newCanonicalizer(newValueTable())
	states := 0
	for seed := uint64(1); seed <= 200; seed++ {
		c, err := sim.NewCluster(w.Config())
		require.NoError(t, err)
		abs, err := NewAbstraction(w.Config())
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(seed, 3))
		act := sim.Action{}
		for step := 0; step < 80; step++ {
			require.NoError(t, abs.Observe(c, act))
			s, err := abs.State(c)
			require.NoError(t, err)
			want, err := canonical(s)
			require.NoError(t, err)
			key, err := cz.state(s)
			require.NoError(t, err)
			require.Equal(t, want, cz.vt.text(key), "seed %d step %d", seed, step)
			states++
			acts := c.Enabled()
			if len(acts) == 0 {
				break
			}
			act = acts[rng.IntN(len(acts))]
			require.NoError(t, c.Apply(act))
		}
	}
	require.Greater(t, states, 2000)
	require.Greater(t, len(cz.raw), 50, "the walks should meet many distinct values")
}
