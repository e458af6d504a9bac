package node

import (
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
