package recovery

import (
	"cmp"
	"slices"
	"strconv"

	ops "github.com/opfsm/opfsm/operators"
)

// fillHoles adds an Absent task for every uncovered range of a live table (3.2 holes),
// with an id derived from the epoch and the range, so it is the same whatever the order.
func (r *recoverer) fillHoles() {
	var all []ops.Span
	slices.SortFunc(r.temp, func(a, b tempSpan) int { return cmp.Compare(a.ti, b.ti) })
	temp := r.temp
	for ti, tb := range r.tables {
		// Every task so far: adopt collected them and added what it accepted, and kept
		// some as temporary coverage.
		refs := r.spans.of(int32(ti))
		at := func(i int) *ops.Span { return r.spanAt(refs[i]) }
		if len(temp) > 0 && temp[0].ti == int32(ti) {
			spans := make([]ops.Span, 0, len(refs)+len(temp))
			for i := range refs {
				spans = append(spans, *at(i))
			}
			for len(temp) > 0 && temp[0].ti == int32(ti) {
				spans = append(spans, temp[0].span)
				temp = temp[1:]
			}
			slices.SortFunc(spans, ops.CompareSpans)
			all = ops.AppendHoles(all, tb, len(spans), func(i int) *ops.Span { return &spans[i] })
			continue
		}
		sorted := true
		for i := 1; i < len(refs) && sorted; i++ {
			sorted = ops.CompareSpans(*at(i - 1), *at(i)) <= 0
		}
		if !sorted {
			slices.SortFunc(refs, func(a, b int32) int { return ops.CompareSpans(*r.spanAt(a), *r.spanAt(b)) })
		}
		all = ops.AppendHoles(all, tb, len(refs), at)
	}
	r.log.entries = slices.Grow(r.log.entries, len(all))
	r.log.texts = slices.Grow(r.log.texts, len(all))
	for _, h := range all {
		id := holeID(h, r.snap.Epoch)
		if err := r.c.AddTask(ops.Task{ID: id, Span: h, Sched: ops.Absent, Checkpoint: r.snap.Checkpoint}); err != nil {
			continue // cannot happen: ids are unique per table start key
		}
		r.log.addText(id, ruleHole, h, "uncovered")
	}
}

// holeID names the Absent task for an uncovered range: table, epoch and start key, so it
// is the same whatever the order (t100-e2-m).
func holeID(h ops.Span, e ops.Epoch) ops.DispatcherID {
	return ops.DispatcherID("t" + strconv.FormatInt(int64(h.Table), 10) + "-e" + strconv.FormatUint(uint64(e), 10) + "-" + h.Start)
}
