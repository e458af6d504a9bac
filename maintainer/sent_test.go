package maintainer

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

// TestSentTableAgainstMap: random sets and deletes over up to 40 ids (so the table scans
// its slice at first and uses a map past sentScan entries) keep it equal to a map, by
// get, len and each; a copy, with or without an entry, changes independently of its
// original.
func TestSentTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tb sentTable
	want := map[ops.DispatcherID]sent{}
	check := func(tb *sentTable, want map[ops.DispatcherID]sent, step int) {
		require.Equal(t, len(want), tb.len(), "step %d", step)
		for id, s := range want {
			got, ok := tb.get(id)
			require.True(t, ok, "step %d: %s", step, id)
			require.Equal(t, s, got, "step %d: %s", step, id)
		}
		_, ok := tb.get("absent")
		require.False(t, ok)
		seen := map[ops.DispatcherID]sent{}
		tb.each(func(id ops.DispatcherID, s sent) {
			_, twice := seen[id]
			require.False(t, twice, "step %d: %s twice", step, id)
			seen[id] = s
		})
		require.Equal(t, want, seen, "step %d", step)
		if tb.byID != nil {
			require.Nil(t, tb.small, "step %d: one form at a time", step)
		}
	}
	grew := false
	for step := range 3000 {
		id := ops.DispatcherID(fmt.Sprintf("d%02d", rng.IntN(40)))
		if rng.IntN(3) == 0 {
			tb.del(id)
			delete(want, id)
		} else {
			s := sent{key: sentKey{to: "A"}, tick: uint64(step)}
			tb.set(id, s)
			want[id] = s
		}
		check(&tb, want, step)
		if tb.byID != nil {
			grew = true
		}
		if step%50 == 0 { // a copy, written, leaves the original alone
			for id := range want {
				c, cwant := tb.clone(id), maps.Clone(want)
				delete(cwant, id)
				check(&c, cwant, step)
				c.set("new", sent{tick: 1})
				cwant["new"] = sent{tick: 1}
				check(&c, cwant, step)
				break
			}
			c, cwant := tb.clone(""), maps.Clone(want)
			c.set("new", sent{tick: 2})
			cwant["new"] = sent{tick: 2}
			c.del("d00")
			delete(cwant, "d00")
			check(&c, cwant, step)
			check(&tb, want, step)
		}
	}
	require.True(t, grew, "the table reached its map")
}

// TestSentTableSmallUntilScan: the table keeps its entries in its slice up to sentScan-1
// of them and moves them to a map with the next, keeping them all.
func TestSentTableSmallUntilScan(t *testing.T) {
	var tb sentTable
	for i := range sentScan - 1 {
		tb.set(ops.DispatcherID(fmt.Sprintf("d%02d", i)), sent{tick: uint64(i)})
	}
	require.Nil(t, tb.byID)
	require.Len(t, tb.small, sentScan-1)
	tb.set("d00", sent{tick: 99}) // a known id stays in place
	require.Nil(t, tb.byID)
	tb.set("last", sent{tick: 100})
	require.Nil(t, tb.small)
	require.Len(t, tb.byID, sentScan)
	s, ok := tb.get("d00")
	require.True(t, ok)
	require.Equal(t, uint64(99), s.tick)
}
