package conformance

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

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
	n, maxEpoch int
	table       ops.TableID
	spans       map[ops.DispatcherID]string
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
	return &Abstraction{n: len(cfg.Nodes), maxEpoch: int(cfg.Limits.MaxEpoch), table: cfg.Tables[0],
		spans: map[ops.DispatcherID]string{}}, nil
}

// Clone returns an independent copy: an exhaustive search clones the abstraction with the
// state it observes.
func (a *Abstraction) Clone() *Abstraction {
	d := *a
	d.spans = maps.Clone(a.spans)
	return &d
}

func (a *Abstraction) specID(sp ops.Span) (string, error) {
	switch {
	case sp.Table != a.table:
	case sp.Start == "" && sp.End == "":
		return "m", nil
	case sp.Start == "" && sp.End != "":
		return "a", nil
	case sp.Start != "" && sp.End == "":
		return "b", nil
	}
	return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
}

func (a *Abstraction) learn(id ops.DispatcherID, sp ops.Span) error {
	d, err := a.specID(sp)
	if err != nil {
		return err
	}
	a.spans[id] = d
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
	for _, n := range c.Nodes() {
		m := c.Node(n)
		for _, d := range m.Dispatchers() {
			if err := a.learn(d.ID, d.Span); err != nil {
				return err
			}
		}
		for _, r := range append(m.RemoveJournal(), m.MergeJournal()...) {
			if err := a.learn(r.ID, r.Span); err != nil {
				return err
			}
		}
		for _, s := range c.Network().Streams() {
			if s.Node != n {
				continue
			}
			for _, r := range c.Network().Requests(s) {
				if r.Kind != protocol.Bootstrap {
					if err := a.learn(r.Record.ID, r.Record.Span); err != nil {
						return err
					}
				}
			}
		}
	}
	if ctrl := c.Controller(); ctrl != nil {
		for _, t := range ctrl.Tasks() {
			if err := a.learn(t.ID, t.Span); err != nil {
				return err
			}
		}
		for _, r := range ctrl.Operators() {
			if err := a.learn(r.ID, r.Span); err != nil {
				return err
			}
		}
	}
	return nil
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
	st := SpecState{}
	var alive []string
	disp, rem, opJ := make([]string, a.n), make([]string, a.n), make([]string, a.n)
	mergeJ, owner, req, stq, resp := make([]string, a.n), make([]string, a.n), make([]string, a.n), make([]string, a.n), make([]string, a.n)
	for i, n := range c.Nodes() {
		m := c.Node(n)
		states := map[string]string{}
		removing := map[string]bool{}
		journal := map[string]string{}
		mj := "0"
		stqs := []string{}
		if c.Alive(n) {
			alive = append(alive, strconv.Itoa(i+1))
			for _, d := range m.Dispatchers() {
				id, _ := a.specID(d.Span)
				if _, dup := states[id]; dup {
					return nil, fmt.Errorf("conformance: %w: two dispatchers of span %s on node %s", ErrNotAbstract, d.Span, n)
				}
				states[id], removing[id] = d.State.String(), d.Removing
			}
			for _, r := range m.RemoveJournal() {
				id, _ := a.specID(r.Span)
				journal[id] = jrec(r)
			}
			for _, r := range m.MergeJournal() {
				mj = strconv.FormatUint(uint64(r.Epoch), 10)
			}
			for _, rep := range c.Network().Statuses(n) {
				id, err := a.idOf(rep.Status.ID)
				if err != nil {
					return nil, err
				}
				stqs = append(stqs, statusText(id, rep.Status.State.String(), uint64(rep.Epoch)))
			}
		}
		disp[i], rem[i], opJ[i] = dmRows(states, removing, journal)
		mergeJ[i] = mj
		owner[i] = strconv.FormatUint(uint64(m.Owner()), 10)
		streams := make([]string, a.maxEpoch)
		for e := 1; e <= a.maxEpoch; e++ {
			var msgs []string
			if c.Alive(n) {
				for _, r := range c.Network().Requests(sim.Stream{Node: n, Epoch: ops.Epoch(e)}) {
					msg, err := a.request(r)
					if err != nil {
						return nil, err
					}
					msgs = append(msgs, msg)
				}
			}
			streams[e-1] = tuple(msgs)
		}
		req[i] = tuple(streams)
		stq[i] = tuple(stqs)
		r, err := a.response(c, n)
		if err != nil {
			return nil, err
		}
		resp[i] = r
	}
	st["alive"] = "{" + strings.Join(alive, ", ") + "}"
	st["disp"], st["rem"], st["opJ"] = tuple(disp), tuple(rem), tuple(opJ)
	st["mergeJ"], st["owner"], st["req"], st["stq"] = tuple(mergeJ), tuple(owner), tuple(req), tuple(stq)
	st["epoch"] = strconv.FormatUint(uint64(c.Epoch()), 10)
	st["phase"] = `"run"`
	if c.Booting() {
		st["phase"] = `"boot"`
	}
	st["resp"] = tuple(resp)
	sched, node, opsV := map[string]string{}, map[string]string{}, map[string]string{}
	if ctrl := c.Controller(); ctrl != nil {
		var err error
		if sched, node, opsV, err = controllerView(ctrl, a.specID); err != nil {
			return nil, err
		}
	}
	st["sched"] = idFunc(func(d string) string { return orText(sched[d], `"none"`) })
	st["node"] = idFunc(func(d string) string { return orText(node[d], "0") })
	st["ops"] = idFunc(func(d string) string { return orText(opsV[d], noOp) })
	st["dropEpoch"] = strconv.FormatUint(uint64(c.DropEpoch(a.table)), 10)
	st["budget"] = strconv.Itoa(c.Budget())
	loss, dup, crash, fail := c.Faults()
	st["faults"] = fmt.Sprintf("[loss |-> %d, dup |-> %d, crash |-> %d, fail |-> %d]", loss, dup, crash, fail)
	return st, nil
}

