package operators

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// taskTable is the controller's task registry. Tasks live in pages that never move, so a
// *Task stays valid until its task is deleted, and a deleted task's slot is reused. The first
// 1024 slots are eight small pages of 8, 8, 16, ... 512 tasks, every later page holds 1024: a
// table of a few tasks (the explorer clones controllers by the million) costs a few hundred
// bytes, not a whole 88 KiB page. Tasks are found through an open-addressing index (linear
// probing, deletion by backward shift) whose entries are pointer-free uint64s: the high half of the id's hash
// and the slot number plus one (0 is empty). An entry's home position is the top bits of
// its hash, so growing and deleting never rehash an id. So the garbage collector never scans the
// index, and an insert or a failed lookup touches one cache line of it, comparing ids only
// when the hash halves match. A Go map keyed by string costs about twice the memory and a
// cache miss more per insert; at a million tasks that is most of recovery's registry time.
type taskTable struct {
	seed  maphash.Seed
	index []uint64 // len is 1<<(64-shift), kept at most 3/4 full
	shift uint     // an entry's home is e>>shift
	pages [][]Task // page p holds pageLen(p) tasks
	free  []uint32 // slots of deleted tasks, reused first
	next  uint32   // slots below next have been used
	n     int
	// hasOp has a bit per slot, set while the task there has an operator, so a status for
	// a task without one (the heartbeat's usual case) is decided without a lookup in the
	// operator map. A million slots take 128 KiB, which stays in cache.
	hasOp []uint64
}

const (
	pageBits   = 10 // 1024 tasks of 88 bytes: exactly eleven 8 KiB runtime pages
	pageSize   = 1 << pageBits
	smallBits  = 3 // the first page holds 1<<smallBits tasks
	smallPages = pageBits - smallBits + 1
	slotMask   = 1<<32 - 1
)

// pageOf returns the page holding slot and the slot's offset in it.
func pageOf(slot uint32) (page, off uint32) {
	if slot>>pageBits != 0 { // a slot of the large pages
		return slot>>pageBits + smallPages - 1, slot & (pageSize - 1)
	}
	page = uint32(bits.Len32(slot >> smallBits)) // 0-7 land in page 0, 8-15 in 1, 16-31 in 2...
	return page, slot - uint32(pageStart(int(page)))
}

// pageStart is the first slot of page p: 0, then 8 << (p-1) for the small pages, then a
// multiple of pageSize.
func pageStart(p int) int {
	switch {
	case p == 0:
		return 0
	case p < smallPages:
		return 1 << (smallBits + p - 1)
	default:
		return (p - smallPages + 1) << pageBits
	}
}

// pageLen is the number of tasks page p holds.
func pageLen(p int) int { return pageStart(p+1) - pageStart(p) }

// newTaskTable returns a table sized for capacity tasks.
func newTaskTable(capacity int) taskTable {
	tt := taskTable{seed: maphash.MakeSeed()}
	tt.setIndex(indexSize(capacity))
	return tt
}

// indexSize is the power of two that holds n entries at most 3/4 full (at least 8).
func indexSize(n int) int {
	return max(8, 1<<bits.Len(uint(n+n/3)))
}

func (tt *taskTable) hash(id DispatcherID) uint64 { return maphash.String(tt.seed, string(id)) }

