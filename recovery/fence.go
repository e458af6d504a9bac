package recovery

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// fence keeps the responses of this changefeed and epoch, one per node (3.1, 3.7, 25c).
func (r *recoverer) fence() {
	type normalized struct {
		resp protocol.BootstrapAnswer
		v    view
	}
	byNode := make(map[ops.NodeID][]normalized)
	var scratch []idKey // sortDispatchers' buffer, shared by every response
	for _, resp := range r.snap.Answers {
		switch {
		case resp.Changefeed != r.snap.Changefeed:
			r.reject(resp.Node, "response", fmt.Errorf("%w: %q", ErrWrongChangefeed, resp.Changefeed))
		case resp.Epoch != r.snap.Epoch:
			r.reject(resp.Node, "response", fmt.Errorf("%w: %d (want %d)", ErrStaleEpoch, resp.Epoch, r.snap.Epoch))
		default:
			resp, v := normalize(resp, &scratch)
			byNode[resp.Node] = append(byNode[resp.Node], normalized{resp, v})
		}
	}
	var order []ops.NodeID
	seen := make(map[ops.NodeID]bool)
	for _, resp := range r.snap.Answers {
		if _, ok := byNode[resp.Node]; ok && !seen[resp.Node] {
			seen[resp.Node] = true
			order = append(order, resp.Node)
		}
	}
	for _, node := range order {
		rs := byNode[node]
		same := true
		for _, x := range rs[1:] {
			same = same && sameResponse(x.resp, x.v, rs[0].resp, rs[0].v)
		}
		if !same {
			r.reject(node, "response", fmt.Errorf("%w: %d different answers", ErrConflictingResponses, len(rs)))
			continue
		}
		r.resps = append(r.resps, rs[0].resp)
		r.views = append(r.views, rs[0].v)
	}
	if r.bug != bugFirstReportWins {
		byNode := make([]int, len(r.resps))
		for i := range byNode {
			byNode[i] = i
		}
		slices.SortFunc(byNode, func(a, b int) int { return cmp.Compare(r.resps[a].Node, r.resps[b].Node) })
		resps, views := make([]protocol.BootstrapAnswer, len(byNode)), make([]view, len(byNode))
		for k, i := range byNode {
			resps[k], views[k] = r.resps[i], r.views[i]
		}
		r.resps, r.views = resps, views
	}
	r.base = make([]int32, len(r.resps))
	total := 0
	for i, resp := range r.resps {
		r.nodes[resp.Node] = int32(i)
		r.base[i] = int32(total)
		total += len(resp.Dispatchers)
	}
	r.status = make([]uint8, total)
}

// normalize sorts a response's journals and returns the view that orders its dispatchers,
// so that equal contents compare equal (sameResponse). Dispatchers are ordered by id and
// then by every other field, so even a response that repeats an id in another order
// normalizes to the same order.
func normalize(resp protocol.BootstrapAnswer, scratch *[]idKey) (protocol.BootstrapAnswer, view) {
	resp.Removes = sortedJournal(resp.Removes)
	resp.Merges = sortedJournal(resp.Merges)
	return resp, sortDispatchers(resp.Dispatchers, scratch)
}

// sortedJournal returns a copy of j sorted stably by id, or nil when j is empty (an empty
// list and none are the same answer). It sorts indices and copies each record once.
func sortedJournal(j []ops.Record) []ops.Record {
	if len(j) == 0 {
		return nil
	}
	idx := make([]int32, len(j))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(j[a].ID, j[b].ID) })
	out := make([]ops.Record, len(j))
	for k, i := range idx {
		out[k] = j[i]
	}
	return out
}

// sameResponse reports whether two normalized responses have the same contents.
func sameResponse(a protocol.BootstrapAnswer, va view, b protocol.BootstrapAnswer, vb view) bool {
	if a.Node != b.Node || a.Changefeed != b.Changefeed || a.Epoch != b.Epoch || len(a.Dispatchers) != len(b.Dispatchers) ||
		!reflect.DeepEqual(a.Removes, b.Removes) || !reflect.DeepEqual(a.Merges, b.Merges) {
		return false
	}
	for k := range va.perm {
		if a.Dispatchers[va.perm[k]] != b.Dispatchers[vb.perm[k]] {
			return false
		}
	}
	return true
}

