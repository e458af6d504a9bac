package conformance

// fpSet is the explorer's visited set: the 64-bit fingerprint hashes of the states found,
// numbered in the order they were added. TLC keeps 64-bit fingerprints too: among n states
// two share one with probability about n^2/2^65 (3*10^-8 at a million states, 3*10^-2 at
// a billion), and a shared one would hide the second state's successors.
//
// Its memory is what makes a large search fit: a state costs 8 bytes of fingerprint (in
// fps, by number) and one 4-byte slot of an open-addressing table kept at most three
// quarters full, so 13.3 to 18.7 bytes; no per-state strings, no Go map. Adding is not
// safe for concurrent use; finding is, while nothing is added.
type fpSet struct {
	fps   []uint64 // by state number
	slots []uint32 // 1 + the number of the state whose fingerprint probes here; 0: empty
	mask  uint64
}

// newFPSet returns an empty set with room for about n states before it grows.
func newFPSet(n int) *fpSet {
	size := 1024
	for size*3 < n*4 {
		size *= 2
	}
	return &fpSet{slots: make([]uint32, size), mask: uint64(size - 1), fps: make([]uint64, 0, n)}
}

// Len is the number of states in the set.
func (s *fpSet) Len() int { return len(s.fps) }

// find returns the number of the state with fingerprint fp.
func (s *fpSet) find(fp uint64) (int, bool) {
	for i := fp & s.mask; ; i = (i + 1) & s.mask {
		v := s.slots[i]
		if v == 0 {
			return 0, false
		}
		if s.fps[v-1] == fp {
			return int(v - 1), true
		}
	}
}

// add adds fp unless it is there and returns its state's number and whether it was new.
func (s *fpSet) add(fp uint64) (int, bool) {
	i := fp & s.mask
	for ; ; i = (i + 1) & s.mask {
		v := s.slots[i]
		if v == 0 {
			break
		}
		if s.fps[v-1] == fp {
			return int(v - 1), false
		}
	}
	n := len(s.fps)
	s.fps = append(s.fps, fp)
	s.slots[i] = uint32(n + 1)
	if 4*len(s.fps) > 3*len(s.slots) {
		s.grow()
	}
	return n, true
}

// grow doubles the table and places every state again.
func (s *fpSet) grow() {
	s.slots = make([]uint32, 2*len(s.slots))
	s.mask = uint64(len(s.slots) - 1)
	for n, fp := range s.fps {
		i := fp & s.mask
		for s.slots[i] != 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = uint32(n + 1)
	}
}

// bytes is the memory the set holds.
func (s *fpSet) bytes() int64 { return int64(cap(s.fps))*8 + int64(len(s.slots))*4 }
