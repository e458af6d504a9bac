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
	n, maxEpoch int
	table       ops.TableID
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
	a := &Abstraction{n: len(cfg.Nodes), maxEpoch: int(cfg.Limits.MaxEpoch), table: cfg.Tables[0],
		spans: map[ops.DispatcherID]string{}}
	a.owned.Store(true)
	return a, nil
}

// Clone returns an independent copy: an exhaustive search clones the abstraction with the
// state it observes. Clones of one Abstraction may be taken from several goroutines at
// once, as long as none of them uses a itself meanwhile.
func (a *Abstraction) Clone() *Abstraction {
	a.owned.Store(false) // the map is shared from now on
	return &Abstraction{n: a.n, maxEpoch: a.maxEpoch, table: a.table, spans: a.spans}
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
	var err error
	for _, n := range c.Nodes() {
		m := c.Node(n)
		m.EachDispatcher(func(d protocol.Dispatcher) { err = cmpErr(err, a.learn(d.ID, d.Span)) })
		for _, r := range append(m.RemoveJournal(), m.MergeJournal()...) {
			err = cmpErr(err, a.learn(r.ID, r.Span))
		}
	}
	for _, s := range c.Network().Streams() {
		for _, r := range c.Network().Requests(s) {
			if r.Kind != protocol.Bootstrap {
				err = cmpErr(err, a.learn(r.Record.ID, r.Record.Span))
			}
		}
	}
	if ctrl := c.Controller(); ctrl != nil {
		for _, t := range ctrl.Tasks() {
			err = cmpErr(err, a.learn(t.ID, t.Span))
		}
		for _, r := range ctrl.Operators() {
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
	b, err := a.appendState(nil, c, ends)
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

// appendState appends the text of every variable of c's abstract state (after Observe of
// the same state) to b, in SpecVars order, each followed by a newline, and sets ends[i]
// to where the i-th ends: State's texts without a map or a string per value, so that the
// explorer can hash a state's text from one buffer. The text is canonical (fixed orders
// everywhere, the one set sorted): equal abstract states print equally.
func (a *Abstraction) appendState(b []byte, c *sim.Cluster, ends []int) ([]byte, error) {
	nodes := c.Nodes()
	// A spec world has a few nodes: their rows live on the stack.
	var rowBuf [4]dmRowSet
	var mergeBuf [4]uint64
	rows, mergeJ := rowBuf[:0], mergeBuf[:0]
	if len(nodes) > len(rowBuf) {
		rows, mergeJ = make([]dmRowSet, 0, len(nodes)), make([]uint64, 0, len(nodes))
	}
	rows, mergeJ = rows[:len(nodes)], mergeJ[:len(nodes)]
	for i, n := range nodes {
		if !c.Alive(n) {
			continue
		}
		m := c.Node(n)
		var dup error
		var seen [len(dmRowSet{})]bool
		m.EachDispatcher(func(d protocol.Dispatcher) {
			k, err := a.specIndex(d.Span)
			switch {
			case err != nil:
				dup = cmpErr(dup, err)
			case seen[k]:
				dup = cmpErr(dup, fmt.Errorf("conformance: %w: two dispatchers of span %s on node %s", ErrNotAbstract, d.Span, n))
			default:
				seen[k] = true
				rows[i][k].state, rows[i][k].removing = d.State.String(), d.Removing
			}
		})
		if dup != nil {
			return nil, dup
		}
		for _, r := range m.RemoveJournal() {
			k, err := a.specIndex(r.Span)
			if err != nil {
				return nil, err
			}
			rows[i][k].journal = journalOf(r)
		}
		for _, r := range m.MergeJournal() {
			mergeJ[i] = uint64(r.Epoch)
		}
	}
	v := 0
	end := func() {
		ends[v] = len(b)
		b = append(b, '\n')
		v++
	}
	// alive
	b = append(b, '{')
	sep := ""
	for i, n := range nodes {
		if c.Alive(n) {
			b = append(b, sep...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			sep = ", "
		}
	}
	b = append(b, '}')
	end()
	// disp, rem, opJ, mergeJ, owner
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendDisp(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendRem(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return rows[i].appendOpJ(b) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte { return strconv.AppendUint(b, mergeJ[i], 10) })
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		return strconv.AppendUint(b, uint64(c.Node(nodes[i]).Owner()), 10)
	})
	end()
	// req: per node, one stream per epoch
	var err error
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		return appendTuple(b, a.maxEpoch, func(b []byte, e int) []byte {
			var q []protocol.Request
			if c.Alive(nodes[i]) {
				q = c.Network().Requests(sim.Stream{Node: nodes[i], Epoch: ops.Epoch(e + 1)})
			}
			return appendTuple(b, len(q), func(b []byte, k int) []byte {
				b, err = a.appendRequest(b, q[k], err)
				return b
			})
		})
	})
	if err != nil {
		return nil, err
	}
	end()
	// stq
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		var q []sim.Report
		if c.Alive(nodes[i]) {
			q = c.Network().Statuses(nodes[i])
		}
		return appendTuple(b, len(q), func(b []byte, k int) []byte {
			id, ierr := a.idOf(q[k].Status.ID)
			err = cmpErr(err, ierr)
			return appendStatus(b, id, q[k].Status.State.String(), uint64(q[k].Epoch))
		})
	})
	if err != nil {
		return nil, err
	}
	end()
	b = strconv.AppendUint(b, uint64(c.Epoch()), 10)
	end()
	if c.Booting() {
		b = append(b, `"boot"`...)
	} else {
		b = append(b, `"run"`...)
	}
	end()
	b = appendTuple(b, len(nodes), func(b []byte, i int) []byte {
		b, err = a.appendResponse(b, c, nodes[i], err)
		return b
	})
	if err != nil {
		return nil, err
	}
	end()
	// sched, node, ops
	var ctrlRows [len(dmRowSet{})]ctrlEntry
	if ctrl := c.Controller(); ctrl != nil {
		at := func(sp ops.Span) (*ctrlEntry, error) {
			k, err := a.specIndex(sp)
			if err != nil {
				return nil, err
			}
			return &ctrlRows[k], nil
		}
		if err := controllerRows(ctrl, at); err != nil {
			return nil, err
		}
	}
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendSched(b) })
	end()
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendNode(b) })
	end()
	b = appendIDFunc(b, func(b []byte, i int) []byte { return ctrlRows[i].appendOp(b) })
	end()
	b = strconv.AppendUint(b, uint64(c.DropEpoch(a.table)), 10)
	end()
	b = strconv.AppendInt(b, int64(c.Budget()), 10)
	end()
	loss, dup, crash, fail := c.Faults()
	b = append(b, "[loss |-> "...)
	b = strconv.AppendInt(b, int64(loss), 10)
	b = append(b, ", dup |-> "...)
	b = strconv.AppendInt(b, int64(dup), 10)
	b = append(b, ", crash |-> "...)
	b = strconv.AppendInt(b, int64(crash), 10)
	b = append(b, ", fail |-> "...)
	b = strconv.AppendInt(b, int64(fail), 10)
	b = append(b, ']')
	end()
	if v != len(ends) {
		return nil, fmt.Errorf("conformance: abstract state of %d variables, the spec has %d", v, len(ends))
	}
	return b, nil
}

