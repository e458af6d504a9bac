package recovery

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

func TestSnapshotRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50; i++ {
		s := randomSnapshot(rng, 10)
		data, err := EncodeSnapshot(s)
		require.NoError(t, err)
		got, err := DecodeSnapshot(data)
		require.NoError(t, err, string(data))
		a, err := Recover(s)
		require.NoError(t, err)
		b, err := Recover(got)
		require.NoError(t, err)
		require.Equal(t, summarize(a), summarize(b))
	}
}

func TestDecodeSnapshotRejects(t *testing.T) {
	cases := []struct {
		name, data string
		err        error
		field      string
	}{
		{"not json", `{`, fsm.ErrMalformed, ""},
		{"future version", `{"v":9,"changefeed":"cf","epoch":2,"tables":[],"responses":[]}`, fsm.ErrUnknownVersion, "v"},
		{"missing epoch", `{"v":1,"changefeed":"cf","tables":[],"responses":[]}`, fsm.ErrMissingField, "epoch"},
		{"unknown field", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[],"x":1}`, fsm.ErrUnknownField, "x"},
		{"unknown component state", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[{"node":"B","changefeed":"cf","epoch":2,"dispatchers":[{"id":"d","span":{"table":1,"start":"","end":""},"state":"Dancing"}],"journal":[],"mergeJournal":[]}]}`, ops.ErrUnknownComponentState, "state"},
		{"dispatcher without span", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[{"node":"B","changefeed":"cf","epoch":2,"dispatchers":[{"id":"d","state":"Working"}],"journal":[],"mergeJournal":[]}]}`, fsm.ErrMissingField, "span"},
		{"journal with unknown operator type", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[{"node":"B","changefeed":"cf","epoch":2,"dispatchers":[],"journal":[{"action":"Remove","record":{"v":1,"type":"teleport","changefeed":"cf","id":"d","state":"Running","epoch":1,"span":{"table":1,"start":"","end":""}}}],"mergeJournal":[]}]}`, ops.ErrUnknownType, "type"},
		{"journal with unknown record version", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[{"node":"B","changefeed":"cf","epoch":2,"dispatchers":[],"journal":[{"action":"Remove","record":{"v":7}}],"mergeJournal":[]}]}`, fsm.ErrUnknownVersion, "v"},
		{"journal with unknown action", `{"v":1,"changefeed":"cf","epoch":2,"tables":[],"responses":[{"node":"B","changefeed":"cf","epoch":2,"dispatchers":[],"journal":[{"action":"Explode","record":{}}],"mergeJournal":[]}]}`, fsm.ErrMalformed, "action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeSnapshot([]byte(tc.data))
			require.ErrorIs(t, err, tc.err)
			var de *fsm.DecodeError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.field, de.Field)
		})
	}
}

// FuzzRecover decodes arbitrary bytes as a snapshot and recovers it: a typed error or a
// result, never a panic, and a result whose registry holds no two overlapping active
// (Replicating) tasks.
func FuzzRecover(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 8; i++ {
		data, err := EncodeSnapshot(randomSnapshot(rng, 3))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSnapshot(data)
		if err != nil {
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
				if a.Sched == ops.Replicating && b.Sched == ops.Replicating && a.Span.Overlaps(b.Span) {
					t.Fatalf("overlapping replicating tasks %s and %s", a, b)
				}
			}
		}
	})
}
