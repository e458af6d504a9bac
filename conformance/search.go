package conformance

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/opfsm/opfsm/sim"
)

// visitFunc sees every step of a search over a spec world as the canonical abstract texts
// of its ends ("" from: the initial state), or the error computing the successor's
// abstract state; it returns whether to stop.
type visitFunc func(from, action, to string, err error) (stop bool, verr error)

// queued is a state waiting in the search's frontier: the cluster itself (cloned from its
// parent, never replayed), with its abstraction when the search is over a spec world.
type queued struct {
	c   *sim.Cluster
	abs *Abstraction
	key string // canonical abstract text
	idx int32  // in nodes
}

// fpKey is a 128-bit hash of a state's fingerprint: the seen set stores these, not the
// fingerprints (hundreds of bytes each). Two seeds make a collision among a million
// states a 1-in-10^26 event; TLC itself keeps 64-bit fingerprints.
type fpKey [2]uint64

// order is the order a search expands its states in.
type order bool

const (
	// breadthFirst finds shortest traces; it holds a whole level of clusters at once.
	breadthFirst order = false
	// depthFirst holds only the clusters along one path and their unexpanded siblings,
	// tens instead of a level's hundred thousand: for a search that needs every state
	// and edge but no shortest trace (a graph). Its Depth is the deepest path it took,
	// not the longest shortest path.
	depthFirst order = true
)

// search is the search behind SimGraph and CheckSim, which need every step's abstract
// states (Explore, which needs only counts and invariants, runs the parallel explorer of
// explorer.go). Each state's successors are clones of it with one enabled action
// applied, so a state costs one clone per edge and no replay. It checks the invariants
// (sim.Cluster.Check) in every new state and stops at the first violation, with a
// shortest trace when breadth first. With visit set, cfg must be a spec world: every
// state is abstracted (docs/abstract-state.md) and visit sees every step, which it may
// stop. It returns ctx's cause when ctx ends first.
func search(ctx context.Context, cfg sim.Config, opt ExploreOptions, how order, vt *valueTable, visit visitFunc) (*Exploration, error) {
	start := time.Now()
	ex := &Exploration{}
	if vt == nil {
		vt = newValueTable()
	}
	cz := newCanonicalizer(vt)
	finish := func(err error) (*Exploration, error) {
		ex.Elapsed = time.Since(start)
		return ex, err
	}
	// abstractOf observes the state c reached by act and returns its canonical text.
	abstractOf := func(abs *Abstraction, c *sim.Cluster, act sim.Action) (string, error) {
		if err := abs.Observe(c, act); err != nil {
			return "", err
		}
		s, err := abs.State(c)
		if err != nil {
			return "", err
		}
		return cz.state(s)
	}

	c0, err := sim.NewCluster(cfg)
	if err != nil {
		return nil, err
	}
	first := queued{c: c0}
	if visit != nil {
		if first.abs, err = NewAbstraction(cfg); err != nil {
			return nil, err
		}
		first.key, err = abstractOf(first.abs, c0, sim.Action{})
		if stop, verr := visit("", "", first.key, err); stop || verr != nil {
			return finish(verr)
		}
	}
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	hash := func(c *sim.Cluster) fpKey {
		fp := c.Fingerprint()
		return fpKey{maphash.String(seeds[0], fp), maphash.String(seeds[1], fp)}
	}
	seen := map[fpKey]int32{hash(c0): 0} // -> index in nodes
	nodes := []node{{parent: -1}}
	var keys []string // nodes' abstract states, when visit is set
	if visit != nil {
		keys = append(keys, first.key)
	}
	// queue[head:] waits: taken from the front breadth first, from the back depth first.
	queue := []queued{first}
	head := 0
	expanded := 0
	for head < len(queue) {
		if opt.MaxStates > 0 && len(nodes) >= opt.MaxStates {
			ex.Truncated = true
			break
		}
		if expanded++; expanded%1024 == 0 && ctx.Err() != nil {
			return finish(fmt.Errorf("conformance: search: %w", context.Cause(ctx)))
		}
		ex.Frontier = max(ex.Frontier, len(queue)-head)
		var here queued
		if how == depthFirst {
			here = queue[len(queue)-1]
			queue[len(queue)-1] = queued{}
			queue = queue[:len(queue)-1]
		} else {
			here = queue[head]
			queue[head] = queued{} // let the collector have it
			head++
		}
		acts := here.c.Enabled()
		for k, a := range acts {
			succ, abs := here.c, here.abs
			if k < len(acts)-1 { // the last successor takes the state itself
				succ = here.c.Clone()
				if abs != nil {
					abs = abs.Clone()
				}
			}
			if err := succ.Apply(a); err != nil {
				return finish(fmt.Errorf("conformance: search: enabled %s failed after %v: %w", a, pathTo(cfg, nodes, int(here.idx)), err))
			}
			// A state seen before has its abstract state on record: only a new one is
			// abstracted (the fingerprint is finer than the abstract state).
			h := hash(succ)
			idx, old := seen[h]
			var key string
			var aerr error
			switch {
			case old && visit != nil:
				key = keys[idx]
			case abs != nil:
				key, aerr = abstractOf(abs, succ, a)
			}
			if !old && aerr == nil && !withinStreams(succ, opt.MaxStream) {
				continue // a state outside the bound is never recorded, so never old
			}
			ex.Edges++
			if visit != nil {
				if stop, verr := visit(here.key, a.Name, key, aerr); stop || verr != nil {
					ex.States = len(nodes)
					return finish(verr)
				}
			}
			if old {
				continue
			}
			idx = int32(len(nodes))
			seen[h] = idx
			nodes = append(nodes, node{parent: here.idx, depth: nodes[here.idx].depth + 1, pos: uint16(k)})
			if visit != nil {
				keys = append(keys, key)
			}
			ex.Depth = max(ex.Depth, int(nodes[idx].depth))
			if err := succ.Check(); err != nil {
				ex.States = len(nodes)
				ex.Violation = &Counterexample{Trace: pathTo(cfg, nodes, int(idx)), Err: err}
				return finish(nil)
			}
			queue = append(queue, queued{c: succ, abs: abs, key: key, idx: idx})
		}
		if head > 4096 && head > len(queue)/2 { // drop the expanded prefix
			queue = slices.Clone(queue[head:])
			head = 0
		}
	}
	ex.States = len(nodes)
	return finish(nil)
}