// ctrlEntry is the maintainer's entry for one spec id: its task and its operator.
type ctrlEntry struct {
	task, op     bool
	sched        string // the task's scheduling state
	node         int    // the task's node
	opType, opSt string
	origin, dest int
}

// appendSched appends the sched entry: the task's scheduling state, "none" without one.
func (e *ctrlEntry) appendSched(b []byte) []byte {
	if !e.task {
		return append(b, `"none"`...)
	}
	return strconv.AppendQuote(b, e.sched)
}

// appendNode appends the node entry: the task's node, 0 without one.
func (e *ctrlEntry) appendNode(b []byte) []byte { return strconv.AppendInt(b, int64(e.node), 10) }

// appendOp appends the ops entry: the operator, noOp without one.
func (e *ctrlEntry) appendOp(b []byte) []byte {
	if !e.op {
		return append(b, noOp...)
	}
	return appendOp(b, e.opType, e.opSt, e.origin, e.dest)
}

// controllerRows sets the entry of every spec id (at maps a span to it) from the
// maintainer controller's tasks and operators: two tasks of one span are an error.
func controllerRows(ctrl *ops.Controller, at func(ops.Span) (*ctrlEntry, error)) error {
	for _, t := range ctrl.Tasks() {
		e, err := at(t.Span)
		if err != nil {
			return err
		}
		if e.task {
			return fmt.Errorf("conformance: %w: two tasks of span %s", ErrNotAbstract, t.Span)
		}
		e.task, e.sched, e.node = true, t.Sched.String(), nodeNum(t.Node)
	}
	for _, r := range ctrl.Operators() {
		e, err := at(r.Span)
		if err != nil {
			return err
		}
		e.op, e.opType, e.opSt, e.origin, e.dest = true, r.Type.String(), r.StateName(), nodeNum(r.Origin), nodeNum(r.Dest)
	}
	return nil
}