func dispatcherCmp(a, b *protocol.Dispatcher) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), ops.CompareSpans(a.Span, b.Span), cmp.Compare(a.State, b.State),
		boolCmp(a.Removing, b.Removing), cmp.Compare(a.Checkpoint, b.Checkpoint))
}

// sortDispatchers returns the view that orders ds. It sorts small pointer-free keys (the
// id's first eight bytes and an index) with a radix sort, then orders the few runs of
// equal prefixes by comparison; it never moves a dispatcher.
func sortDispatchers(ds []protocol.Dispatcher, scratch *[]idKey) view {
	if cap(*scratch) < 2*len(ds) {
		*scratch = make([]idKey, 2*len(ds))
	}
	keys, tmp := (*scratch)[:len(ds)], (*scratch)[len(ds):2*len(ds)]
	for i := range ds {
		keys[i] = idKey{ds[i].ID.Prefix(), int32(i)}
	}
	keys = radixSort(keys, tmp)
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].prefix == keys[lo].prefix {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(keys[lo:hi], func(a, b idKey) int { return dispatcherCmp(&ds[a.i], &ds[b.i]) })
		}
		lo = hi
	}
	v := view{perm: make([]int32, len(ds)), prefix: make([]uint64, len(ds))}
	for k, key := range keys {
		v.perm[k], v.prefix[k] = key.i, key.prefix
	}
	return v
}

// idKey is a dispatcher's id prefix and its index in its response.
type idKey struct {
	prefix uint64
	i      int32
}

// radixSort sorts keys by prefix, stably, one byte at a time from the lowest, skipping the
// bytes every key shares. It returns keys or tmp (as long as keys), whichever ends sorted.
func radixSort(keys, tmp []idKey) []idKey {
	if len(keys) < 64 {
		slices.SortStableFunc(keys, func(a, b idKey) int { return cmp.Compare(a.prefix, b.prefix) })
		return keys
	}
	for shift := 0; shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[byte(k.prefix>>shift)]++
		}
		if count[byte(keys[0].prefix>>shift)] == len(keys) {
			continue
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for _, k := range keys {
			d := byte(k.prefix >> shift)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	default:
		return 1
	}
}

// index validates the reported dispatchers: the usable ones are open, the rest rejected.
func (r *recoverer) index() {
	const malformed = claimed // a temporary mark: nothing is claimed yet
	for ri, resp := range r.resps {
		ds := resp.Dispatchers
		st := r.status[r.base[ri] : int(r.base[ri])+len(ds)]
		for i := range ds {
			if d := &ds[i]; !d.Span.Valid() || d.ID == "" {
				r.reject(resp.Node, "dispatcher "+string(d.ID), fmt.Errorf("%w: %s", ErrMalformedSpan, d.Span))
				st[i] = malformed
			} else {
				st[i] = open
			}
		}
		// Duplicates are neighbours in view order; their prefixes say where to look.
		v := r.views[ri]
		same := func(k, l int) bool {
			return l >= 0 && l < len(v.perm) && v.prefix[k] == v.prefix[l] && ds[v.perm[k]].ID == ds[v.perm[l]].ID
		}
		for k, i := range v.perm {
			if st[i] == malformed {
				continue
			}
			if prev := same(k, k-1); prev || same(k, k+1) {
				if !prev {
					r.reject(resp.Node, "dispatcher "+string(ds[i].ID), ErrDuplicateDispatcher)
				}
				st[i] = unusable
			}
		}
		for i := range st {
			if st[i] == malformed {
				st[i] = unusable
			}
		}
	}
}

// get finds the usable dispatcher id reported by node n.
func (r *recoverer) get(n ops.NodeID, id ops.DispatcherID) (ref, bool) {
	ri, ok := r.nodes[n]
	if !ok {
		return ref{}, false
	}
	// Search the dense prefixes first, then the few ids that share the prefix.
	pre := r.views[ri].prefix
	p := id.Prefix()
	k, _ := slices.BinarySearch(pre, p)
	for ; k < len(pre) && pre[k] == p; k++ {
		x := ref{ri, r.views[ri].perm[k]}
		switch c := cmp.Compare(r.disp(x).ID, id); {
		case c > 0:
			return ref{}, false
		case c == 0:
			return x, *r.slot(x) != unusable
		}
	}
	return ref{}, false
}