// controllerView prints a maintainer controller's tasks and operators as the spec's
// sched, node and ops entries, by spec id (specID maps a span to it); an id missing from
// a map has no task or operator.
func controllerView(ctrl *ops.Controller, specID func(ops.Span) (string, error)) (sched, node, opsV map[string]string, err error) {
	sched, node, opsV = map[string]string{}, map[string]string{}, map[string]string{}
	for _, t := range ctrl.Tasks() {
		id, err := specID(t.Span)
		if err != nil {
			return nil, nil, nil, err
		}
		if _, dup := sched[id]; dup {
			return nil, nil, nil, fmt.Errorf("conformance: %w: two tasks of span %s", ErrNotAbstract, t.Span)
		}
		sched[id], node[id] = strconv.Quote(t.Sched.String()), strconv.Itoa(nodeNum(t.Node))
	}
	for _, r := range ctrl.Operators() {
		id, err := specID(r.Span)
		if err != nil {
			return nil, nil, nil, err
		}
		opsV[id] = opText(r.Type.String(), r.StateName(), nodeNum(r.Origin), nodeNum(r.Dest))
	}
	return sched, node, opsV, nil
}

func jrec(r ops.Record) string { return jrecText(r.Type.String(), uint64(r.Epoch), nodeNum(r.Dest)) }

var reqTypes = map[protocol.Kind]string{protocol.Create: "create", protocol.Remove: "remove", protocol.Merge: "merge", protocol.Bootstrap: "bootstrap"}

func (a *Abstraction) request(r protocol.Request) (string, error) {
	typ := reqTypes[r.Kind]
	switch r.Kind {
	case protocol.Bootstrap:
		return bootstrapReq, nil
	case protocol.Merge:
		return mergeReq, nil
	}
	id, err := a.specID(r.Record.Span)
	if err != nil {
		return "", err
	}
	dest := 0
	if r.Record.Type == ops.TypeMove {
		dest = nodeNum(r.Record.Dest)
	}
	return reqText(typ, id, r.Record.Type.String(), dest), nil
}

func (a *Abstraction) response(c *sim.Cluster, n ops.NodeID) (string, error) {
	r, ok := c.Response(n)
	if !ok {
		return noResp, nil
	}
	states, removing, journal := map[string]string{}, map[string]bool{}, map[string]string{}
	for _, d := range r.Dispatchers {
		id, err := a.specID(d.Span)
		if err != nil {
			return "", err
		}
		states[id], removing[id] = d.State.String(), d.Removing
	}
	for _, j := range r.Removes {
		id, err := a.specID(j.Span)
		if err != nil {
			return "", err
		}
		journal[id] = jrec(j)
	}
	mj := 0
	for _, m := range r.Merges {
		mj = int(m.Epoch)
	}
	disp, rem, opJ := dmRows(states, removing, journal)
	return fmt.Sprintf("[ok |-> TRUE, disp |-> %s, rem |-> %s, opJ |-> %s, mergeJ |-> %d]", disp, rem, opJ, mj), nil
}

// idFunc prints a function over the spec's ids as a record [m |-> .., a |-> .., b |-> ..].
func idFunc(val func(d string) string) string {
	parts := make([]string, len(specIDs))
	for i, d := range specIDs {
		parts[i] = d + " |-> " + val(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func tuple(elems []string) string {
	if len(elems) == 0 {
		return "<<>>"
	}
	return "<<" + strings.Join(elems, ", ") + ">>"
}

func quoteOr(s, def string) string {
	if s == "" {
		s = def
	}
	return strconv.Quote(s)
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func boolText(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}
