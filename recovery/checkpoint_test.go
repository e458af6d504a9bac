package recovery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// withCheckpoints gives every reported dispatcher and journaled record of s a random
// checkpoint at or above the snapshot's, as a consistent world has them.
func withCheckpoints(rng *rand.Rand, s protocol.Snapshot) protocol.Snapshot {
	s.Checkpoint = 100 + uint64(rng.IntN(50))
	for i := range s.Answers {
		a := &s.Answers[i]
		for j := range a.Dispatchers {
			a.Dispatchers[j].Checkpoint = s.Checkpoint + uint64(rng.IntN(100))
		}
		for j := range a.Removes {
			a.Removes[j].Checkpoint = s.Checkpoint + uint64(rng.IntN(100))
		}
		for j := range a.Merges {
			a.Merges[j].Checkpoint = s.Checkpoint + uint64(rng.IntN(100))
		}
	}
	return s
}

// checkpointSafety is the rule of docs/protocol.md: every task recovery created starts at
// or above the snapshot's checkpoint (the changefeed checkpoint never goes back), and for
// every key it covers no higher than the highest checkpoint any report or journaled
// record of that key gave, or the snapshot's when none did (data is never skipped).
func checkpointSafety(s protocol.Snapshot, tasks []ops.Task) error {
	type evidence struct {
		span ops.Span
		ckpt uint64
	}
	var ev []evidence
	var spans []ops.Span
	for _, a := range s.Answers {
		for _, d := range a.Dispatchers {
			ev = append(ev, evidence{d.Span, d.Checkpoint})
		}
		for _, r := range slices.Concat(a.Removes, a.Merges) {
			ev = append(ev, evidence{r.Span, r.Checkpoint})
		}
	}
	for _, e := range ev {
		spans = append(spans, e.span)
	}
	for _, t := range tasks {
		if t.Checkpoint < s.Checkpoint {
			return fmt.Errorf("task %s starts at %d, behind the snapshot's %d", t, t.Checkpoint, s.Checkpoint)
		}
		// The keys of t, cut at every boundary any evidence has inside it.
		for _, piece := range t.Span.Pieces(spans) {
			highest := s.Checkpoint
			for _, e := range ev {
				if e.span.Contains(piece) {
					highest = max(highest, e.ckpt)
				}
			}
			if t.Checkpoint > highest {
				return fmt.Errorf("task %s starts at %d, above %d, the highest checkpoint reported for %s", t, t.Checkpoint, highest, piece)
			}
		}
	}
	return nil
}

// TestCheckpointSafety: on random snapshots of every shape, every task recovery creates
// starts where no data is skipped and the changefeed checkpoint does not go back.
func TestCheckpointSafety(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for i := 0; i < 300; i++ {
		snap := withCheckpoints(rng, randomSnapshot(rng, 4+rng.IntN(8)))
		res, err := Recover(snap)
		require.NoError(t, err)
		require.NoError(t, checkpointSafety(snap, res.Controller.Tasks()), "snapshot %d", i)
	}
}

// TestCheckpointSafetyCatches: the check fails on a task that starts behind the snapshot
// (an uncovered range started at 0, as recovery once did) and on one that starts above
// what any dispatcher of its keys reported.
func TestCheckpointSafetyCatches(t *testing.T) {
	snap := protocol.Snapshot{Changefeed: cf, Epoch: 2, Checkpoint: 100, Tables: []ops.TableID{100},
		Answers: []protocol.BootstrapAnswer{resp("B", protocol.Dispatcher{ID: "d", Span: left, State: ops.Working, Checkpoint: 150})}}
	res, err := Recover(snap)
	require.NoError(t, err)
	tasks := res.Controller.Tasks()
	require.NoError(t, checkpointSafety(snap, tasks))
	require.Equal(t, []uint64{150, 100}, []uint64{tasks[0].Checkpoint, tasks[1].Checkpoint}, "d at its own, the hole at the snapshot's")
	behind := slices.Clone(tasks)
	behind[1].Checkpoint = 0
	require.ErrorContains(t, checkpointSafety(snap, behind), "behind the snapshot")
	skip := slices.Clone(tasks)
	skip[1].Checkpoint = 150
	require.ErrorContains(t, checkpointSafety(snap, skip), "above 100")
}
