package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkSimGraphFailover explores the simulator on Failover.cfg's world, abstracting
// every state, as the graph comparison does (go test -bench SimGraph -benchtime 1x).
func BenchmarkSimGraphFailover(b *testing.B) {
	w, err := WorldFromConfig("../spec/failover/Failover.cfg")
	require.NoError(b, err)
	for b.Loop() {
		g, ex, err := SimGraph(w, 0)
		require.NoError(b, err)
		b.ReportMetric(ex.StatesPerSecond(), "states/s")
		b.ReportMetric(float64(len(g.Keys)), "abstract")
		b.ReportMetric(float64(ex.Frontier), "frontier")
	}
}

// BenchmarkExploreFailover is the plain search (invariants, no abstraction) on the same
// world.
func BenchmarkExploreFailover(b *testing.B) {
	w, err := WorldFromConfig("../spec/failover/Failover.cfg")
	require.NoError(b, err)
	for b.Loop() {
		ex, err := Explore(w.Config(), ExploreOptions{MaxStream: w.MaxReq})
		require.NoError(b, err)
		require.Nil(b, ex.Violation)
		b.ReportMetric(ex.StatesPerSecond(), "states/s")
		b.ReportMetric(float64(ex.States), "states")
	}
}
