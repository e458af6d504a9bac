package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
	"github.com/opfsm/opfsm/internal/tlc"
	ops "github.com/opfsm/opfsm/operators"
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
	snaps, err := LoadRecoverySnapshots(ctx, specDir, cfg, 1)
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
// on workers worker threads (0: one per core) and reads its state graph: every initial
// state (a snapshot) must have exactly one successor, the recovered state. TLC enumerates
// the snapshots on one thread; its workers recover them side by side, and the snapshots
// are the same for any worker count.
func LoadRecoverySnapshots(ctx context.Context, specDir, cfg string, workers int) (*RecoverySnapshots, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dir, cfg, err := configCopy("opfsm-recovery-", specDir, cfg)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	topts := tlc.Options{Dir: dir, Spec: RecoveryModule, Config: cfg, Workers: workers,
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
			typ := map[ops.MessageKind]string{ops.Create: "create", ops.Remove: "remove"}[m.Kind]
			txt = reqText(typ, id, m.Record.Type.String(), reqDest(m.Record))
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
