package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"opfsm/sim"
)

func graphCheck(t *testing.T, w World) (GraphDiff, *Exploration) {
	t.Helper()
	spec, res, err := TLCGraph(context.Background(), "../spec/failover", w)
	require.NoError(t, err)
	impl, ex, err := SimGraph(w, 0)
	require.NoError(t, err)
	d := CompareGraphs(spec, impl)
	t.Logf("TLC: %d states, %d edges in %s; simulator: %d abstract states (%d concrete), %d edges in %s",
		len(spec.Keys), len(spec.Edges), res.Duration, len(impl.Keys), ex.States, len(impl.Edges), ex.Elapsed)
	return d, ex
}

func TestGraphSmall(t *testing.T) {
	w := World{N: 2, Layout: "halves", MaxReq: 2, OpKinds: []string{"move"}, Limits: sim.Limits{MaxEpoch: 2, MaxOps: 1}}
	d, _ := graphCheck(t, w)
	require.True(t, d.Equal(), "%+v\n%s", d, d.First)
}

func TestGraphFailover(t *testing.T) {
	w := World{N: 2, Layout: "halves", MaxReq: 3, OpKinds: []string{"move", "split", "merge", "drop"},
		Limits: sim.Limits{MaxEpoch: 2, MaxLoss: 1, MaxDup: 1, MaxOps: 1}}
	d, _ := graphCheck(t, w)
	require.True(t, d.Equal(), "%+v\n%s", d, d.First)
}
