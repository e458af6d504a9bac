package operators

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTaskTableAgreesWithMap drives the registry with random inserts, lookups and deletes
// (growth, slot reuse and backward-shift deletion included) against a Go map.
func TestTaskTableAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, capacity := range []int{0, 5, 1000} {
		tt := newTaskTable(capacity)
		model := map[DispatcherID]Task{}
		for i := 0; i < 20000; i++ {
			id := DispatcherID("d" + strconv.Itoa(rng.IntN(3000)))
			switch rng.IntN(3) {
			case 0:
				task := Task{ID: id, Span: Span{Table: TableID(i)}, Checkpoint: uint64(i)}
				_, inserted := tt.insert(task)
				_, had := model[id]
				require.Equal(t, !had, inserted, id)
				if !had {
					model[id] = task
				}
			case 1:
				old, removed := tt.remove(id)
				want, had := model[id]
				require.Equal(t, had, removed, id)
				require.Equal(t, want, old)
				delete(model, id)
			default:
				got := tt.get(id)
				want, had := model[id]
				require.Equal(t, had, got != nil, id)
				if had {
					require.Equal(t, want, *got)
				}
			}
			require.Equal(t, len(model), tt.n)
		}
		seen := map[DispatcherID]Task{}
		tt.each(func(task *Task) { seen[task.ID] = *task })
		require.Equal(t, model, seen)
		for id, want := range model {
			require.Equal(t, want, *tt.get(id))
		}
	}
}
