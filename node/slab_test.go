package node

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

// TestSlabCopyIndexEmpty: copying an empty slab's index allocates nothing, also when the
// slab held values once; what it leaves is a usable empty slab.
func TestSlabCopyIndexEmpty(t *testing.T) {
	for name, s := range map[string]slab[ops.Record]{"new": newSlab[ops.Record](), "emptied": newSlab[ops.Record]()} {
		if name == "emptied" {
			s.put("a", ops.Record{ID: "a"})
			s.del("a")
		}
		var c slab[ops.Record]
		require.Zero(t, testing.AllocsPerRun(10, func() {
			c = s
			c.copyIndex()
		}), name)
		require.Equal(t, slab[ops.Record]{}, c, name)
		c.put("b", ops.Record{ID: "b"})
		require.Equal(t, ops.Record{ID: "b"}, *c.get("b"), name)
		require.Equal(t, 0, s.len(), name)
	}
}

// TestSlabValues: values holds every value once, none of a freed slot, before and after
// a put reuses the slot, and is the slab's to keep no more (a copy).
func TestSlabValues(t *testing.T) {
	s := newSlab[ops.DispatcherID]()
	require.NotNil(t, s.values())
	require.Empty(t, s.values())
	for _, id := range []ops.DispatcherID{"a", "b", "c"} {
		s.put(id, id)
	}
	require.ElementsMatch(t, []ops.DispatcherID{"a", "b", "c"}, s.values())
	require.True(t, s.del("b"))
	require.ElementsMatch(t, []ops.DispatcherID{"a", "c"}, s.values())
	s.put("d", "d")
	v := s.values()
	require.ElementsMatch(t, []ops.DispatcherID{"a", "c", "d"}, v)
	v[0] = "x"
	require.ElementsMatch(t, []ops.DispatcherID{"a", "c", "d"}, s.values())
}

// TestSlabAgainstMap: random puts and deletes over up to 40 ids (so the slab scans its
// keys at first and indexes them past slabScan) keep it equal to a map, by get, len, ids, values, each and eachSorted, and a
// copy (copyIndex and copyItems, as a node's write makes) changes independently of its
// original.
func TestSlabAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, want := newSlab[int](), map[ops.DispatcherID]int{}
	check := func(s *slab[int], want map[ops.DispatcherID]int) {
		require.Equal(t, len(want), s.len())
		ids := slices.Sorted(maps.Keys(want))
		require.Equal(t, ids, s.ids(nil))
		var vals []int
		for _, id := range ids {
			require.NotNil(t, s.get(id), id)
			require.Equal(t, want[id], *s.get(id), id)
			vals = append(vals, want[id])
		}
		require.ElementsMatch(t, vals, s.values())
		var sorted []int
		s.eachSorted(func(v *int) { sorted = append(sorted, *v) })
		require.Equal(t, vals, sorted, "in id order")
		seen := map[ops.DispatcherID]int{}
		s.each(func(id ops.DispatcherID, v *int) { seen[id] = *v })
		require.Equal(t, want, seen)
		require.Nil(t, s.get("absent"))
		require.Nil(t, s.get(""))
	}
	for step := range 3000 {
		id := ops.DispatcherID(fmt.Sprintf("d%02d", rng.IntN(40)))
		if rng.IntN(3) == 0 {
			_, had := want[id]
			require.Equal(t, had, s.del(id))
			delete(want, id)
		} else {
			s.put(id, step)
			want[id] = step
		}
		if step%100 == 0 { // a copy, written, leaves the original alone
			c, cwant := s, maps.Clone(want)
			c.copyIndex()
			c.copyItems()
			c.put("new", -1)
			for id := range want {
				c.put(id, -2)
				cwant[id] = -2
				break
			}
			cwant["new"] = -1
			check(&c, cwant)
		}
		check(&s, want)
		require.Equal(t, len(s.keys) >= slabScan, s.index != nil, "step %d: a map from slabScan slots on", step)
	}
}
