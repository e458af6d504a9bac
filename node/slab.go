package node

import (
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// slab holds values by dispatcher id in one slice, reusing freed slots, so a steady
// stream of creates and sweeps (or journal writes and deletes) allocates nothing: a Go map
// would allocate for every value as large as an operator record.
//
// A Node shares its slabs with its clones until it writes them (Node.own): put, del and a
// write through get's pointer need the slab's storage to be the node's own.
type slab[T any] struct {
	index map[ops.DispatcherID]int32
	items []T
	free  []int32
}

func newSlab[T any]() slab[T] { return slab[T]{index: map[ops.DispatcherID]int32{}} }

// get returns the value of id, valid until the next put, or nil.
func (s *slab[T]) get(id ops.DispatcherID) *T {
	i, ok := s.index[id]
	if !ok {
		return nil
	}
	return &s.items[i]
}

// put stores v as id's value, replacing any.
func (s *slab[T]) put(id ops.DispatcherID, v T) {
	if s.index == nil {
		s.index = map[ops.DispatcherID]int32{}
	}
	if i, ok := s.index[id]; ok {
		s.items[i] = v
		return
	}
	if k := len(s.free); k > 0 {
		i := s.free[k-1]
		s.free = s.free[:k-1]
		s.items[i] = v
		s.index[id] = i
		return
	}
	s.items = append(s.items, v)
	s.index[id] = int32(len(s.items) - 1)
}

// del removes id's value and reports whether there was one.
func (s *slab[T]) del(id ops.DispatcherID) bool {
	i, ok := s.index[id]
	if !ok {
		return false
	}
	var zero T
	s.items[i] = zero // drop what it referenced
	delete(s.index, id)
	s.free = append(s.free, i)
	return true
}

func (s *slab[T]) len() int { return len(s.index) }

// values copies every value, in no order, into a new slice: one allocation and no
// lookups, for a caller that sorts them (a model checker reads the dispatchers and
// journals of every state it finds).
func (s *slab[T]) values() []T {
	if len(s.free) == 0 { // every slot holds a value: copy them at once
		out := make([]T, len(s.items))
		copy(out, s.items)
		return out
	}
	out := make([]T, 0, len(s.index))
	for _, i := range s.index {
		out = append(out, s.items[i])
	}
	return out
}

// ids appends every id to buf, sorted.
func (s *slab[T]) ids(buf []ops.DispatcherID) []ops.DispatcherID {
	for id := range s.index {
		buf = append(buf, id)
	}
	slices.Sort(buf)
	return buf
}

// copyItems gives s a copy of its values, for changing them in place (through get) or
// with put: the values themselves are copied as they are, sharing what they reference.
func (s *slab[T]) copyItems() { s.items = slices.Clone(s.items) }

// copyIndex gives s a copy of its index and free list, for a put of a new id or a del. An
// empty slab drops its storage instead: its copy allocates nothing (a model checker
// copies nodes by the million), and put allocates afresh.
func (s *slab[T]) copyIndex() {
	if len(s.index) == 0 {
		*s = slab[T]{}
		return
	}
	s.index, s.free = maps.Clone(s.index), slices.Clone(s.free)
}
