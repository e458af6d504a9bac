package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
	"github.com/opfsm/opfsm/internal/tlc"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// RecoveryModule is the TLA+ module whose states are snapshots and what recovery makes of
// them (spec/failover/RecoveryKeys.tla).
const RecoveryModule = "RecoveryKeys"

// ErrRecoveryDiffers: package recovery recovers some snapshot of the model into another
// view than the spec's Recover.
var ErrRecoveryDiffers = errors.New("package recovery differs from the spec's Recover")

// RecoveryReport is the outcome of CompareRecovery.
type RecoveryReport struct {
	// Snapshots is how many snapshots (initial states) TLC enumerated; each was recovered
	// by both.
	Snapshots int
	// Differing is how many of them package recovery recovered differently.
	Differing int
	// Rules counts, for each rule package recovery applied, the snapshots it applied it
	// to (equal or not): which of its rules the comparison met.
	Rules map[string]int
	// ByRules counts the differing snapshots by the rules package recovery applied to
	// them (RecoveryDiff.Rules, joined with "+").
	ByRules map[string]int
	// Examples describe the first differing snapshots (at most MaxRecoveryExamples),
	// fewest dispatchers first.
	Examples []RecoveryDiff
	// TLC is TLC's run.
	TLC tlc.Result
}

// MaxRecoveryExamples bounds RecoveryReport.Examples.
const MaxRecoveryExamples = 5

// RecoveryDiff is one snapshot that package recovery recovers differently.
type RecoveryDiff struct {
	// Snapshot is the snapshot, a line per answering node ("alive" and "dropEpoch" first).
	Snapshot string
	// Diffs name each part of the recovered view that differs, with both values.
	Diffs []string
	// Rules are the rules package recovery applied (Decision.Rule), sorted, once each.
	Rules []string
	size  int
}

// String prints the snapshot and its differences.
func (d RecoveryDiff) String() string {
	return d.Snapshot + "\n  recovery's rules: " + strings.Join(d.Rules, ", ") + "\n  " + strings.Join(d.Diffs, "\n  ")
}

// Err is nil when every snapshot was recovered alike, else an ErrRecoveryDiffers naming
// the count and the first example.
func (r *RecoveryReport) Err() error {
	if r.Differing == 0 {
		return nil
	}
	return fmt.Errorf("conformance: %w on %d of %d snapshots; the first:\n%s", ErrRecoveryDiffers, r.Differing, r.Snapshots, r.Examples[0])
}

// CompareRecovery runs TLC on RecoveryKeys.tla with config cfg (a file in specDir, e.g.
// "RecoveryKeys.cfg"), reads every snapshot and the state Recover leads it to from TLC's
// state graph (RecoverySnapshots), and compares each with package recovery's result
// (RecoverySnapshots.Compare). Dispatcher ids are spans: an id's letters are its keys
// ("ab" is keys 0 and 1), "m" is the whole table.
func CompareRecovery(ctx context.Context, specDir, cfg string, opts ...recovery.Option) (*RecoveryReport, error) {
	snaps, err := LoadRecoverySnapshots(ctx, specDir, cfg)
	if err != nil {
		return nil, err
	}
	return snaps.Compare(opts...)
}

// RecoverySnapshots are the snapshots of a RecoveryKeys config, each with the state the
// spec's Recover makes of it, as TLC enumerated them.
type RecoverySnapshots struct {
	pairs [][2]tla.State
	tlc   tlc.Result
}

// Len is the number of snapshots.
func (s *RecoverySnapshots) Len() int { return len(s.pairs) }

