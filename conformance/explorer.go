package conformance

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opfsm/opfsm/sim"
)

// The explorer is a breadth-first search, level by level, that expands each level on all
// workers and numbers the new states on one:
//
//  1. expand (parallel): every state of the level applies each enabled action to a clone
//     of itself (the last action to the state itself) and hashes the successor's
//     fingerprint. A successor whose hash is already in the visited set (read only in this
//     phase) is an edge to an old state and is dropped at once, the worker's next clone
//     written into it (sim.Cluster.CloneInto): most successors are such. The others meet
//     in the level's candidate set, which keeps for each hash the successor first in the
//     order of parents and actions and drops the rest, so a state reached many times in
//     one level is held once.
//  2. number (one goroutine): the candidates, in the order of their parents and actions,
//     are added to the visited set as states of the next level with parent pointers. This
//     order does not depend on the worker count, so neither do the state numbers, the
//     counts or the counterexample.
//  3. check (parallel): every new state is checked against the invariants and, when the
//     abstract states are counted, abstracted and hashed. The first violation in state
//     order ends the search: its parent pointers give a shortest trace.
//
// Per visited state the explorer keeps the set's fingerprint and slot and a parent pointer
// (4 bytes of parent, 2 of action index): at most 25 bytes, measured by
// BenchmarkExplorerMemory. Clusters are held only for the level being expanded and the
// next one.

// expandChunk is how many states a worker takes from the level at a time.
const expandChunk = 32

// candidate is a successor that was not in the visited set when its level was expanded.
type candidate struct {
	c   *sim.Cluster
	fp  uint64
	pos uint64 // parent's index in the level << 16 | the action's index in its Enabled()
	act sim.Action
}

// candidates is a level's candidate set: for each fingerprint hash, the candidate with the
// smallest pos. It is safe for concurrent use (sharded by hash). Each shard keeps its
// candidates in a list and maps a hash to its place there, so the map's entries stay
// small and sorted reads lists, not maps.
type candidates struct {
	shards [64]struct {
		sync.Mutex
		at   map[uint64]int32 // hash -> index in list
		list []candidate
	}
}

func newCandidates() *candidates {
	cs := &candidates{}
	for i := range cs.shards {
		cs.shards[i].at = map[uint64]int32{}
	}
	return cs
}

// offer keeps cd unless a candidate of the same hash comes first.
func (cs *candidates) offer(cd candidate) {
	sh := &cs.shards[cd.fp>>58]
	sh.Lock()
	if i, ok := sh.at[cd.fp]; !ok {
		sh.at[cd.fp] = int32(len(sh.list))
		sh.list = append(sh.list, cd)
	} else if cd.pos < sh.list[i].pos {
		sh.list[i] = cd
	}
	sh.Unlock()
}

// sorted returns the candidates in pos order.
func (cs *candidates) sorted() []candidate {
	n := 0
	for i := range cs.shards {
		n += len(cs.shards[i].list)
	}
	out := make([]candidate, 0, n)
	for i := range cs.shards {
		out = append(out, cs.shards[i].list...)
		cs.shards[i].at, cs.shards[i].list = nil, nil
	}
	slices.SortFunc(out, func(a, b candidate) int { return cmp.Compare(a.pos, b.pos) })
	return out
}

// frontierState is a state of the level being expanded.
type frontierState struct {
	c   *sim.Cluster
	abs *Abstraction // with AbstractCount only
	id  uint32
}

// explorer is one run of Explore.
type explorer struct {
	cfg     sim.Config
	opt     ExploreOptions
	workers int
	seed    maphash.Seed
	set     *fpSet
	parent  []uint32 // by state number; the initial state's is itself
	action  []uint16 // index of the action in the parent's Enabled()
	edges   atomic.Int64
	absSet  *fpSet         // abstract states' hashes, with AbstractCount
	ends    [][]int        // per worker: appendState's variable ends
	ctrl    []ctrlRecords  // per worker: the controller of the state it abstracts
	acts    [][]sim.Action // per worker: the enabled actions of the state it expands
	spare   []*sim.Cluster // per worker: a dropped successor the next clone is written into
}