// controllerView prints a maintainer controller's tasks and operators as the spec's
// sched, node and ops entries, by spec id (specID maps a span to it); an id missing from
// a map has no task or operator.
func controllerView(ctrl *ops.Controller, specID func(ops.Span) (string, error)) (sched, node, opsV map[string]string, err error) {
	rows := map[string]*ctrlEntry{}
	at := func(sp ops.Span) (*ctrlEntry, error) {
		d, err := specID(sp)
		if err != nil {
			return nil, err
		}
		if rows[d] == nil {
			rows[d] = &ctrlEntry{}
		}
		return rows[d], nil
	}
	if err := controllerRows(ctrl, at); err != nil {
		return nil, nil, nil, err
	}
	sched, node, opsV = map[string]string{}, map[string]string{}, map[string]string{}
	for d, e := range rows {
		if e.task {
			sched[d], node[d] = string(e.appendSched(nil)), string(e.appendNode(nil))
		}
		if e.op {
			opsV[d] = string(e.appendOp(nil))
		}
	}
	return sched, node, opsV, nil
}

// journalOf is the schedule-journal entry of record r.
func journalOf(r ops.Record) journalEntry {
	return journalEntry{op: r.Type.String(), epoch: uint64(r.Epoch), dest: nodeNum(r.Dest)}
}

// appendRequest appends request r as the spec writes it, or keeps err (the first error
// of a run of calls: r is then skipped).
func (a *Abstraction) appendRequest(b []byte, r protocol.Request, err error) ([]byte, error) {
	switch r.Kind {
	case protocol.Bootstrap:
		return append(b, bootstrapReq...), err
	case protocol.Merge:
		return append(b, mergeReq...), err
	}
	k, ierr := a.specIndex(r.Record.Span)
	if ierr != nil {
		return b, cmpErr(err, ierr)
	}
	dest := 0
	if r.Record.Type == ops.TypeMove {
		dest = nodeNum(r.Record.Dest)
	}
	return appendReq(b, reqTypes[r.Kind], specIDs[k], r.Record.Type.String(), dest), err
}

var reqTypes = map[protocol.Kind]string{protocol.Create: "create", protocol.Remove: "remove", protocol.Merge: "merge", protocol.Bootstrap: "bootstrap"}

// appendResponse appends node n's bootstrap answer as the maintainer holds it (ok FALSE
// without one), or keeps err (the first error of a run of calls).
func (a *Abstraction) appendResponse(b []byte, c *sim.Cluster, n ops.NodeID, err error) ([]byte, error) {
	var rows dmRowSet
	var mj uint64
	r, ok := c.Response(n)
	if ok {
		for _, d := range r.Dispatchers {
			k, ierr := a.specIndex(d.Span)
			if ierr != nil {
				return b, cmpErr(err, ierr)
			}
			rows[k].state, rows[k].removing = d.State.String(), d.Removing
		}
		for _, j := range r.Removes {
			k, ierr := a.specIndex(j.Span)
			if ierr != nil {
				return b, cmpErr(err, ierr)
			}
			rows[k].journal = journalOf(j)
		}
		for _, m := range r.Merges {
			mj = uint64(m.Epoch)
		}
	}
	b = append(b, "[ok |-> "...)
	b = appendBool(b, ok)
	b = append(b, ", disp |-> "...)
	b = rows.appendDisp(b)
	b = append(b, ", rem |-> "...)
	b = rows.appendRem(b)
	b = append(b, ", opJ |-> "...)
	b = rows.appendOpJ(b)
	b = append(b, ", mergeJ |-> "...)
	b = strconv.AppendUint(b, mj, 10)
	return append(b, ']'), err
}

// appendTuple appends the tuple of n elements, the i-th appended by elem.
func appendTuple(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	b = append(b, "<<"...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = elem(b, i)
	}
	return append(b, ">>"...)
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
