package recovery

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func TestSnapshotRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50; i++ {
		s := randomSnapshot(rng, 10)
		data, err := json.Marshal(s)
		require.NoError(t, err)
		var got protocol.Snapshot
		require.NoError(t, json.Unmarshal(data, &got), string(data))
		a, err := Recover(s)
		require.NoError(t, err)
		b, err := Recover(got)
		require.NoError(t, err)
		require.Equal(t, summarize(a), summarize(b))
	}
}

// FuzzRecover decodes arbitrary bytes as a JSON snapshot and recovers it: a typed error or a
// result, never a panic, and a result whose registry holds no two overlapping active
// (Replicating) tasks but where one is temporary coverage, deleted when its remove ends.
func FuzzRecover(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 8; i++ {
		data, err := json.Marshal(randomSnapshot(rng, 3))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s protocol.Snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			var de *fsm.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		res, err := Recover(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSnapshot) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		tasks := res.Controller.Tasks()
		for i, a := range tasks {
			for _, b := range tasks[i+1:] {
				if a.Sched == ops.Replicating && b.Sched == ops.Replicating && a.Span.Overlaps(b.Span) &&
					!tempCover(res.Controller, a.ID) && !tempCover(res.Controller, b.ID) {
					t.Fatalf("overlapping replicating tasks %s and %s, neither kept as temporary coverage", a, b)
				}
			}
		}
	})
}

// tempCover: task id is kept only until its remove deletes it.
func tempCover(c *ops.Controller, id ops.DispatcherID) bool {
	rec, ok := c.Operator(id)
	return ok && rec.Type == ops.TypeRemove && rec.Hook == ops.HookDelete
}