// Explore enumerates every state of the simulated cluster of cfg reachable through
// Enabled/Apply (the faults and scheduler operations bounded by cfg.Limits), checking the
// invariants (sim.Cluster.Check) in each, breadth first on opt.Workers goroutines so that
// a violation comes with a shortest trace. Its states, edges, depth and counterexample are
// the same whatever the worker count. It stops at the first violation, at opt.MaxStates or
// when ctx ends (returning ctx's cause).
func Explore(ctx context.Context, cfg sim.Config, opt ExploreOptions) (*Exploration, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	x := &explorer{cfg: cfg, opt: opt, workers: workers, seed: maphash.MakeSeed(), set: newFPSet(1 << 16),
		acts: make([][]sim.Action, workers), spare: make([]*sim.Cluster, workers)}
	if opt.AbstractCount {
		x.absSet = newFPSet(1 << 16)
		x.ends, x.ctrl = make([][]int, workers), make([]ctrlRecords, workers)
		for w := range x.ends {
			x.ends[w] = make([]int, len(SpecVars))
		}
	}
	start := time.Now()
	ex, err := x.run(ctx)
	if ex != nil {
		ex.Elapsed, ex.Workers = time.Since(start), workers
		ex.VisitedBytes = x.set.bytes() + int64(cap(x.parent))*4 + int64(cap(x.action))*2
		ex.Edges = int(x.edges.Load())
		ex.States = x.set.Len()
		if x.absSet != nil {
			ex.Abstract = x.absSet.Len()
		}
	}
	return ex, err
}

func (x *explorer) run(ctx context.Context) (*Exploration, error) {
	ex := &Exploration{}
	c0, err := sim.NewCluster(x.cfg)
	if err != nil {
		return nil, err
	}
	first := frontierState{c: c0}
	if x.opt.AbstractCount {
		if first.abs, err = NewAbstraction(x.cfg); err != nil {
			return nil, err
		}
	}
	x.set.add(x.hash(c0, nil))
	x.parent, x.action = append(x.parent, 0), append(x.action, 0)
	level := []frontierState{first}
	if v, err := x.check(level, []sim.Action{{}}); err != nil || v >= 0 {
		return x.violation(ex, level, v, err)
	}
	for depth := 0; len(level) > 0; depth++ {
		ex.Frontier = max(ex.Frontier, len(level))
		cands, err := x.expand(ctx, level)
		if err != nil {
			return ex, err
		}
		ex.PeakMemory = max(ex.PeakMemory, goMemory()) // the level's successors are all held
		next, acts, truncated := x.number(level, cands)
		ex.Truncated = truncated
		if len(next) > 0 {
			ex.Depth = depth + 1
		}
		v, err := x.check(next, acts)
		if err != nil || v >= 0 {
			return x.violation(ex, next, v, err)
		}
		if truncated {
			break
		}
		level = next
	}
	return ex, nil
}

