package conformance

import (
	"errors"
	"time"

	"github.com/opfsm/opfsm/sim"
)

// Exploration is the outcome of an exhaustive breadth-first search of the simulator.
type Exploration struct {
	// States and Edges are the distinct states (by sim.Cluster.Fingerprint) and the
	// transitions found; Depth is the length of the longest shortest path.
	States, Edges, Depth int
	// Abstract is the number of distinct abstract states (docs/abstract-state.md) among
	// them, set by the spec-world searches (SimGraph, CheckSim): the number TLC counts.
	Abstract int
	Elapsed  time.Duration
	// Frontier is the most states the search held at once (each a whole cluster): its
	// memory is about this times a cluster's size.
	Frontier int
	// Workers is how many goroutines expanded states (Explore).
	Workers int
	// VisitedBytes is the memory of Explore's visited set and parent pointers: what each
	// visited state costs once its level is expanded.
	VisitedBytes int64
	// PeakMemory is the most memory the Go runtime held from the system at the end of any
	// level of Explore (runtime/metrics /memory/classes/total:bytes, near the process's
	// resident size): visited set, two levels of states and garbage not yet collected.
	PeakMemory uint64
	// Truncated: the search stopped at its state limit before the space was exhausted.
	Truncated bool
	// Violation is the first invariant violation found, with a shortest trace to it.
	Violation *Counterexample
}

// StatesPerSecond is the search's rate.
func (e *Exploration) StatesPerSecond() float64 {
	if e.Elapsed <= 0 {
		return 0
	}
	return float64(e.States) / e.Elapsed.Seconds()
}

// ErrMemoryLimit: the explorer reached ExploreOptions.MaxMemory before the end of the
// world.
var ErrMemoryLimit = errors.New("memory limit reached")

// Counterexample is a shortest action sequence from the initial state to a state that
// violates an invariant.
type Counterexample struct {
	Trace []sim.Action
	Err   error
}

// node is one explored state: how it was first reached, as its parent and the position
// of the action in the parent's Enabled() (the action itself is replayed when a trace is
// printed, so a state costs twelve bytes here, not a whole sim.Action).
type node struct {
	parent int32
	depth  int32
	pos    uint16
}

// ExploreOptions bound a search.
type ExploreOptions struct {
	// MaxStates stops the search after this many states (0: no limit; Truncated is set).
	MaxStates int
	// MaxStream is the spec's StreamBound constraint (MaxReq): a successor with a request
	// stream or a status stream longer than this is discarded, as TLC discards a state
	// outside a CONSTRAINT (it is neither counted nor checked). 0: no bound.
	MaxStream int
	// Workers is how many goroutines Explore expands and checks states on (0: GOMAXPROCS).
	Workers int
	// MaxMemory stops Explore with an error wrapping ErrMemoryLimit once the Go runtime
	// holds more than this many bytes (0: no limit): a world whose levels do not fit ends
	// with a message instead of the machine's OOM killer.
	MaxMemory uint64
	// AbstractCount makes Explore count the distinct abstract states too (TLC's count;
	// docs/abstract-state.md); the configuration must then be a spec world.
	AbstractCount bool
}

// pathTo is the action sequence that first reached state i, replayed from cfg's initial
// state.
func pathTo(cfg sim.Config, nodes []node, i int) []sim.Action {
	pos := make([]uint16, nodes[i].depth)
	for j := i; nodes[j].parent >= 0; j = int(nodes[j].parent) {
		pos[nodes[j].depth-1] = nodes[j].pos
	}
	return replay(cfg, pos)
}

// replay applies, from cfg's initial state, the actions at positions pos of each state's
// Enabled() and returns them: a trace kept as positions, turned back into actions. A
// replay that goes wrong (it cannot, for a deterministic cluster) returns the actions it
// could apply.
func replay(cfg sim.Config, pos []uint16) []sim.Action {
	c, err := sim.NewCluster(cfg)
	if err != nil {
		return nil
	}
	out := make([]sim.Action, 0, len(pos))
	for _, p := range pos {
		acts := c.Enabled()
		if int(p) >= len(acts) {
			return out
		}
		out = append(out, acts[p])
		if err := c.Apply(acts[p]); err != nil {
			return out
		}
	}
	return out
}

// withinStreams is the spec's StreamBound: no stream longer than bound (0: no bound).
func withinStreams(c *sim.Cluster, bound int) bool {
	return bound <= 0 || c.Network().Longest() <= bound
}
