package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/sim"
)

// TestFPSet: the visited set agrees with a Go map on 300,000 random fingerprints (with
// repeats), across its growth, and numbers states in the order they were added.
func TestFPSet(t *testing.T) {
	s := newFPSet(0)
	want := map[uint64]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300_000; i++ {
		fp := rng.Uint64() >> rng.IntN(64) // small values too, and many repeats among them
		id, added := s.add(fp)
		w, had := want[fp]
		require.Equal(t, !had, added, "fp %x", fp)
		if had {
			require.Equal(t, w, id)
		} else {
			require.Equal(t, len(want), id)
			want[fp] = id
		}
	}
	require.Equal(t, len(want), s.Len())
	for fp, id := range want {
		got, ok := s.find(fp)
		require.True(t, ok)
		require.Equal(t, id, got)
	}
	_, ok := s.find(0x5eed)
	require.Equal(t, func() bool { _, in := want[0x5eed]; return in }(), ok)
	require.LessOrEqual(t, 4*s.Len(), 3*len(s.slots), "the table stays at most three quarters full")
}

// TestExplorerCountsTLCStates: with AbstractCount, the parallel explorer finds in each CI
// world exactly the distinct states TLC finds (TLC 2.18, one worker, CONSTRAINT StreamBound;
// the same counts the graph comparison, a different search, holds equal state by state in
// spec.TestModels).
func TestExplorerCountsTLCStates(t *testing.T) {
	// In the twins with a crash or three epochs the simulator's states are finer than the
	// abstract ones (on NodeCrash.cfg, some simulator states map to one abstract state).
	// Every kind of world is here (loss, duplicate, node crash, split, merge, drop, a
	// failed merge); the three largest, whose search is the same code on more states, run
	// with OPFSM_DEEP=1 (make check-deep), as do NodeCrash.cfg and MergeAbort.cfg's graph
	// comparisons. Three epochs are among them: the graph comparison counts that world's
	// simulator states (a depth-first search) in make test.
	tlcStates := map[string]int{"Liveness.cfg": 1522, "LivenessMerge.cfg": 2820,
		"MergeAbortShort.cfg": 12239, "TwoNodeCrashSplit.cfg": 23798, "LivenessNoLoss.cfg": 733, "LivenessMergeOneEpoch.cfg": 149,
		"LivenessDrop.cfg": 4736, "LivenessCrash.cfg": 4656, "LivenessDup.cfg": 2447,
		"LivenessSplit.cfg": 1180, "MergeFailShort.cfg": 4518, "LivenessMergeFail.cfg": 332, "FailoverSplit.cfg": 22740}
	if os.Getenv("OPFSM_DEEP") != "" {
		maps.Copy(tlcStates, map[string]int{"Failover.cfg": 43951, "TwoNodeCrash.cfg": 47916, "ThreeEpochs.cfg": 50917})
	}
	for name, want := range tlcStates {
		t.Run(name, func(t *testing.T) {
			w, err := WorldFromConfig("../spec/failover/" + name)
			require.NoError(t, err)
			ex, err := Explore(context.Background(), w.Config(), ExploreOptions{MaxStream: w.MaxReq, AbstractCount: true})
			require.NoError(t, err)
			require.Nil(t, ex.Violation)
			require.False(t, ex.Truncated)
			require.Equal(t, want, ex.Abstract)
			require.GreaterOrEqual(t, ex.States, ex.Abstract, "the simulator's states are at least as fine as the abstract ones")
		})
	}
}

// TestExplorerSameForAnyWorkerCount: states, edges, depth and the counterexample do not
// depend on how many workers expand the levels.
func TestExplorerSameForAnyWorkerCount(t *testing.T) {
	bugs, err := sim.ParseBug("merge_journal_lost")
	require.NoError(t, err)
	worlds := map[string]sim.Config{"correct": specWorld(sim.Bugs{}, 0, 0), "merge_journal_lost": specWorld(bugs, 1, 0)}
	for name, cfg := range worlds {
		t.Run(name, func(t *testing.T) {
			var first *Exploration
			for _, workers := range []int{1, 3} {
				ex, err := Explore(context.Background(), cfg, ExploreOptions{MaxStream: 3, Workers: workers})
				require.NoError(t, err)
				require.Equal(t, workers, ex.Workers)
				if first == nil {
					first = ex
					continue
				}
				require.Equal(t, first.States, ex.States, "workers %d", workers)
				require.Equal(t, first.Edges, ex.Edges, "workers %d", workers)
				require.Equal(t, first.Depth, ex.Depth, "workers %d", workers)
				require.Equal(t, first.Violation == nil, ex.Violation == nil, "workers %d", workers)
				if ex.Violation != nil {
					require.Equal(t, first.Violation.Trace, ex.Violation.Trace, "workers %d", workers)
					require.Equal(t, first.Violation.Err.Error(), ex.Violation.Err.Error())
				}
			}
			if name != "correct" {
				require.NotNil(t, first.Violation, "the seeded bug must be found")
				// The trace is a real run: replayed, it ends in the violation.
				c, err := sim.NewCluster(cfg)
				require.NoError(t, err)
				for _, a := range first.Violation.Trace {
					require.NoError(t, c.Apply(a))
				}
				require.Error(t, c.Check())
			}
		})
	}
}

