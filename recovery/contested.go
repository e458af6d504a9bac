package recovery

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// contested reports whether anything else may serve keys of s, which a move, split or
// merge journaled on n would create dispatchers for: a reported dispatcher that is not
// closing (active, waiting for a merge, or a merge target before its commit) other than
// the operator's own on n, or a move, split or merge resumed before. The reports of each live table are indexed
// the first time it is asked.
func (r *recoverer) contested(s ops.Span, n ops.NodeID, own ...ops.DispatcherID) bool {
	ti, live := r.liveIndex(s.Table)
	if !live {
		return false
	}
	if r.claims == nil {
		r.claims = make([][]ref, len(r.tables))
		for ri := range r.resps {
			for i := range r.resps[ri].Dispatchers {
				x := ref{int32(ri), int32(i)}
				d := r.disp(x)
				if *r.slot(x) == unusable || d.Removing || d.State.Terminal() {
					continue
				}
				if t, ok := r.liveIndex(d.Span.Table); ok {
					r.claims[t] = append(r.claims[t], x)
				}
			}
		}
	}
	for _, x := range r.claims[ti] {
		if d := r.disp(x); d.Span.Overlaps(s) && (r.nodeOf(x) != n || !slices.Contains(own, d.ID)) {
			return true
		}
	}
	if r.intents != nil {
		for _, sp := range r.intents[ti] {
			if sp.Overlaps(s) {
				return true
			}
		}
	}
	return false
}

// intend records that a resumed move or split will create dispatchers for s: a later one
// over the same keys is contested.
func (r *recoverer) intend(s ops.Span) {
	if ti, live := r.liveIndex(s.Table); live {
		if r.intents == nil {
			r.intents = make([][]ops.Span, len(r.tables))
		}
		r.intents[ti] = append(r.intents[ti], s)
	}
}
