package conformance

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/sim"
)

// ErrNotAbstract: a simulator state that the spec's abstract state cannot express (a span
// outside the spec's one table, two dispatchers of one span on one node, a status of an
// unknown dispatcher, a node name that is not 1..N).
var ErrNotAbstract = errors.New("state outside the spec's world")

// SpecVars are spec/failover's variables in Schema.tla's order.
var SpecVars = []string{"alive", "disp", "rem", "opJ", "mergeJ", "owner", "req", "stq",
	"epoch", "phase", "resp", "sched", "node", "ops", "dropEpoch", "budget", "faults"}

// specIDs are the spec's dispatcher ids in IdRank order.
var specIDs = []string{"m", "a", "b"}

// Abstraction maps simulator states onto spec/failover's abstract state
// (docs/abstract-state.md). The cluster must be a spec world (SpecWorld): nodes "1".."N",
// one table whose spans are its whole range ("m") or the two halves around one key ("a",
// "b"). Go dispatcher ids are mapped to spec ids by their span; statuses, which carry only
// an id, by the span the id was last seen with, so an Abstraction must Observe every
// state of a run in order.
type Abstraction struct {
	maxEpoch int
	table    ops.TableID
	// spans maps every dispatcher id seen to its spec id. Clone shares it: a copy that
	// learns an id it does not know yet copies it first (owned: the map is this
	// Abstraction's alone), so the many states that teach nothing new cost no copy.
	spans map[ops.DispatcherID]string
	owned atomic.Bool
}

// SpecWorld is the simulator configured as spec/failover's world: nodes "1".."n", table 1
// as two halves "a" and "b" on node 1 (layout "halves") or whole as "m" ("whole").
func SpecWorld(n int, layout string, limits sim.Limits, bugs sim.Bugs) sim.Config {
	cfg := sim.Config{Changefeed: "cf", Tables: []ops.TableID{1}, Limits: limits, Bugs: bugs, SplitKeys: []string{"1"}}
	for i := 1; i <= n; i++ {
		cfg.Nodes = append(cfg.Nodes, ops.NodeID(strconv.Itoa(i)))
	}
	if layout == "whole" {
		cfg.Tasks = []ops.Task{{ID: "m", Span: ops.Span{Table: 1}, Node: "1"}}
	} else {
		cfg.Tasks = []ops.Task{
			{ID: "a", Span: ops.Span{Table: 1, End: "1"}, Node: "1"},
			{ID: "b", Span: ops.Span{Table: 1, Start: "1"}, Node: "1"},
		}
	}
	return cfg
}

// NewAbstraction returns the abstraction for runs of cfg, which must be a spec world.
func NewAbstraction(cfg sim.Config) (*Abstraction, error) {
	if len(cfg.Tables) != 1 {
		return nil, fmt.Errorf("conformance: %w: want one table, have %v", ErrNotAbstract, cfg.Tables)
	}
	for i, n := range cfg.Nodes {
		if string(n) != strconv.Itoa(i+1) {
			return nil, fmt.Errorf("conformance: %w: nodes must be named 1..N, have %v", ErrNotAbstract, cfg.Nodes)
		}
	}
	a := &Abstraction{maxEpoch: int(cfg.Limits.MaxEpoch), table: cfg.Tables[0],
		spans: map[ops.DispatcherID]string{}}
	a.owned.Store(true)
	return a, nil
}

// Clone returns an independent copy: an exhaustive search clones the abstraction with the
// state it observes. Clones of one Abstraction may be taken from several goroutines at
// once, as long as none of them uses a itself meanwhile.
func (a *Abstraction) Clone() *Abstraction {
	a.owned.Store(false) // the map is shared from now on
	return &Abstraction{maxEpoch: a.maxEpoch, table: a.table, spans: a.spans}
}

// specIndex is the position in specIDs of span sp's spec id.
func (a *Abstraction) specIndex(sp ops.Span) (int, error) {
	switch {
	case sp.Table != a.table:
	case sp.Start == "" && sp.End == "":
		return 0, nil
	case sp.Start == "" && sp.End != "":
		return 1, nil
	case sp.Start != "" && sp.End == "":
		return 2, nil
	}
	return 0, fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
}

