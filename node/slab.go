package node

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// slab holds values by dispatcher id in one slice, reusing freed slots, so a steady
// stream of creates and sweeps (or journal writes and deletes) allocates nothing: a Go map
// would allocate for every value as large as an operator record.
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

// ids appends every id to buf, sorted.
func (s *slab[T]) ids(buf []ops.DispatcherID) []ops.DispatcherID {
	for id := range s.index {
		buf = append(buf, id)
	}
	slices.Sort(buf)
	return buf
}

// clone returns an independent copy; copy deep-copies a value where it holds slices. An
// empty slab's copy allocates nothing (a model checker clones nodes by the million).
func (s *slab[T]) clone(copyItem func(T) T) slab[T] {
	if len(s.index) == 0 {
		return slab[T]{}
	}
	d := slab[T]{index: make(map[ops.DispatcherID]int32, len(s.index)), items: make([]T, len(s.items)), free: slices.Clone(s.free)}
	for id, i := range s.index {
		d.index[id] = i
		d.items[i] = copyItem(s.items[i])
	}
	return d
}