// LoadRecoverySnapshots runs TLC on RecoveryKeys.tla with config cfg (a file in specDir)
// and reads its state graph: every initial state (a snapshot) must have exactly one
// successor, the recovered state.
func LoadRecoverySnapshots(ctx context.Context, specDir, cfg string) (*RecoverySnapshots, error) {
	dir, err := specCopy("opfsm-recovery-", specDir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	data, err := os.ReadFile(filepath.Join(specDir, cfg))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	cfg = filepath.Base(cfg)
	if err := os.WriteFile(filepath.Join(dir, cfg), data, 0o644); err != nil {
		return nil, err
	}
	topts := tlc.Options{Dir: dir, Spec: RecoveryModule, Config: cfg,
		Args: []string{"-dump", "dot,actionlabels", filepath.Join(dir, "graph")}}
	res, err := runTLC(ctx, topts)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "graph.dot"))
	if err != nil {
		return nil, fmt.Errorf("conformance: TLC's dump: %w", err)
	}
	defer f.Close()
	g, err := tlc.ParseDot(f)
	if err != nil {
		return nil, err
	}
	next := map[int64]int64{}
	for _, e := range g.Edges {
		if e.From == e.To {
			continue
		}
		if prev, dup := next[e.From]; dup && prev != e.To {
			return nil, fmt.Errorf("conformance: snapshot %d has two recovered states: Recover must be a function", e.From)
		}
		next[e.From] = e.To
	}
	snaps := &RecoverySnapshots{tlc: res}
	for _, id := range g.Init {
		to, ok := next[id]
		if !ok {
			return nil, fmt.Errorf("conformance: snapshot %d: Recover is not enabled", id)
		}
		snaps.pairs = append(snaps.pairs, [2]tla.State{g.States[id], g.States[to]})
	}
	return snaps, nil
}

// Compare recovers every snapshot with recovery.Recover (and opts) and compares the tasks,
// operators and first requests with the spec's. A node's first requests are compared as a
// multiset: the spec fixes an order, the library sends them together.
func (s *RecoverySnapshots) Compare(opts ...recovery.Option) (*RecoveryReport, error) {
	rep := &RecoveryReport{Snapshots: len(s.pairs), TLC: s.tlc, Rules: map[string]int{}, ByRules: map[string]int{}}
	for _, p := range s.pairs {
		rules, diff, err := compareRecovered(p[0], p[1], opts)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			rep.Rules[r]++
		}
		if diff == nil {
			continue
		}
		rep.Differing++
		rep.ByRules[strings.Join(diff.Rules, "+")]++
		rep.Examples = append(rep.Examples, *diff)
		sort.SliceStable(rep.Examples, func(i, j int) bool { return rep.Examples[i].size < rep.Examples[j].size })
		if len(rep.Examples) > MaxRecoveryExamples {
			rep.Examples = rep.Examples[:MaxRecoveryExamples]
		}
	}
	return rep, nil
}

// keyGeometry maps the spec's ids to spans of table recoveryTable: letter k is key k, "m"
// the whole table. Key k's range is [k, k+1), the first starting at the table's start and
// the last ending at its end.
type keyGeometry struct{ keys int }

const recoveryTable ops.TableID = 1

// geometryOf is the geometry of a world with these ids: one key per one-letter id.
func geometryOf(ids []string) keyGeometry {
	g := keyGeometry{}
	for _, id := range ids {
		if len(id) == 1 && id != "m" {
			g.keys++
		}
	}
	return g
}

func (g keyGeometry) span(id string) (ops.Span, error) {
	if id == "m" {
		return ops.Span{Table: recoveryTable}, nil
	}
	lo, hi := -1, -1
	for i, c := range id {
		k := int(c - 'a')
		if k < 0 || k >= g.keys || (i > 0 && k != hi+1) {
			return ops.Span{}, fmt.Errorf("conformance: %w: id %q is not a run of keys", ErrNotAbstract, id)
		}
		if i == 0 {
			lo = k
		}
		hi = k
	}
	if lo < 0 {
		return ops.Span{}, fmt.Errorf("conformance: %w: empty id", ErrNotAbstract)
	}
	sp := ops.Span{Table: recoveryTable}
	if lo > 0 {
		sp.Start = strconv.Itoa(lo)
	}
	if hi < g.keys-1 {
		sp.End = strconv.Itoa(hi + 1)
	}
	return sp, nil
}