// TestExplorerShortestTrace: a violation comes with a trace no longer than any other, and
// the same trace as the sequential search's (which keeps every state's first parent and
// action): the first violating state in the order of parents and actions, reached from
// its first parent.
func TestExplorerShortestTrace(t *testing.T) {
	bugs, err := sim.ParseBug("no_epoch_fence")
	require.NoError(t, err)
	cfg := specWorld(bugs, 0, 0)
	ex, err := Explore(context.Background(), cfg, ExploreOptions{MaxStream: 3})
	require.NoError(t, err)
	seq, err := search(context.Background(), cfg, ExploreOptions{MaxStream: 3}, breadthFirst, nil, nil)
	require.NoError(t, err)
	require.NotNil(t, ex.Violation)
	require.NotNil(t, seq.Violation)
	require.Len(t, ex.Violation.Trace, len(seq.Violation.Trace))
	require.Equal(t, seq.Violation.Trace, ex.Violation.Trace)
}

// TestExplorerMemoryPerState: a visited state costs at most 32 bytes (fingerprint, table
// slot, parent pointer) once its level is expanded.
func TestExplorerMemoryPerState(t *testing.T) {
	if os.Getenv("OPFSM_DEEP") == "" {
		t.Skip("an 80,028-state search: make check-deep (BenchmarkExplorer reports the same bytes per state)")
	}
	// A world of 80,028 states: in a small one the table's fixed part weighs more per state.
	w, err := WorldFromConfig("../spec/failover/FailoverSplitDup.cfg")
	require.NoError(t, err)
	ex, err := Explore(context.Background(), w.Config(), ExploreOptions{MaxStream: w.MaxReq})
	require.NoError(t, err)
	perState := float64(ex.VisitedBytes) / float64(ex.States)
	require.LessOrEqual(t, perState, 32.0)
	require.Greater(t, perState, 14.0, "8 bytes of fingerprint, 6 of parent pointer and the table's slots")
}

// TestExplorerStopsAtLimitAndContext: MaxStates truncates; MaxMemory and an ended context
// stop the search with an error.
func TestExplorerStopsAtLimitAndContext(t *testing.T) {
	cfg := specWorld(sim.Bugs{}, 1, 1)
	ex, err := Explore(context.Background(), cfg, ExploreOptions{MaxStream: 3, MaxStates: 500})
	require.NoError(t, err)
	require.True(t, ex.Truncated)
	require.Equal(t, 500, ex.States)

	_, err = Explore(context.Background(), cfg, ExploreOptions{MaxStream: 3, MaxMemory: 1 << 20})
	require.ErrorIs(t, err, ErrMemoryLimit, "no Go program runs in a MB")

	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped by the test")
	cancel(stop)
	_, err = Explore(ctx, cfg, ExploreOptions{MaxStream: 3})
	require.ErrorIs(t, err, stop)
}

// TestExplorerNotAbstract: counting abstract states in a world the spec cannot express
// (a split at a key other than the spec's) is an error wrapping ErrNotAbstract.
func TestExplorerNotAbstract(t *testing.T) {
	cfg := specWorld(sim.Bugs{}, 0, 0) // splits at its own middle keys
	_, err := Explore(context.Background(), cfg, ExploreOptions{MaxStream: 3, AbstractCount: true})
	require.ErrorIs(t, err, ErrNotAbstract)
}

// BenchmarkExplorer explores Failover.cfg's world (43,951 states), NodeCrash.cfg's
// (282,749) and MergeAbort.cfg's (702,073) with the parallel explorer, invariants checked
// (go test -run '^$' -bench Explorer -benchtime 1x ./conformance): states/s and bytes per
// visited state, with the abstract states not counted and, as opfsm explore runs it
// against TLC, counted (abstract/s is then the rate opfsm explore compares with TLC's).
func BenchmarkExplorer(b *testing.B) {
	for _, name := range []string{"Failover.cfg", "NodeCrash.cfg", "MergeAbort.cfg"} {
		for _, abstract := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/abstract=%t", name, abstract), func(b *testing.B) {
				w, err := WorldFromConfig("../spec/failover/" + name)
				require.NoError(b, err)
				for b.Loop() {
					ex, err := Explore(context.Background(), w.Config(), ExploreOptions{MaxStream: w.MaxReq, AbstractCount: abstract})
					require.NoError(b, err)
					require.Nil(b, ex.Violation)
					b.ReportMetric(ex.StatesPerSecond(), "states/s")
					b.ReportMetric(float64(ex.States), "states")
					b.ReportMetric(float64(ex.VisitedBytes)/float64(ex.States), "B/state")
					if abstract {
						b.ReportMetric(float64(ex.Abstract)/ex.Elapsed.Seconds(), "abstract/s")
					}
				}
			})
		}
	}
}
