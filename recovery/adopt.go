package recovery

import (
	"cmp"
	"errors"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// rank orders the reports adopt considers: active ones first, the best evidence first.
func rank(d *protocol.Dispatcher) int32 {
	switch {
	case d.Removing:
		return 4
	case d.State == ops.Working:
		return 0
	case d.State == ops.Initializing:
		return 1
	case d.State == ops.WaitingMerge:
		return 2 // returns to Working when its merge aborts, unless a committed target covers it
	default:
		return 3
	}
}

const ranks = 5

// adopt decides every report no journal decided. First the reports of tables that are not
// alive: each gets a remove, by id and node (C6, G5, L5): one remove operator per id,
// one-shot removes for the same id on other nodes. Then the reports of live tables become
// Replicating tasks, accepted greedily in a fixed order (rank, span, id, node) so no two
// active dispatchers overlap (S1, G3, G8); the rest are cleaned up.
//
// The order is built by a counting sort on (rank, table), then a sort of each bucket,
// which typically holds a table's few spans: linear in the number of reports.
func (r *recoverer) adopt() {
	T := int32(len(r.tables))
	var dropped []ref
	cands := make([]ref, 0, len(r.status))
	bucket := make([]int32, 0, len(r.status))
	count := make([]int32, ranks*int(T)+1)
	// Reports come grouped by table, so the last table's answer is usually the next one's.
	lastTable, lastIdx, lastLive, cached := ops.TableID(0), int32(0), false, false
	for ri := range r.resps {
		ds := r.resps[ri].Dispatchers
		st := r.status[r.base[ri] : int(r.base[ri])+len(ds)]
		for i := range st {
			if st[i] != open {
				continue
			}
			st[i] = claimed // claimed now; cleanup and adoptTask claim again harmlessly
			x := ref{int32(ri), int32(i)}
			d := &ds[i]
			if !cached || d.Span.Table != lastTable {
				lastTable, cached = d.Span.Table, true
				lastIdx, lastLive = r.liveIndex(lastTable)
			}
			if !lastLive {
				dropped = append(dropped, x)
				continue
			}
			b := rank(d)*T + lastIdx
			cands = append(cands, x)
			bucket = append(bucket, b)
			count[b+1]++
		}
	}

	// Dropped tables first, by id and node.
	slices.SortFunc(dropped, func(a, b ref) int {
		return cmp.Or(cmp.Compare(r.disp(a).ID, r.disp(b).ID), cmp.Compare(r.nodeOf(a), r.nodeOf(b)))
	})
	for _, x := range dropped {
		if r.bug == bugDroppedTableAdopted {
			r.adoptTask(x, ops.Replicating)
			continue
		}
		r.removeWithoutTask(x, ruleDroppedTable)
	}

	// Counting sort by (rank, table); each bucket keeps the order reports were collected in.
	for b := 1; b < len(count); b++ {
		count[b] += count[b-1]
	}
	start := slices.Clone(count)
	order := make([]ref, len(cands))
	r.order = order
	for k, x := range cands {
		order[count[bucket[k]]] = x
		count[bucket[k]]++
	}
	cands, bucket = nil, nil

	// Room per live table for its tasks so far and for every candidate of it. The tasks
	// so far are the ones recovery added, unless a restored operator finished and changed
	// the registry: then it is scanned, once (a presized map costs its capacity to iterate).
	if r.changed || r.slow&scanRegistry != 0 {
		r.added = r.added[:0]
		r.c.EachTask(func(t ops.Task) { r.added = append(r.added, t.Span) })
	}
	perTable := make([]int32, T+1)
	for _, s := range r.added {
		if ti, ok := r.liveIndex(s.Table); ok {
			perTable[ti+1]++
		}
	}
	for b := int32(0); b < ranks*T; b++ {
		perTable[b%T+1] += start[b+1] - start[b]
	}
	r.spans = newTableSpans(perTable)
	for i, s := range r.added {
		if ti, ok := r.liveIndex(s.Table); ok {
			r.spans.add(ti, -1-int32(i))
		}
	}

	less := func(a, b ref) int {
		da, db := r.disp(a), r.disp(b)
		// Not cmp.Or: it would compare the ids and nodes of every pair, needed or not.
		if c := ops.CompareSpans(da.Span, db.Span); c != 0 {
			return c
		}
		if c := cmp.Compare(da.ID, db.ID); c != 0 {
			return c
		}
		return cmp.Compare(r.nodeOf(a), r.nodeOf(b))
	}
	for b := int32(0); b < ranks*T; b++ {
		group := order[start[b]:start[b+1]]
		if len(group) == 0 {
			continue
		}
		if r.bug == bugFirstReportWins {
			// TiCDC's G8: identical spans collapse into one, which one depends on the order the
			// reports came in.
			slices.SortStableFunc(group, func(a, b ref) int { return ops.CompareSpans(r.disp(a).Span, r.disp(b).Span) })
		} else if !slices.IsSortedFunc(group, less) { // reports often come in key order
			slices.SortFunc(group, less) // a total order: (id, node) is unique
		}
		r.adoptGroup(group, b%T, start[b])
	}
}

// adoptGroup decides one bucket of adopt's candidates, in order: group holds the reports
// of live table ti with one rank, sorted, and group[0] is order[first].
//
// The tasks it accepts go to the registry in batches (Controller.AddTasks), so their index
// misses overlap. A batch is added before any other registry lookup (a cleanup's) and at
// the end of the group, and AddTasks adds all or none: when it refuses one (a taken id),
// the decisions since the batch began are undone and redone one AddTask at a time, which
// decides exactly as if there had been no batch.
func (r *recoverer) adoptGroup(group []ref, ti, first int32) {
	batch := r.batch[:0]
	slow := r.slow&oneByOne != 0
	// The spans this group accepts are sorted and disjoint, and every later report starts
	// at or after them: only the last can overlap it. Earlier groups' spans are all checked.
	before := r.spans.n[ti]
	var from int    // the report the batch began at
	var logLen int  // the log's length then
	var spanN int32 // how many spans table ti had then
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		errs := r.c.AddTasks(batch)
		batch = batch[:0]
		return errs == nil
	}
	for j := 0; j < len(group); j++ {
		x := group[j]
		d := r.disp(x)
		if d.Removing || !(committed(d.State) || d.State == ops.WaitingMerge) {
			if !flush() {
				j, slow = r.undoBatch(from, logLen, ti, spanN), true
				continue
			}
			rule := ruleNotActive
			if d.State == ops.Preparing || d.State == ops.MergeReady {
				rule = ruleAbortPrecommitTarget
			}
			r.cleanup(x, rule)
			continue
		}
		acc := r.spans.of(ti)
		if r.slow&scanAccepted != 0 {
			before = int32(len(acc))
		}
		other, overlaps := r.overlapping(acc[:before], d.Span)
		if k := int32(len(acc)); k > before {
			if a := r.spanAt(acc[k-1]); a.Overlaps(d.Span) && (!overlaps || a.Less(other)) {
				other, overlaps = *a, true
			}
		}
		taken := false
		if !overlaps && !slow {
			if len(batch) == 0 {
				from, logLen, spanN = j, len(r.log.entries), r.spans.n[ti]
			}
			batch = append(batch, ops.Task{ID: d.ID, Span: d.Span, Sched: ops.Replicating, Node: r.nodeOf(x), Checkpoint: r.ckpt(d.Checkpoint)})
		} else if !overlaps {
			// AddTask itself finds a taken id: one registry lookup per report, not two.
			err := r.c.AddTask(ops.Task{ID: d.ID, Span: d.Span, Sched: ops.Replicating, Node: r.nodeOf(x), Checkpoint: r.ckpt(d.Checkpoint)})
			// Another refusal can only be an empty node name, checked before the id: such
			// a report is adopted as before (its span counts as covered, it gets no task)
			// unless its id is taken.
			taken = errors.Is(err, ops.ErrTaskExists) || err != nil && r.hasTask(d.ID)
		}
		if overlaps || taken {
			if !flush() {
				j, slow = r.undoBatch(from, logLen, ti, spanN), true
				continue
			}
			if !overlaps || r.bug == bugOverlapLoserUncovered {
				r.cleanup(x, ruleOverlap) // its id is taken
			} else {
				r.coverThenRemove(x, ruleOverlap)
			}
			r.log.extendLast(" (overlaps " + other.String() + " or its id is taken)")
			continue
		}
		r.spans.add(ti, first+int32(j))
		r.decideReport(x, ruleAdopt, detailNone)
		if j == len(group)-1 && !flush() {
			j, slow = r.undoBatch(from, logLen, ti, spanN), true
		}
	}
	r.batch = batch
}