func (a *Abstraction) learn(id ops.DispatcherID, sp ops.Span) error {
	k, err := a.specIndex(sp)
	if err != nil {
		return err
	}
	if d, ok := a.spans[id]; ok && d == specIDs[k] {
		return nil
	}
	if !a.owned.Load() {
		a.spans = maps.Clone(a.spans)
		a.owned.Store(true)
	}
	a.spans[id] = specIDs[k]
	return nil
}

func (a *Abstraction) idOf(id ops.DispatcherID) (string, error) {
	d, ok := a.spans[id]
	if !ok {
		return "", fmt.Errorf("conformance: %w: dispatcher id %s was never seen with a span", ErrNotAbstract, id)
	}
	return d, nil
}

func nodeNum(n ops.NodeID) int {
	if n == "" {
		return 0
	}
	v, err := strconv.Atoi(string(n))
	if err != nil {
		return -1
	}
	return v
}

// Observe records what a state teaches about ids (every span it shows). Call it on the
// initial state, then after every step (act is the action that led to the state).
func (a *Abstraction) Observe(c *sim.Cluster, act sim.Action) error {
	return a.observe(c, readController(c, &ctrlRecords{}))
}

// observe is Observe with the controller's tasks and operators read already.
func (a *Abstraction) observe(c *sim.Cluster, cr *ctrlRecords) error {
	var err error
	var nodeBuf [4]ops.NodeID
	for _, n := range c.AppendNodes(nodeBuf[:0]) {
		m := c.Node(n)
		m.EachDispatcher(func(d protocol.Dispatcher) { err = cmpErr(err, a.learn(d.ID, d.Span)) })
		m.EachRemove(func(r ops.Record) { err = cmpErr(err, a.learn(r.ID, r.Span)) })
		m.EachMerge(func(r ops.Record) { err = cmpErr(err, a.learn(r.ID, r.Span)) })
	}
	c.Network().EachRequest(func(_ sim.Stream, r protocol.Request) {
		if r.Kind != protocol.Bootstrap {
			err = cmpErr(err, a.learn(r.Record.ID, r.Record.Span))
		}
	})
	if cr != nil {
		for _, t := range cr.tasks {
			err = cmpErr(err, a.learn(t.ID, t.Span))
		}
		for _, r := range cr.ops {
			err = cmpErr(err, a.learn(r.ID, r.Span))
		}
	}
	return err
}

// SpecState is an abstract state: each spec variable's value in TLA+ syntax, canonical (equal
// states print equally).
type SpecState map[string]string

// String prints the state as TLC prints one: /\ var = value, in SpecVars order.
func (s SpecState) String() string {
	var b strings.Builder
	for _, v := range SpecVars {
		fmt.Fprintf(&b, "/\\ %s = %s\n", v, s[v])
	}
	return b.String()
}

// Record prints the state as a TLA+ record [alive |-> ..., ...].
func (s SpecState) Record() string {
	parts := make([]string, len(SpecVars))
	for i, v := range SpecVars {
		parts[i] = v + " |-> " + s[v]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Diff lists the variables whose values differ, as "var: want X, got Y".
func (s SpecState) Diff(other SpecState) []string {
	var out []string
	for _, v := range SpecVars {
		if s[v] != other[v] {
			out = append(out, fmt.Sprintf("%s: %s  vs  %s", v, s[v], other[v]))
		}
	}
	return out
}

// State computes the abstract state of c (after Observe of the same state).
func (a *Abstraction) State(c *sim.Cluster) (SpecState, error) {
	ends := make([]int, len(SpecVars))
	b, err := a.appendState(nil, c, readController(c, &ctrlRecords{}), ends)
	if err != nil {
		return nil, err
	}
	st := make(SpecState, len(SpecVars))
	from := 0
	for i, v := range SpecVars {
		st[v] = string(b[from:ends[i]])
		from = ends[i] + 1 // past the separator
	}
	return st, nil
}
