package node

import (
	"cmp"
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// slab holds values by dispatcher id in one slice, reusing freed slots, so a steady
// stream of creates and sweeps (or journal writes and deletes) allocates nothing: a Go map
// would allocate for every value as large as an operator record. A small slab finds an id
// by scanning its keys, which is faster than hashing at that size and lets a copy be two
// short slices; from slabScan ids on, a map indexes them.
//
// A Node shares its slabs with its clones until it writes them (Node.own): put, del and a
// write through get's pointer need the slab's storage to be the node's own.
type slab[T any] struct {
	keys  []ops.DispatcherID // by slot; "" marks a free slot
	items []T                // by slot
	free  []int32
	index map[ops.DispatcherID]int32 // every id's slot, from slabScan ids on; else nil
}

// slabScan is the number of slots from which a slab indexes its ids with a map.
const slabScan = 16

func newSlab[T any]() slab[T] { return slab[T]{} }

// slot returns id's slot, or -1.
func (s *slab[T]) slot(id ops.DispatcherID) int {
	if id == "" {
		return -1 // the mark of a free slot, never an id
	}
	if s.index != nil {
		if i, ok := s.index[id]; ok {
			return int(i)
		}
		return -1
	}
	return slices.Index(s.keys, id)
}

// get returns the value of id, valid until the next put, or nil.
func (s *slab[T]) get(id ops.DispatcherID) *T {
	if i := s.slot(id); i >= 0 {
		return &s.items[i]
	}
	return nil
}

// put stores v as id's value, replacing any.
func (s *slab[T]) put(id ops.DispatcherID, v T) {
	if i := s.slot(id); i >= 0 {
		s.items[i] = v
		return
	}
	var i int32
	if k := len(s.free); k > 0 {
		i = s.free[k-1]
		s.free = s.free[:k-1]
		s.keys[i], s.items[i] = id, v
	} else {
		i = int32(len(s.keys))
		s.keys, s.items = append(s.keys, id), append(s.items, v)
	}
	switch {
	case s.index != nil:
		s.index[id] = i
	case len(s.keys) >= slabScan:
		s.buildIndex()
	}
}

// buildIndex indexes every id of s by a map.
func (s *slab[T]) buildIndex() {
	s.index = make(map[ops.DispatcherID]int32, len(s.keys))
	for j, k := range s.keys {
		if k != "" {
			s.index[k] = int32(j)
		}
	}
}

// without returns a slab of its own holding every value of s but id's, in slots of its
// own: what a node that shares a journal makes of it to delete one record, copying only
// the records it keeps (none, for a journal of one record).
func (s *slab[T]) without(id ops.DispatcherID) slab[T] {
	n := s.len()
	if s.slot(id) >= 0 {
		n--
	}
	if n == 0 {
		return slab[T]{}
	}
	d := slab[T]{keys: make([]ops.DispatcherID, 0, n), items: make([]T, 0, n)}
	for i, k := range s.keys {
		if k != "" && k != id {
			d.keys, d.items = append(d.keys, k), append(d.items, s.items[i])
		}
	}
	if len(d.keys) >= slabScan {
		d.buildIndex()
	}
	return d
}

// del removes id's value and reports whether there was one.
func (s *slab[T]) del(id ops.DispatcherID) bool {
	i := s.slot(id)
	if i < 0 {
		return false
	}
	var zero T
	s.keys[i], s.items[i] = "", zero // drop what it referenced
	if s.index != nil {
		delete(s.index, id)
	}
	s.free = append(s.free, int32(i))
	return true
}

func (s *slab[T]) len() int { return len(s.keys) - len(s.free) }

// each calls fn with every id and its value, in slot order.
func (s *slab[T]) each(fn func(id ops.DispatcherID, v *T)) {
	for i, k := range s.keys {
		if k != "" {
			fn(k, &s.items[i])
		}
	}
}

// values copies every value, in no order, into a new slice: one allocation, for a caller
// that sorts them (a model checker reads the dispatchers and journals of every state it
// finds).
func (s *slab[T]) values() []T {
	if len(s.free) == 0 { // every slot holds a value: copy them at once
		out := make([]T, len(s.items))
		copy(out, s.items)
		return out
	}
	out := make([]T, 0, s.len())
	for i, k := range s.keys {
		if k != "" {
			out = append(out, s.items[i])
		}
	}
	return out
}

// eachSorted calls fn with every value, in id order, sorting the slots of a small slab
// on the stack: a model checker encodes the journals of every state it finds.
func (s *slab[T]) eachSorted(fn func(v *T)) {
	var buf [slabScan]int32
	slots := buf[:0]
	for i, k := range s.keys {
		if k != "" {
			slots = append(slots, int32(i))
		}
	}
	slices.SortFunc(slots, func(a, b int32) int { return cmp.Compare(s.keys[a], s.keys[b]) })
	for _, i := range slots {
		fn(&s.items[i])
	}
}

// ids appends every id to buf, sorted.
func (s *slab[T]) ids(buf []ops.DispatcherID) []ops.DispatcherID {
	for _, k := range s.keys {
		if k != "" {
			buf = append(buf, k)
		}
	}
	slices.Sort(buf)
	return buf
}

// copyItems gives s a copy of its values, for changing them in place (through get) or
// with put: the values themselves are copied as they are, sharing what they reference.
func (s *slab[T]) copyItems() { s.items = slices.Clone(s.items) }

// copyIndex gives s a copy of its keys, free list and index, for a put of a new id or a
// del. An empty slab drops its storage instead: its copy allocates nothing (a model
// checker copies nodes by the million), and put allocates afresh.
func (s *slab[T]) copyIndex() {
	if s.len() == 0 {
		*s = slab[T]{}
		return
	}
	s.keys, s.free = slices.Clone(s.keys), slices.Clone(s.free)
	if s.index != nil {
		s.index = maps.Clone(s.index)
	}
}