// undoBatch undoes the decisions of a batch AddTasks refused: the log and table ti's spans
// go back to what they were when it began, at report from. It returns the index to resume
// the loop from (from-1: the loop increments it).
func (r *recoverer) undoBatch(from, logLen int, ti, spanN int32) int {
	r.log.entries = r.log.entries[:logLen]
	r.spans.n[ti] = spanN
	return from - 1
}

// tableSpans holds spans grouped by live table in one backing array, each table with the
// room it was given up front.
type tableSpans struct {
	all   []int32 // spanAt's references, so the array holds no pointers
	start []int32 // start[t] is table t's first slot
	n     []int32 // n[t] is how many table t holds
}

// newTableSpans sizes table t for room[t+1] spans.
func newTableSpans(room []int32) tableSpans {
	ts := tableSpans{start: make([]int32, len(room)-1), n: make([]int32, len(room)-1)}
	total := int32(0)
	for t := range ts.start {
		ts.start[t] = total
		total += room[t+1]
	}
	ts.all = make([]int32, total)
	return ts
}

func (ts *tableSpans) add(t int32, e int32) {
	ts.all[ts.start[t]+ts.n[t]] = e
	ts.n[t]++
}

func (ts *tableSpans) of(t int32) []int32 {
	return ts.all[ts.start[t] : ts.start[t]+ts.n[t]]
}

// spanAt resolves a tableSpans reference: e >= 0 is the report at order[e], e < 0 the
// task added before adopt at added[-1-e]. Neither moves once adopt has started.
func (r *recoverer) spanAt(e int32) *ops.Span {
	if e >= 0 {
		return &r.disp(r.order[e]).Span
	}
	return &r.added[-1-e]
}

// overlapping returns the least accepted span of the same table that overlaps s (the
// least, so the evidence does not depend on the order they were accepted in). Tables
// hold few spans each, so a scan beats an interval tree here.
func (r *recoverer) overlapping(accepted []int32, s ops.Span) (ops.Span, bool) {
	var least *ops.Span
	for _, e := range accepted {
		if a := r.spanAt(e); a.Overlaps(s) && (least == nil || a.Less(*least)) {
			least = a
		}
	}
	if least == nil {
		return ops.Span{}, false
	}
	return *least, true
}

func (r *recoverer) hasTask(id ops.DispatcherID) bool {
	_, ok := r.c.Task(id)
	return ok
}