// id is span's spec id: the whole table is "m", any other run of keys its letters.
func (g keyGeometry) id(sp ops.Span) (string, error) {
	if sp.Table != recoveryTable {
		return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
	}
	lo, hi := 0, g.keys-1
	var err error
	if sp.Start != "" {
		if lo, err = strconv.Atoi(sp.Start); err != nil {
			return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
		}
	}
	if sp.End != "" {
		e, err := strconv.Atoi(sp.End)
		if err != nil {
			return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
		}
		hi = e - 1
	}
	if lo < 0 || hi >= g.keys || lo > hi {
		return "", fmt.Errorf("conformance: %w: span %s", ErrNotAbstract, sp)
	}
	if lo == 0 && hi == g.keys-1 {
		return "m", nil
	}
	var b strings.Builder
	for k := lo; k <= hi; k++ {
		b.WriteByte(byte('a' + k))
	}
	return b.String(), nil
}

// compareRecovered recovers snapshot state from with package recovery and compares the
// result with the spec's recovered state to. It returns the rules the library applied
// (sorted, once each) and the difference, nil when they agree.
func compareRecovered(from, to tla.State, opts []recovery.Option) ([]string, *RecoveryDiff, error) {
	snap, desc, size, ids, err := recoverySnapshot(from)
	if err != nil {
		return nil, nil, err
	}
	res, err := recovery.Recover(snap, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("conformance: recovering %s: %w", desc, err)
	}
	var rules []string
	for d := range res.Decisions.All() {
		rules = append(rules, d.Rule)
	}
	slices.Sort(rules)
	rules = slices.Compact(rules)
	g := geometryOf(ids)
	got, err := goView(g, ids, res, len(nodesOf(from)))
	if err != nil {
		return nil, nil, fmt.Errorf("conformance: the recovery of %s: %w", desc, err)
	}
	want := map[string]string{}
	for _, name := range []string{"sched", "node", "ops"} {
		want[name] = valueText(to[name])
	}
	reqs, err := seqOf(to["req"])
	if err != nil {
		return nil, nil, err
	}
	for i, r := range reqs {
		streams, err := seqOf(r)
		if err != nil || len(streams) < 2 {
			return nil, nil, fmt.Errorf("conformance: req[%d] is not two streams: %s", i+1, valueText(r))
		}
		msgs, _ := seqOf(streams[1])
		want["out"+strconv.Itoa(i+1)] = multiset(msgs)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if want[k] == got[k] {
			continue
		}
		if k == "sched" || k == "node" || k == "ops" {
			diffs = append(diffs, idDiffs(k, to[k], got[k])...)
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s: spec %s, recovery %s", k, want[k], got[k]))
	}
	if len(diffs) == 0 {
		return rules, nil, nil
	}
	return rules, &RecoveryDiff{Snapshot: desc, Diffs: diffs, Rules: rules, size: size}, nil
}

func valueText(v tla.Value) string {
	if v == nil {
		return "<missing>"
	}
	return string(tla.AppendCanonical(nil, v))
}

// multiset prints values as a sorted list of their canonical texts.
func multiset(vs []tla.Value) string {
	txt := make([]string, len(vs))
	for i, v := range vs {
		txt[i] = valueText(v)
	}
	slices.Sort(txt)
	return "{" + strings.Join(txt, ", ") + "}"
}

func seqOf(v tla.Value) ([]tla.Value, error) {
	switch s := v.(type) {
	case tla.Seq:
		return s.Elems(), nil
	case tla.Func: // an empty sequence may print as a function
		if s.Len() == 0 {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("conformance: %w: want a sequence, have %s", ErrNotAbstract, valueText(v))
}

func field(v tla.Value, name string) (tla.Value, error) {
	switch r := v.(type) {
	case tla.Record:
		if f, ok := r.Get(name); ok {
			return f, nil
		}
	case tla.Func:
		if f, ok := r.Get(tla.Str(name)); ok {
			return f, nil
		}
	}
	return nil, fmt.Errorf("conformance: %w: no field %q in %s", ErrNotAbstract, name, valueText(v))
}

// fieldsOf lists a record's (or a string-keyed function's) fields and values.
func fieldsOf(v tla.Value) ([]string, []tla.Value, error) {
	switch r := v.(type) {
	case tla.Record:
		var names []string
		var vals []tla.Value
		for _, f := range r.Fields() {
			names, vals = append(names, f.Name), append(vals, f.Value)
		}
		return names, vals, nil
	case tla.Func:
		var names []string
		var vals []tla.Value
		for _, p := range r.Pairs() {
			s, ok := p.Key.(tla.Str)
			if !ok {
				return nil, nil, fmt.Errorf("conformance: %w: want ids as keys, have %s", ErrNotAbstract, valueText(v))
			}
			names, vals = append(names, string(s)), append(vals, p.Value)
		}
		return names, vals, nil
	}
	return nil, nil, fmt.Errorf("conformance: %w: want a record, have %s", ErrNotAbstract, valueText(v))
}

func strOf(v tla.Value) (string, error) {
	if s, ok := v.(tla.Str); ok {
		return string(s), nil
	}
	return "", fmt.Errorf("conformance: %w: want a string, have %s", ErrNotAbstract, valueText(v))
}

func intOf(v tla.Value) (int, error) {
	if i, ok := v.(tla.Int); ok {
		return int(i), nil
	}
	return 0, fmt.Errorf("conformance: %w: want a number, have %s", ErrNotAbstract, valueText(v))
}

func nodesOf(st tla.State) []tla.Value {
	rs, _ := seqOf(st["resp"])
	return rs
}

// recoverySnapshot builds the snapshot that state st's bootstrap answers make: one per
// node whose answer is in (ok), every reported dispatcher with its span, schedule-journal
// records of epoch st's journal entries, and the merge journal's record of "m" from its
// sources. It also returns a one-line description, the number of reported dispatchers and
// the ids of the world.
func recoverySnapshot(st tla.State) (protocol.Snapshot, string, int, []string, error) {
	fail := func(err error) (protocol.Snapshot, string, int, []string, error) {
		return protocol.Snapshot{}, "", 0, nil, fmt.Errorf("conformance: a snapshot of the recovery model: %w", err)
	}
	drop, err := intOf(st["dropEpoch"])
	if err != nil {
		return fail(err)
	}
	epoch, err := intOf(st["epoch"])
	if err != nil {
		return fail(err)
	}
	snap := protocol.Snapshot{Changefeed: "cf", Epoch: ops.Epoch(epoch)}
	if drop == 0 {
		snap.Tables = []ops.TableID{recoveryTable}
	}
	desc := []string{fmt.Sprintf("alive %s, dropEpoch %d", valueText(st["alive"]), drop)}
	size := 0
	var ids []string
	for i, r := range nodesOf(st) {
		ok, err := field(r, "ok")
		if err != nil {
			return fail(err)
		}
		if ok != tla.Bool(true) {
			continue
		}
		n := ops.NodeID(strconv.Itoa(i + 1))
		a, line, k, idList, err := answerOf(n, r, ops.Epoch(epoch))
		if err != nil {
			return fail(err)
		}
		ids = idList
		snap.Answers = append(snap.Answers, a)
		desc = append(desc, line)
		size += k
	}
	if ids == nil { // no answer: read the ids from the recovered tasks' domain
		names, _, err := fieldsOf(st["sched"])
		if err != nil {
			return fail(err)
		}
		ids = names
	}
	return snap, strings.Join(desc, "\n    "), size, ids, nil
}

// answerOf is node n's bootstrap answer from its spec response r.
func answerOf(n ops.NodeID, r tla.Value, epoch ops.Epoch) (protocol.BootstrapAnswer, string, int, []string, error) {
	a := protocol.BootstrapAnswer{Node: n, Changefeed: "cf", Epoch: epoch}
	get := func(name string) ([]string, []tla.Value, error) {
		v, err := field(r, name)
		if err != nil {
			return nil, nil, err
		}
		return fieldsOf(v)
	}
	ids, states, err := get("disp")
	if err != nil {
		return a, "", 0, nil, err
	}
	_, rems, err := get("rem")
	if err != nil {
		return a, "", 0, nil, err
	}
	_, journal, err := get("opJ")
	if err != nil {
		return a, "", 0, nil, err
	}
	if len(rems) != len(ids) || len(journal) != len(ids) {
		return a, "", 0, nil, fmt.Errorf("%w: disp, rem and opJ over different ids", ErrNotAbstract)
	}
	g := geometryOf(ids)
	var parts []string
	for i, id := range ids {
		st, err := strOf(states[i])
		if err != nil {
			return a, "", 0, nil, err
		}
		if st == "none" {
			continue
		}
		cs, err := ops.ParseComponentState(st)
		if err != nil {
			return a, "", 0, nil, fmt.Errorf("%w: dispatcher %s: %w", ErrNotAbstract, id, err)
		}
		sp, err := g.span(id)
		if err != nil {
			return a, "", 0, nil, err
		}
		removing := rems[i] == tla.Bool(true)
		a.Dispatchers = append(a.Dispatchers, protocol.Dispatcher{ID: ops.DispatcherID(id), Span: sp, State: cs, Removing: removing})
		part := id + " " + st
		if removing {
			part += " closing"
		}
		if rec, ok := journal[i].(tla.Record); ok {
			op, _ := rec.Get("op")
			if s, _ := strOf(op); s != "" {
				jr, err := journalRecord(g, n, ops.DispatcherID(id), sp, rec)
				if err != nil {
					return a, "", 0, nil, err
				}
				a.Removes = append(a.Removes, jr)
				part += " (journal " + jr.Type.String()
				if jr.Type == ops.TypeMove {
					part += " to " + string(jr.Dest)
				}
				part += ")"
			}
		}
		parts = append(parts, part)
	}
	mj, err := field(r, "mergeJ")
	if err != nil {
		return a, "", 0, nil, err
	}
	if e, err := intOf(mj); err != nil {
		return a, "", 0, nil, err
	} else if e != 0 {
		var sources []ops.DispatcherID
		for k := range g.keys {
			sources = append(sources, ops.DispatcherID(string(rune('a'+k))))
		}
		a.Merges = append(a.Merges, ops.Record{Changefeed: "cf", ID: "m", Type: ops.TypeMerge, State: ops.MergeRunning,
			Epoch: ops.Epoch(e), Span: ops.Span{Table: recoveryTable}, Origin: n, Sources: sources})
		parts = append(parts, fmt.Sprintf("merge journal of epoch %d", e))
	}
	return a, "node " + string(n) + ": " + strings.Join(parts, ", "), len(a.Dispatchers), ids, nil
}

// journalRecord is the Remove record a spec journal entry [op, epoch, dest] stands for,
// journaled at origin n for dispatcher id of span sp.
func journalRecord(g keyGeometry, n ops.NodeID, id ops.DispatcherID, sp ops.Span, rec tla.Record) (ops.Record, error) {
	opV, _ := rec.Get("op")
	epochV, _ := rec.Get("epoch")
	destV, _ := rec.Get("dest")
	op, err := strOf(opV)
	if err != nil {
		return ops.Record{}, err
	}
	e, err := intOf(epochV)
	if err != nil {
		return ops.Record{}, err
	}
	dest, err := intOf(destV)
	if err != nil {
		return ops.Record{}, err
	}
	r := ops.Record{Changefeed: "cf", ID: id, Epoch: ops.Epoch(e), Span: sp, Origin: n}
	switch op {
	case "remove":
		r.Type, r.State = ops.TypeRemove, ops.RemoveRunning
	case "move":
		r.Type, r.State, r.Dest = ops.TypeMove, ops.MoveRemoveOrigin, ops.NodeID(strconv.Itoa(dest))
	case "split":
		r.Type, r.State = ops.TypeSplit, ops.SplitRunning
		for _, c := range string(id) {
			if string(id) == "m" {
				break
			}
			half, _ := g.span(string(c))
			r.SplitSpans = append(r.SplitSpans, half)
		}
		if id == "m" {
			for k := range g.keys {
				half, _ := g.span(string(rune('a' + k)))
				r.SplitSpans = append(r.SplitSpans, half)
			}
		}
	default:
		return ops.Record{}, fmt.Errorf("%w: journal entry of %q", ErrNotAbstract, op)
	}
	return r, nil
}

// goView prints package recovery's result as the spec's sched, node, ops and, per node,
// "outN": the multiset of its first requests.
func goView(g keyGeometry, ids []string, res recovery.Result, nodes int) (map[string]string, error) {
	sched, node, opsV, err := controllerView(res.Controller, g.id)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, vals := range map[string]map[string]string{"sched": sched, "node": node, "ops": opsV} {
		def := map[string]string{"sched": `"none"`, "node": "0", "ops": noOp}[name]
		txt := "[" + strings.Join(func() []string {
			var fs []string
			for _, d := range ids {
				fs = append(fs, d+" |-> "+orText(vals[d], def))
			}
			return fs
		}(), ", ") + "]"
		v, err := tla.ParseValue(txt)
		if err != nil {
			return nil, err
		}
		out[name] = valueText(v)
	}
	msgs := make([][]tla.Value, nodes)
	for _, m := range res.Messages {
		n := nodeNum(m.To)
		if n < 1 || n > nodes {
			return nil, fmt.Errorf("%w: a request to node %q", ErrNotAbstract, m.To)
		}
		txt := mergeReq
		if m.Kind != ops.Merge {
			id, err := g.id(m.Record.Span)
			if err != nil {
				return nil, err
			}
			dest := 0
			if m.Record.Type == ops.TypeMove {
				dest = nodeNum(m.Record.Dest)
			}
			typ := map[ops.MessageKind]string{ops.Create: "create", ops.Remove: "remove"}[m.Kind]
			txt = reqText(typ, id, m.Record.Type.String(), dest)
		}
		v, err := tla.ParseValue(txt)
		if err != nil {
			return nil, err
		}
		msgs[n-1] = append(msgs[n-1], v)
	}
	for i := range nodes {
		out["out"+strconv.Itoa(i+1)] = multiset(msgs[i])
	}
	return out, nil
}

// idDiffs names the ids whose value in variable name differs: spec value v, the library's
// view got (a record's text).
func idDiffs(name string, v tla.Value, got string) []string {
	g, err := tla.ParseValue(got)
	if err != nil {
		return []string{fmt.Sprintf("%s: spec %s, recovery %s", name, valueText(v), got)}
	}
	ids, specVals, err1 := fieldsOf(v)
	gids, goVals, err2 := fieldsOf(g)
	if err1 != nil || err2 != nil || !slices.Equal(ids, gids) {
		return []string{fmt.Sprintf("%s: spec %s, recovery %s", name, valueText(v), got)}
	}
	var out []string
	for i, id := range ids {
		if a, b := valueText(specVals[i]), valueText(goVals[i]); a != b {
			out = append(out, fmt.Sprintf("%s[%s]: spec %s, recovery %s", name, id, a, b))
		}
	}
	return out
}
