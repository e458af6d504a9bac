package node

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
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
		if step%100 == 0 { // a copy without one id, or without none, leaves the original alone
			for _, gone := range []ops.DispatcherID{id, "absent"} {
				w, wwant := s.without(gone), maps.Clone(want)
				delete(wwant, gone)
				check(&w, wwant)
				require.Equal(t, len(w.keys), w.len(), "compact: no free slot")
				require.Equal(t, len(w.keys) >= slabScan, w.index != nil, "a map from slabScan slots on")
				w.put("new", -3)
				wwant["new"] = -3
				check(&w, wwant)
			}
			check(&s, want)
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

// TestByTableFromSlabScan: a node lists its dispatchers by table only once it has as many
// as its slab indexes by a map: then every one, of every table, and a sweep and a clone's
// write keep the lists right.
func TestByTableFromSlabScan(t *testing.T) {
	n, err := New(Config{Node: "A", Changefeed: "cf", Owner: 1})
	require.NoError(t, err)
	d := func(i int) protocol.Dispatcher {
		return protocol.Dispatcher{ID: ops.DispatcherID(fmt.Sprintf("d%02d", i)), State: ops.Working,
			Span: ops.Span{Table: ops.TableID(1 + i%2), Start: fmt.Sprintf("k%02d", i), End: fmt.Sprintf("k%02d", i+1)}}
	}
	for i := range slabScan - 1 {
		require.NoError(t, n.Preload(d(i)))
	}
	require.Nil(t, n.byTable, "a small node scans")
	require.NoError(t, n.Preload(d(slabScan-1)))
	want := map[ops.TableID][]ops.DispatcherID{}
	for i := range slabScan {
		want[d(i).Span.Table] = append(want[d(i).Span.Table], d(i).ID)
	}
	sorted := func(m map[ops.TableID][]ops.DispatcherID) map[ops.TableID][]ops.DispatcherID {
		out := map[ops.TableID][]ops.DispatcherID{}
		for t, ids := range m {
			out[t] = slices.Sorted(slices.Values(ids))
		}
		return out
	}
	require.Equal(t, want, sorted(n.byTable))
	c := n.Clone()
	c.drop("d03", 2)
	require.NoError(t, c.Preload(d(slabScan)))
	require.Equal(t, want, sorted(n.byTable), "the clone's writes")
	want[2] = slices.DeleteFunc(slices.Clone(want[2]), func(id ops.DispatcherID) bool { return id == "d03" })
	want[1] = append(slices.Clone(want[1]), d(slabScan).ID)
	require.Equal(t, want, sorted(c.byTable))
}

// TestSlabWithoutAtTheThreshold: a copy without one id indexes its ids by a map exactly
// when it keeps slabScan of them or more, as put does.
func TestSlabWithoutAtTheThreshold(t *testing.T) {
	s := newSlab[int]()
	for i := range slabScan + 1 {
		s.put(ops.DispatcherID(fmt.Sprintf("d%02d", i)), i)
	}
	w := s.without("d00")
	require.Equal(t, slabScan, w.len())
	require.NotNil(t, w.index, "slabScan ids: a map")
	require.Equal(t, 1, *w.get("d01"))
	w = w.without("d01")
	require.Nil(t, w.index, "fewer: scanned")
	require.Equal(t, 2, *w.get("d02"))
}
