package recovery

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// contested reports whether anything else may serve keys of s, which a move, split or
// merge journaled on n would create dispatchers for: a reported dispatcher that is not
// closing (active, waiting for a merge, or a merge target before its commit) other than
// the operator's own on n, or a move, split or merge resumed before. The reports that may
// serve keys are indexed by live table the first time it is asked.
func (r *recoverer) contested(s ops.Span, n ops.NodeID, own ...ops.DispatcherID) bool {
	ti, live := r.liveIndex(s.Table)
	if !live {
		return false
	}
	if r.claimStart == nil {
		r.indexClaims()
	}
	for _, x := range r.claims[r.claimStart[ti]:r.claimStart[ti+1]] {
		if d := r.disp(x); d.Span.Overlaps(s) && (r.nodeOf(x) != n || !slices.Contains(own, d.ID)) {
			return true
		}
	}
	if r.intentHead != nil {
		for k := r.intentHead[ti]; k >= 0; k = r.intents[k].next {
			if r.intents[k].span.Overlaps(s) {
				return true
			}
		}
	}
	return false
}

// mayServe reports whether x may serve keys: usable, not closing, not terminal.
func (r *recoverer) mayServe(x ref) bool {
	d := r.disp(x)
	return *r.slot(x) != unusable && !d.Removing && !d.State.Terminal()
}

// indexClaims lists, by live table, the reports that may serve keys: claims[claimStart[t]:
// claimStart[t+1]] are table t's (two passes, a counting sort: no allocation per table).
func (r *recoverer) indexClaims() {
	r.claimStart = make([]int32, len(r.tables)+1)
	each := func(f func(t int32, x ref)) {
		for ri := range r.resps {
			for i := range r.resps[ri].Dispatchers {
				x := ref{int32(ri), int32(i)}
				if t, ok := r.liveIndex(r.disp(x).Span.Table); ok && r.mayServe(x) {
					f(t, x)
				}
			}
		}
	}
	each(func(t int32, _ ref) { r.claimStart[t+1]++ })
	for t := range r.tables {
		r.claimStart[t+1] += r.claimStart[t]
	}
	r.claims = make([]ref, r.claimStart[len(r.tables)])
	next := slices.Clone(r.claimStart[:len(r.tables)])
	each(func(t int32, x ref) {
		r.claims[next[t]] = x
		next[t]++
	})
}

// intent is a span a resumed move or split will create dispatchers for, in a list per
// live table (intentHead, then next; -1 ends it).
type intent struct {
	span ops.Span
	next int32
}

// intend records that a resumed move or split will create dispatchers for s: a later one
// over the same keys is contested.
func (r *recoverer) intend(s ops.Span) {
	ti, live := r.liveIndex(s.Table)
	if !live {
		return
	}
	if r.intentHead == nil {
		r.intentHead = make([]int32, len(r.tables))
		for i := range r.intentHead {
			r.intentHead[i] = -1
		}
	}
	r.intents = append(r.intents, intent{span: s, next: r.intentHead[ti]})
	r.intentHead[ti] = int32(len(r.intents) - 1)
}