// setIndex replaces the index with an empty one of size entries (a power of two).
func (tt *taskTable) setIndex(size int) {
	tt.index = make([]uint64, size)
	tt.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (tt *taskTable) at(slot uint32) *Task {
	p, off := pageOf(slot)
	return &tt.pages[p][off]
}

// find returns the index position of id, or of the empty entry where it would go.
func (tt *taskTable) find(id DispatcherID, h uint64) (pos int, found bool) {
	mask := len(tt.index) - 1
	tag := h &^ slotMask
	for pos = int(h >> tt.shift); ; pos = (pos + 1) & mask {
		e := tt.index[pos]
		if e == 0 {
			return pos, false
		}
		if e&^slotMask == tag && tt.at(uint32(e&slotMask)-1).ID == id {
			return pos, true
		}
	}
}

// lookup returns the slot of the task with id (whose hash is h).
func (tt *taskTable) lookup(id DispatcherID, h uint64) (uint32, bool) {
	if tt.n == 0 {
		return 0, false
	}
	pos, ok := tt.find(id, h)
	if !ok {
		return 0, false
	}
	return uint32(tt.index[pos]&slotMask) - 1, true
}

// opAt reports whether the task in slot has an operator.
func (tt *taskTable) opAt(slot uint32) bool {
	w := int(slot / 64)
	return w < len(tt.hasOp) && tt.hasOp[w]&(1<<(slot%64)) != 0
}

// markOp records whether the task with id, if there is one, has an operator.
func (tt *taskTable) markOp(id DispatcherID, has bool) {
	slot, ok := tt.lookup(id, tt.hash(id))
	if !ok {
		return
	}
	if !has {
		tt.clearOp(slot)
		return
	}
	w := int(slot / 64)
	for w >= len(tt.hasOp) {
		tt.hasOp = append(tt.hasOp, 0)
	}
	tt.hasOp[w] |= 1 << (slot % 64)
}

// clearOp clears slot's operator bit (hasOp has no word for a slot no operator had).
func (tt *taskTable) clearOp(slot uint32) {
	if w := int(slot / 64); w < len(tt.hasOp) {
		tt.hasOp[w] &^= 1 << (slot % 64)
	}
}

// get returns the task with id, or nil.
func (tt *taskTable) get(id DispatcherID) *Task {
	if tt.n == 0 {
		return nil
	}
	pos, ok := tt.find(id, tt.hash(id))
	if !ok {
		return nil
	}
	return tt.at(uint32(tt.index[pos]&slotMask) - 1)
}

// insert stores t unless a task with its id exists; it returns the stored task and whether
// it was inserted.
func (tt *taskTable) insert(t Task) (*Task, bool) {
	return tt.insertHashed(t, tt.hash(t.ID))
}

// insertHashed is insert with the id's hash already computed.
func (tt *taskTable) insertHashed(t Task, h uint64) (*Task, bool) {
	if 4*(tt.n+1) > 3*len(tt.index) {
		tt.grow()
	}
	pos, ok := tt.find(t.ID, h)
	if ok {
		return tt.at(uint32(tt.index[pos]&slotMask) - 1), false
	}
	var slot uint32
	if k := len(tt.free); k > 0 {
		slot = tt.free[k-1]
		tt.free = tt.free[:k-1]
	} else {
		slot = tt.next
		tt.next++
		if p, _ := pageOf(slot); int(p) == len(tt.pages) {
			tt.pages = append(tt.pages, make([]Task, pageLen(len(tt.pages))))
		}
	}
	p := tt.at(slot)
	*p = t
	tt.index[pos] = h&^slotMask | uint64(slot+1)
	tt.n++
	return p, true
}

// touch loads the index entries where the ids hashed to hs start their probes, and returns
// them folded into one value so the loads are kept: issued back to back, their cache and
// TLB misses overlap, and the inserts that follow find the lines in cache.
func (tt *taskTable) touch(hs []uint64) uint64 {
	var sink uint64
	for _, h := range hs {
		sink ^= tt.index[h>>tt.shift]
	}
	return sink
}

// remove deletes the task with id and returns it as it was.
func (tt *taskTable) remove(id DispatcherID) (Task, bool) {
	if tt.n == 0 {
		return Task{}, false
	}
	pos, ok := tt.find(id, tt.hash(id))
	if !ok {
		return Task{}, false
	}
	slot := uint32(tt.index[pos]&slotMask) - 1
	p := tt.at(slot)
	old := *p
	*p = Task{}      // an empty id marks the slot free, and the strings are released
	tt.clearOp(slot) // a task added to the slot has no operator yet
	tt.free = append(tt.free, slot)
	tt.n--
	// Backward shift: move later entries of the probe run into the hole when their home
	// position allows, so lookups never need tombstones.
	mask := len(tt.index) - 1
	hole := pos
	for i := (pos + 1) & mask; tt.index[i] != 0; i = (i + 1) & mask {
		e := tt.index[i]
		if home := int(e >> tt.shift); (i-home)&mask >= (i-hole)&mask {
			tt.index[hole] = e
			hole = i
		}
	}
	tt.index[hole] = 0
	return old, true
}

// grow doubles the index and re-enters every task.
func (tt *taskTable) grow() {
	old := tt.index
	tt.setIndex(2 * len(old))
	mask := len(tt.index) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		pos := int(e >> tt.shift)
		for tt.index[pos] != 0 {
			pos = (pos + 1) & mask
		}
		tt.index[pos] = e
	}
}

// clone returns an independent copy: the same slots, index and hash seed, so a clone
// iterates and probes exactly as the original does.
func (tt *taskTable) clone() taskTable {
	d := *tt
	d.index = slices.Clone(tt.index)
	d.free = slices.Clone(tt.free)
	d.hasOp = slices.Clone(tt.hasOp)
	d.pages = make([][]Task, len(tt.pages), cap(tt.pages))
	for i, p := range tt.pages {
		d.pages[i] = slices.Clone(p) // slots past next are empty: copying them is cheap
	}
	return d
}

// each calls fn for every task, in slot order. fn may change the task.
func (tt *taskTable) each(fn func(*Task)) {
	for slot := uint32(0); slot < tt.next; slot++ {
		if t := tt.at(slot); t.ID != "" {
			fn(t)
		}
	}
}