// parallel runs f(i) for every i < n on the explorer's workers, a chunk at a time, and
// returns the first error (stopping the others at their next chunk).
func (x *explorer) parallel(ctx context.Context, n int, f func(w, i int, buf *[]byte) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range min(x.workers, (n+expandChunk-1)/expandChunk) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 2048)
			for !stop.Load() {
				lo := int(next.Add(expandChunk)) - expandChunk
				if lo >= n {
					return
				}
				var err error
				switch {
				case ctx.Err() != nil:
					err = fmt.Errorf("conformance: explore: %w", context.Cause(ctx))
				case x.opt.MaxMemory > 0 && goMemory() > x.opt.MaxMemory:
					err = fmt.Errorf("conformance: explore: %w: %.2f GB held after %d states", ErrMemoryLimit, float64(goMemory())/1e9, x.set.Len())
				}
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					stop.Store(true)
					return
				}
				for i := lo; i < min(lo+expandChunk, n); i++ {
					if err := f(w, i, &buf); err != nil {
						mu.Lock()
						first = cmpErr(first, err)
						mu.Unlock()
						stop.Store(true)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// cmpErr keeps the first error recorded.
func cmpErr(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

// expand is phase 1: the level's candidates, in pos order.
func (x *explorer) expand(ctx context.Context, level []frontierState) ([]candidate, error) {
	cs := newCandidates()
	err := x.parallel(ctx, len(level), func(w, i int, buf *[]byte) error {
		here := level[i].c
		acts := here.AppendEnabled(x.acts[w][:0])
		x.acts[w] = acts
		if len(acts) > math.MaxUint16 {
			return fmt.Errorf("conformance: explore: %d actions enabled in one state, at most %d", len(acts), math.MaxUint16)
		}
		var edges int64
		for k, a := range acts {
			succ := here
			if k < len(acts)-1 { // the last successor takes the state itself
				succ = here.CloneInto(x.spare[w])
				x.spare[w] = nil
			}
			if err := succ.Apply(a); err != nil {
				return fmt.Errorf("conformance: explore: enabled %s failed after %v: %w", a, x.path(level[i].id), err)
			}
			fp := x.hash(succ, buf)
			_, old := x.set.find(fp)
			if old || !withinStreams(succ, x.opt.MaxStream) {
				if old {
					edges++
				} // else: a state outside the bound is never recorded, so never old
				if succ != here {
					x.spare[w] = succ // dropped: the next clone reuses it
				}
				continue
			}
			edges++
			cs.offer(candidate{c: succ, fp: fp, pos: uint64(i)<<16 | uint64(k), act: a})
		}
		level[i].c = nil // let the collector have it once its successors are out
		x.edges.Add(edges)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cs.sorted(), nil
}

// number is phase 2: it adds the candidates to the visited set in order and returns the
// next level with the action that reached each state. truncated: MaxStates was reached.
func (x *explorer) number(level []frontierState, cands []candidate) (next []frontierState, acts []sim.Action, truncated bool) {
	next, acts = make([]frontierState, 0, len(cands)), make([]sim.Action, 0, len(cands))
	for _, cd := range cands {
		if x.opt.MaxStates > 0 && x.set.Len() >= x.opt.MaxStates {
			return next, acts, true
		}
		id, _ := x.set.add(cd.fp) // new: not in the set before the level, and one per hash
		parent := level[cd.pos>>16]
		x.parent, x.action = append(x.parent, parent.id), append(x.action, uint16(cd.pos))
		next = append(next, frontierState{c: cd.c, abs: parent.abs, id: uint32(id)})
		acts = append(acts, cd.act)
	}
	return next, acts, false
}

// check is phase 3: the invariants on every state of level and, with AbstractCount, their
// abstract states (each abs is cloned from the parent's and observes the state reached by
// acts[i]). It returns the index of the first violating state, or -1.
func (x *explorer) check(level []frontierState, acts []sim.Action) (int, error) {
	bad := make([]bool, len(level))
	abs := make([]uint64, len(level))
	err := x.parallel(context.Background(), len(level), func(w, i int, buf *[]byte) error {
		s := &level[i]
		if err := s.c.Check(); err != nil {
			bad[i] = true
		}
		if s.abs == nil {
			return nil
		}
		if s.id > 0 {
			s.abs = s.abs.Clone()
		}
		h, err := x.abstractHash(w, buf, s.abs, s.c, acts[i])
		if err != nil {
			return fmt.Errorf("conformance: explore: after %v: %w", x.path(s.id), err)
		}
		abs[i] = h
		return nil
	})
	if err != nil {
		return -1, err
	}
	for i := range level {
		if bad[i] {
			return i, nil
		}
		if x.absSet != nil {
			x.absSet.add(abs[i])
		}
	}
	return -1, nil
}

// violation ends the search at state index v of level (or with err).
func (x *explorer) violation(ex *Exploration, level []frontierState, v int, err error) (*Exploration, error) {
	if err != nil {
		return ex, err
	}
	trace := x.path(level[v].id)
	ex.Violation = &Counterexample{Trace: trace, Err: level[v].c.Check()}
	return ex, nil
}

// hash is the 64-bit hash of c's fingerprint (buf: a scratch buffer, or nil).
func (x *explorer) hash(c *sim.Cluster, buf *[]byte) uint64 {
	var b []byte
	if buf != nil {
		b = (*buf)[:0]
	}
	b = c.AppendFingerprint(b)
	if buf != nil {
		*buf = b
	}
	return maphash.Bytes(x.seed, b)
}

// path replays the parent pointers of state id from the initial state: the actions of a
// shortest trace to it.
func (x *explorer) path(id uint32) []sim.Action {
	var pos []uint16
	for j := id; j != 0; j = x.parent[j] {
		pos = append(pos, x.action[j])
	}
	slices.Reverse(pos)
	return replay(x.cfg, pos)
}

// abstractHash observes c (reached by act) and returns the 64-bit hash of its abstract
// state's text, which is canonical (Abstraction.appendState), written into worker w's
// buffer buf.
func (x *explorer) abstractHash(w int, buf *[]byte, abs *Abstraction, c *sim.Cluster, act sim.Action) (uint64, error) {
	cr := readController(c, &x.ctrl[w]) // once for both
	if err := abs.observe(c, cr); err != nil {
		return 0, err
	}
	b, err := abs.appendState((*buf)[:0], c, cr, x.ends[w])
	if err != nil {
		return 0, err
	}
	*buf = b
	return maphash.Bytes(x.seed, b), nil
}

// goMemory is the memory the Go runtime holds from the system.
func goMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	if metrics.Read(s); s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}
