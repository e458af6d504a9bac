package recovery

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Result is the recovered maintainer state.
type Result struct {
	// Controller holds the recovered task registry and operators, ready to run.
	Controller *ops.Controller
	// Messages are the first requests to send: every restored operator's pending request,
	// then one-shot removes of dispatchers that nothing should own, by node and id.
	Messages []ops.Message
	// Strays are the dispatchers among those one-shot removes that were not closing when
	// reported, by node and id: each may serve its keys until its node reports it stopped,
	// and the one-shot remove is not tracked by any operator, so whoever sends the
	// Messages must not create anything over those keys on another node until then (the
	// maintainer holds such requests).
	Strays []Stray
	// Decisions is the log of every rule applied, in the order applied.
	Decisions Decisions
	// Rejected lists the parts of the snapshot that were not used.
	Rejected []*Rejection
}

// Stray is a dispatcher recovery removed with a one-shot request, not yet known to be
// closing: Node may serve Span through it until it reports ID stopped.
type Stray struct {
	Node ops.NodeID
	ID   ops.DispatcherID
	Span ops.Span
}

// scanRegistry makes adopt always scan the registry for the tasks added so far, as it does
// when a restored operator changed it; tests set it to check that both ways agree.
var scanRegistry bool

// recoverer is the working state of one Recover call. Reported dispatchers are not copied
// into maps: each is addressed by a ref into its response's dispatcher list (sorted by id),
// and its status lives in one flat slice, so a million spans cost a few flat allocations.
type recoverer struct {
	snap      protocol.Snapshot
	live      map[ops.TableID]int32 // live table -> its index in tables, unless...
	liveDense []int32               // ...the ids are dense: liveDense[t-liveLo], -1 if dropped
	liveLo    ops.TableID
	tables    []ops.TableID              // live tables, sorted, unique
	nodes     map[ops.NodeID]int32       // accepted node -> its index in resps
	resps     []protocol.BootstrapAnswer // accepted, sorted by node; dispatchers as reported
	views     []view                     // views[i] orders resps[i]'s dispatchers
	base      []int32                    // base[i] is the index in status of resps[i]'s first dispatcher
	status    []uint8                    // per reported dispatcher, as reported: unusable, open or claimed
	spans     tableSpans                 // the spans of every task so far, by live table (set by adopt)
	order     []ref                      // adopt's candidates in the order it decides them
	c         *ops.Controller
	repair    *coverageRepair
	added     []ops.Span   // the spans of the tasks added before adopt, unless...
	changed   bool         // ...a restored operator finished at once and changed the registry
	batch     []ops.Task   // adoptGroup's buffer
	temp      []tempSpan   // spans adopt kept as temporary coverage, for fillHoles
	claims    [][]ref      // by live table: reports that may serve keys (contested)
	intents   [][]ops.Span // by live table: spans resumed moves and splits will create
	bug       string       // a seeded bug (seeded.go), "" in every real use
	oneShot   []ops.Message
	strays    []Stray
	log       Decisions
	rejected  []*Rejection
}

// liveIndex returns table t's index in tables, and whether it is live.
func (r *recoverer) liveIndex(t ops.TableID) (int32, bool) {
	if r.liveDense != nil {
		if t < r.liveLo || uint64(t-r.liveLo) >= uint64(len(r.liveDense)) {
			return 0, false
		}
		i := r.liveDense[t-r.liveLo]
		return i, i >= 0
	}
	i, ok := r.live[t]
	return i, ok
}

// ref addresses one reported dispatcher: resps[r].Dispatchers[i], as reported. Passes
// that need no order walk the dispatchers as reported, which is sequential in memory.
type ref struct{ r, i int32 }

// view orders a response's dispatchers by id (then by every other field) without copying
// them: perm[k] is the index of the k-th, prefix[k] the first eight bytes of its id.
type view struct {
	perm   []int32
	prefix []uint64
}

// The status of a reported dispatcher.
const (
	unusable uint8 = iota // rejected (malformed or duplicated): as if not reported
	open                  // not decided yet
	claimed               // a rule decided it
)

func (r *recoverer) disp(x ref) *protocol.Dispatcher { return &r.resps[x.r].Dispatchers[x.i] }
func (r *recoverer) nodeOf(x ref) ops.NodeID         { return r.resps[x.r].Node }
func (r *recoverer) slot(x ref) *uint8               { return &r.status[r.base[x.r]+x.i] }
func (r *recoverer) claim(x ref)                     { *r.slot(x) = claimed }

func (r *recoverer) decide(id ops.DispatcherID, rl rule, format string, args ...any) {
	r.log.addText(id, rl, ops.Span{}, fmt.Sprintf(format, args...))
}

// decideText records a decision whose detail is already a string: the journal rules
// build theirs by concatenation, one allocation instead of fmt's boxing and formatting.
func (r *recoverer) decideText(id ops.DispatcherID, rl rule, detail string) {
	r.log.addText(id, rl, ops.Span{}, detail)
}

// idList formats ids as fmt's %v does: [a b c].
func idList(ids []ops.DispatcherID) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(id))
	}
	b.WriteByte(']')
	return b.String()
}

// decideReport records a decision about one reported dispatcher: a 16-byte entry that
// refers to the report, formatted only when the log is read.
func (r *recoverer) decideReport(x ref, rl rule, d detail) {
	r.log.addReport(x, rl, d)
}

func (r *recoverer) reject(node ops.NodeID, what string, err error) {
	r.rejected = append(r.rejected, &Rejection{Node: node, What: what, Err: err})
}

// Recover rebuilds a maintainer's tasks and operators from a bootstrap snapshot. It is a
// pure, deterministic function of the snapshot: the order of responses, of their
// dispatchers and of their journals does not matter, and a response repeated verbatim
// counts once. Only an unusable snapshot is an error; bad parts of it are listed in
// Result.Rejected and the rest is used. Result.Decisions reads the reports from the
// snapshot's dispatcher lists: keep them unchanged while it is used.
func Recover(s protocol.Snapshot, opts ...Option) (Result, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if s.Changefeed == "" || s.Epoch == 0 {
		return Result{}, fmt.Errorf("recovery: %w: changefeed %q epoch %d", ErrInvalidSnapshot, s.Changefeed, s.Epoch)
	}
	r := &recoverer{snap: s, nodes: make(map[ops.NodeID]int32, len(s.Answers)), bug: o.bug}
	r.tables = slices.Clone(s.Tables)
	slices.Sort(r.tables)
	r.tables = slices.Compact(r.tables)
	if n := len(r.tables); n > 0 && !mapTables && uint64(r.tables[n-1]-r.tables[0]) < uint64(4*n+64) {
		// Table ids are usually dense: index them by offset, no hashing, no cache miss.
		r.liveLo = r.tables[0]
		r.liveDense = make([]int32, r.tables[n-1]-r.tables[0]+1)
		for i := range r.liveDense {
			r.liveDense[i] = -1
		}
		for i, t := range r.tables {
			r.liveDense[t-r.liveLo] = int32(i)
		}
	} else {
		r.live = make(map[ops.TableID]int32, len(r.tables))
		for i, t := range r.tables {
			r.live[t] = int32(i)
		}
	}
	r.fence()
	total := len(r.status)
	// Sized up front: about one decision per report and per journal entry (fillHoles grows
	// it once for the holes), and about one task per report.
	journals := 0
	for _, resp := range r.resps {
		journals += len(resp.Removes) + len(resp.Merges)
	}
	r.log.entries = make([]entry, 0, total+journals)
	r.log.texts = make([]text, 0, journals)
	r.added = make([]ops.Span, 0, 2*journals) // a journal entry adds a task or two (a merge, three)
	r.repair = &coverageRepair{epoch: s.Epoch, checkpoint: s.Checkpoint, tables: r.tables}
	r.c = ops.NewController(ops.Config{Changefeed: s.Changefeed, Epoch: s.Epoch, Capacity: total, TaskDeleted: r.repair,
		Observer: o.observer, Logger: o.logger})
	r.index()
	r.restoreMerges()
	r.restoreJournals()
	r.adopt() // includes the dropped tables (C6), decided first
	r.fillHoles()
	r.repair.active = true
	msgs := r.c.Pending()
	slices.SortFunc(r.oneShot, func(a, b ops.Message) int {
		return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(a.Record.ID, b.Record.ID))
	})
	msgs = append(msgs, r.oneShot...)
	slices.SortFunc(r.strays, func(a, b Stray) int { return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(r.rejected, func(a, b *Rejection) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.What, b.What), cmp.Compare(a.Err.Error(), b.Err.Error()))
	})
	r.log.resps = r.resps
	if o.logger != nil {
		tasks, opsN := r.c.Len()
		o.logger.Info("recovered", zap.String("changefeed", string(s.Changefeed)), zap.Uint64("epoch", uint64(s.Epoch)),
			zap.Int("answers", len(r.resps)), zap.Int("tasks", tasks), zap.Int("operators", opsN),
			zap.Int("decisions", r.log.Len()), zap.Int("rejected", len(r.rejected)))
	}
	return Result{Controller: r.c, Messages: msgs, Strays: r.strays, Decisions: r.log, Rejected: r.rejected}, nil
}

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
	return cmp.Or(cmp.Compare(a.ID, b.ID), spanCmp(a.Span, b.Span), cmp.Compare(a.State, b.State),
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

// committed reports whether a merged dispatcher passed the commit point (2.2).
func committed(st ops.ComponentState) bool { return st == ops.Initializing || st == ops.Working }

// restoreMerges applies 3.4 with the journal's full record: each merge resumes or is
// resolved by its commit point.
func (r *recoverer) restoreMerges() {
	for _, resp := range r.resps {
		for _, rec := range resp.Merges {
			n := resp.Node
			if rec.Changefeed != r.snap.Changefeed || rec.Type != ops.TypeMerge || rec.Origin != n {
				r.reject(n, "merge journal "+string(rec.ID), fmt.Errorf("%w: %s record from %s for origin %s", ErrBadJournal, rec.Type, rec.Changefeed, rec.Origin))
				continue
			}
			if _, live := r.liveIndex(rec.Span.Table); !live {
				continue // the dropped-table rule removes whatever is left of it
			}
			tx, hasTarget := r.get(n, rec.ID)
			var srcs []ref
			allWaiting := true
			for _, s := range rec.Sources {
				x, ok := r.get(n, s)
				if ok {
					srcs = append(srcs, x)
				}
				// A source being removed (a later Remove won) is no evidence for the merge.
				allWaiting = allWaiting && ok && r.disp(x).State == ops.WaitingMerge && (!r.disp(x).Removing || r.bug == bugRemovingSourceIsEvidence)
			}
			var target protocol.Dispatcher
			contested := false
			if hasTarget {
				target = *r.disp(tx)
				// Another report, or a merge resumed before, may serve these keys: the merge
				// is not resumed, and adopt decides its dispatchers like every other report.
				contested = r.contested(target.Span, n, append([]ops.DispatcherID{rec.ID}, rec.Sources...)...) && r.bug != bugResumeContested
			}
			if hasTarget && !target.Removing && len(srcs) == len(rec.Sources) && !committed(target.State) && allWaiting && r.bug != bugMergeGeometryUnchecked {
				if err := r.mergeGeometry(srcs, target.Span); err != nil {
					// Full evidence of a merge that cannot be: its target would serve keys no
					// source covers. The journal is no evidence; the node may still commit it,
					// so the target covers its span until its remove is done (then the gap is
					// filled), and the sources keep their tasks.
					r.reject(n, "merge journal "+string(rec.ID), fmt.Errorf("%w: %w", ErrBadJournal, err))
					r.coverThenRemove(tx, ruleAbortPrecommitTarget) // the sources are adopt's to decide
					continue
				}
			}
			switch {
			case hasTarget && target.Removing:
				// The target is closing: the merge will not finish, and its node aborts it if it
				// can; the sources that wait are adopt's to decide, the target is its node's to
				// sweep.
				r.claimRemoving(tx, ruleAbortPrecommitTarget)
			case hasTarget && target.State == ops.Working:
				// Merge done: keep the merged dispatcher, forget the sources (3.4 step 4).
				if !contested {
					r.adoptTask(tx, ops.Replicating)
				}
				for _, s := range srcs {
					r.claimRemoving(s, ruleMergeDoneSource)
				}
				r.decideText(rec.ID, ruleMergeDone, "merged "+string(rec.ID)+" reported Working on "+string(n))
			case hasTarget && (committed(target.State) || allWaiting) && len(srcs) == len(rec.Sources) && r.idsFree(rec.ID, rec.Sources) && !contested:
				// Committed, or pre-commit with full evidence: resume the merge exactly.
				r.resumeMerge(rec, tx, srcs)
				r.intend(target.Span)
			case hasTarget && committed(target.State):
				// Committed but a source was already swept: the merged span is the survivor.
				if !contested {
					r.adoptTask(tx, ops.Replicating)
				}
				for _, s := range srcs {
					r.claimRemoving(s, ruleMergeCommittedSource)
				}
				r.decide(rec.ID, ruleMergeCommittedPartial, "merged %s %s, %d of %d sources left", rec.ID, target.State, len(srcs), len(rec.Sources))
			case hasTarget:
				// Pre-commit without full evidence: the manager aborts the merge and its sources
				// return to Working, so adopt decides them as it decides every report that may
				// serve keys (they are adopted unless another report wins their keys); the
				// target is removed (G6).
				if r.bug == bugPrecommitTargetAdopted {
					r.adoptTask(tx, ops.Replicating)
					continue
				}
				if allWaiting && len(srcs) == len(rec.Sources) {
					// Every source waits (a merge whose ids another report holds): the node
					// may still commit it, so the target covers its span until removed.
					r.coverThenRemove(tx, ruleAbortPrecommitTarget)
					continue
				}
				r.cleanup(tx, ruleAbortPrecommitTarget)
			default:
				r.decide(rec.ID, ruleMergeStaleJournal, "no merged dispatcher on %s; sources are adopted as they are", n)
			}
		}
	}
}

// idsFree reports whether no task or operator holds any of ids yet: a merge resumes only
// on ids that are its own, not a report's of the same id elsewhere.
func (r *recoverer) idsFree(target ops.DispatcherID, sources []ops.DispatcherID) bool {
	for _, id := range append([]ops.DispatcherID{target}, sources...) {
		if _, op := r.c.Operator(id); op || r.hasTask(id) {
			return false
		}
	}
	return true
}

// mergeGeometry checks that the reported sources, in key order, are adjacent spans of the
// target's table that tile the target's span, as AddMerge requires of a new merge.
func (r *recoverer) mergeGeometry(srcs []ref, target ops.Span) error {
	spans := make([]ops.Span, len(srcs))
	for i, x := range srcs {
		spans[i] = r.disp(x).Span
	}
	slices.SortFunc(spans, spanCmp)
	pos := target.Start
	for i, s := range spans {
		if s.Table != target.Table || s.Start != pos || (s.End == "" && i < len(spans)-1) {
			return fmt.Errorf("sources %v do not tile the merged span %s", spans, target)
		}
		pos = s.End
	}
	if pos != target.End {
		return fmt.Errorf("sources %v do not tile the merged span %s", spans, target)
	}
	return nil
}

func (r *recoverer) resumeMerge(rec ops.Record, tx ref, srcs []ref) {
	n := r.nodeOf(tx)
	for _, x := range srcs {
		s := r.disp(x)
		r.adoptTask(x, ops.Scheduling)
		occ := ops.Record{Changefeed: r.snap.Changefeed, ID: s.ID, Type: ops.TypeOccupy, State: "Holding", Epoch: r.snap.Epoch, Span: s.Span, Origin: n}
		r.restore(n, occ)
	}
	r.adoptTask(tx, ops.Scheduling)
	target := r.disp(tx)
	rec.State = "Running"
	rec.Span = target.Span
	r.restore(n, rec)
	r.decideText(rec.ID, ruleMergeResume, "merged "+string(rec.ID)+" "+target.State.String()+" on "+string(n)+" with sources "+idList(rec.Sources))
}

// restoreJournals applies 3.3 with full records: each operator resumes in the state its
// record and the reports imply.
func (r *recoverer) restoreJournals() {
	for _, resp := range r.resps {
		n := resp.Node
		for _, rec := range resp.Removes {
			if rec.Changefeed != r.snap.Changefeed {
				r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: changefeed %q", ErrBadJournal, rec.Changefeed))
				continue
			}
			if _, live := r.liveIndex(rec.Span.Table); !live {
				continue // dropped: the dropped-table rule decides (C6, G5)
			}
			if _, ok := r.c.Operator(rec.ID); ok {
				r.decide(rec.ID, ruleJournalSuperseded, "an operator for %s was already restored", rec.ID)
				continue
			}
			x, here := r.get(n, rec.ID)
			if n != rec.Origin || (rec.Type != ops.TypeRemove && rec.Type != ops.TypeMove && rec.Type != ops.TypeSplit) {
				r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: a Remove of a %s operator from origin %q at node %s", ErrBadJournal, rec.Type, rec.Origin, n))
				continue
			}
			if here && r.disp(x).Span != rec.Span {
				// Not the record of this dispatcher: the report decides.
				r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: a Remove of %s, but %s is %s", ErrBadJournal, rec.Span, rec.ID, r.disp(x).Span))
				continue
			}
			r.restoreRemove(n, rec, x, here)
		}
	}
}

func (r *recoverer) restoreRemove(n ops.NodeID, rec ops.Record, x ref, here bool) {
	if (rec.Type == ops.TypeMove || rec.Type == ops.TypeSplit) && r.contested(rec.Span, n, rec.ID) && r.bug != bugResumeContested {
		// Another node may serve these keys: resuming would create the destination (or the
		// halves) beside it. The remove finishes; the keys are whoever's recovery gives them.
		if here && r.disp(x).Removing {
			r.claim(x)
			r.restore(n, ops.Record{Changefeed: r.snap.Changefeed, ID: rec.ID, Type: ops.TypeRemove, State: "Running", Epoch: r.snap.Epoch,
				Span: rec.Span, Origin: n, Checkpoint: rec.Checkpoint})
		}
		r.decideText(rec.ID, ruleResumeContested, "a "+rec.Type.String()+" of "+rec.Span.String()+" on "+string(n)+": another node may serve it; not resumed")
		return
	}
	if rec.Type == ops.TypeMove || rec.Type == ops.TypeSplit {
		r.intend(rec.Span)
	}
	if !here {
		// The origin already closed the dispatcher: the remove phase is over.
		switch rec.Type {
		case ops.TypeMove:
			if _, ok := r.nodes[rec.Dest]; ok {
				if err := r.addTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: rec.Dest, Checkpoint: r.ckpt(rec.Checkpoint)}); err == nil {
					rec.State = "AddDest"
					r.restore(n, rec)
					r.decideText(rec.ID, ruleMoveContinueAddDest, "origin "+string(n)+" closed "+string(rec.ID)+"; move resumes towards "+string(rec.Dest))
				}
				return
			}
		case ops.TypeSplit:
			if err := r.addTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: n, Checkpoint: r.ckpt(rec.Checkpoint)}); err == nil {
				rec.State = "Done"
				r.restore(n, rec)
				r.decide(rec.ID, ruleSplitFinish, "origin %s closed %s; split into %v", n, rec.ID, rec.SplitSpans)
			}
			return
		}
		r.decideText(rec.ID, ruleRemoveDone, string(rec.ID)+" no longer on "+string(n))
		return
	}
	sched := ops.Scheduling
	if rec.Type == ops.TypeRemove {
		sched = ops.Replicating
		rec.Hook = ops.HookDelete
	}
	r.adoptTask(x, sched)
	if _, ok := r.nodes[rec.Dest]; rec.Type == ops.TypeMove && !ok {
		rec.State = "AbortRemoveOrigin"
	}
	detail := string(rec.ID) + " " + r.disp(x).State.String() + " on " + string(n) + ": " + rec.Type.String() + " resumes in " + rec.State
	if r.restore(n, rec) && rec.Type == ops.TypeRemove {
		r.repair.expect(rec.ID)
		detail += "; coverage repaired when it finishes"
	}
	r.decideText(rec.ID, ruleRemoveResume, detail)
}

// coverageRepair finishes what a restored standalone remove of a live table leaves behind
// (domain.md 3.3, C10; TiCDC's repairBootstrapTableCoverage): when the remove deletes its
// task, every range of the table then uncovered gets an Absent task, with the id fillHoles
// would give it. It holds only what that needs, not the recoverer, since the controller
// keeps it for as long as it lives (and clones it with itself).
type coverageRepair struct {
	epoch      ops.Epoch
	checkpoint uint64                    // where a repaired range starts: the snapshot's checkpoint
	tables     []ops.TableID             // the snapshot's live tables, sorted: nothing else is repaired
	pending    map[ops.DispatcherID]bool // restored standalone removes not finished yet
	active     bool                      // off while Recover runs: fillHoles covers what it leaves
}

func (cr *coverageRepair) expect(id ops.DispatcherID) {
	if cr.pending == nil {
		cr.pending = make(map[ops.DispatcherID]bool)
	}
	cr.pending[id] = true
}

// Clone is ops.TaskHook's: the copy has its own pending set.
func (cr *coverageRepair) Clone() ops.TaskHook {
	d := *cr
	d.pending = maps.Clone(cr.pending)
	return &d
}

// TaskDeleted is ops.TaskHook's: it repairs the coverage of t's table in c.
func (cr *coverageRepair) TaskDeleted(c *ops.Controller, t ops.Task) {
	if !cr.pending[t.ID] {
		return // not a restored standalone remove: a remove the scheduler chose deletes only
	}
	delete(cr.pending, t.ID)
	if _, live := slices.BinarySearch(cr.tables, t.Span.Table); !cr.active || !live {
		return
	}
	var spans []ops.Span
	c.EachTask(func(o ops.Task) {
		if o.Span.Table == t.Span.Table {
			spans = append(spans, o.Span)
		}
	})
	slices.SortFunc(spans, spanCmp)
	for _, h := range holes(nil, t.Span.Table, len(spans), func(i int) *ops.Span { return &spans[i] }) {
		_ = c.AddTask(ops.Task{ID: holeID(h, cr.epoch), Span: h, Sched: ops.Absent, Checkpoint: cr.checkpoint}) // uncovered: no task has its id
	}
}

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
	if r.changed || scanRegistry {
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
		if c := spanCmp(da.Span, db.Span); c != 0 {
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
			// TiCDC's G8: identical spans collapse and the report that came first wins.
			slices.SortStableFunc(group, func(a, b ref) int { return spanCmp(r.disp(a).Span, r.disp(b).Span) })
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
	slow := oneByOne
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
		if scanAccepted {
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

// scanAccepted makes adopt check every accepted span of a table for overlap, not only the
// last its group accepted; tests set it to check that both ways agree.
var scanAccepted bool

// mapTables makes Recover index live tables by a map even when their ids are dense; tests
// set it to check that both ways agree.
var mapTables bool

// oneByOne makes adopt add its tasks one AddTask at a time even when it could batch them;
// tests set it to check that both ways agree.
var oneByOne bool

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

// spanCmp orders spans as ops.Span.Less does (table, start, then end with "" last),
// comparing each key once.
func spanCmp(a, b ops.Span) int {
	if a.Table != b.Table {
		return cmp.Compare(a.Table, b.Table)
	}
	if c := strings.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	switch {
	case a.End == b.End:
		return 0
	case a.End == "":
		return 1
	case b.End == "":
		return -1
	default:
		return strings.Compare(a.End, b.End)
	}
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
			slices.SortFunc(spans, spanCmp)
			all = holes(all, tb, len(spans), func(i int) *ops.Span { return &spans[i] })
			continue
		}
		sorted := true
		for i := 1; i < len(refs) && sorted; i++ {
			sorted = spanCmp(*at(i - 1), *at(i)) <= 0
		}
		if !sorted {
			slices.SortFunc(refs, func(a, b int32) int { return spanCmp(*r.spanAt(a), *r.spanAt(b)) })
		}
		all = holes(all, tb, len(refs), at)
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

// holes appends to out the ranges of table tb that n spans, sorted and possibly
// overlapping, leave uncovered; at(i) is the i-th.
func holes(out []ops.Span, tb ops.TableID, n int, at func(i int) *ops.Span) []ops.Span {
	pos, done := "", false
	for i := 0; i < n; i++ {
		s := at(i)
		if done {
			break
		}
		if s.Start > pos {
			out = append(out, ops.Span{Table: tb, Start: pos, End: s.Start})
		}
		if s.End == "" {
			done = true
		} else if s.End > pos {
			pos = s.End
		}
	}
	if !done {
		out = append(out, ops.Span{Table: tb, Start: pos, End: ""})
	}
	return out
}

// adoptTask records a task for a reported dispatcher and claims the report.
func (r *recoverer) adoptTask(x ref, sched ops.Sched) {
	r.claim(x)
	d := r.disp(x)
	// A task with its id already there is kept: AddTask refuses it, one lookup, not two.
	_ = r.addTask(ops.Task{ID: d.ID, Span: d.Span, Sched: sched, Node: r.nodeOf(x), Checkpoint: r.ckpt(d.Checkpoint)})
}

// claimRemoving marks a reported dispatcher as handled without a task: it is already being
// closed by its manager (a merge source after the commit point).
func (r *recoverer) claimRemoving(x ref, rl rule) {
	r.claim(x)
	r.decideReport(x, rl, detailClosing)
}

// cleanup removes a reported dispatcher that no task may own.
func (r *recoverer) cleanup(x ref, rl rule) {
	r.claim(x)
	r.removeWithoutTask(x, rl)
}

// coverThenRemove decides a reported dispatcher that must go, but may still serve its
// keys: it is kept as a Replicating task under a remove operator that deletes the task
// when the dispatcher has stopped and then repairs the table's coverage (TiCDC's
// temporary coverage, addBootstrapCleanupOperator), so no task for those keys is
// scheduled elsewhere while it may still serve them. When the id is taken by a task or an
// operator, the dispatcher gets a one-shot remove instead.
func (r *recoverer) coverThenRemove(x ref, rl rule) {
	d, n := r.disp(x), r.nodeOf(x)
	if _, hasOp := r.c.Operator(d.ID); hasOp || r.hasTask(d.ID) {
		r.cleanup(x, rl)
		return
	}
	r.claim(x)
	// Not r.addTask: a temporary task claims no keys against the reports adopt decides; it
	// only keeps fillHoles from scheduling them (r.temp).
	if err := r.c.AddTask(ops.Task{ID: d.ID, Span: d.Span, Sched: ops.Replicating, Node: n, Checkpoint: r.ckpt(d.Checkpoint)}); err != nil {
		r.removeWithoutTask(x, rl) // an empty node name, which a report does not have
		return
	}
	if ti, live := r.liveIndex(d.Span.Table); live {
		r.temp = append(r.temp, tempSpan{ti, d.Span})
	}
	rec := ops.Record{Changefeed: r.snap.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: "Running", Epoch: r.snap.Epoch,
		Span: d.Span, Origin: n, Hook: ops.HookDelete, Checkpoint: d.Checkpoint}
	if r.restore(n, rec) {
		r.repair.expect(d.ID)
	}
	r.decideReport(x, rl, detailTempCover)
}

// tempSpan is a span of live table ti kept as temporary coverage.
type tempSpan struct {
	ti   int32
	span ops.Span
}

func (r *recoverer) removeWithoutTask(x ref, rl rule) {
	d, n := r.disp(x), r.nodeOf(x)
	rec := ops.Record{Changefeed: r.snap.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: "Running", Epoch: r.snap.Epoch, Span: d.Span, Origin: n}
	_, hasOp := r.c.Operator(d.ID)
	if hasOp || r.hasTask(d.ID) {
		r.oneShot = append(r.oneShot, ops.Message{To: n, Kind: ops.Remove, Record: rec})
		if !d.Removing && r.bug != bugStraysUnlisted {
			r.strays = append(r.strays, Stray{Node: n, ID: d.ID, Span: d.Span})
		}
		r.decideReport(x, rl, detailOneShot)
		return
	}
	r.restore(n, rec)
	r.decideReport(x, rl, detailRemoveOperator)
}

// restore restores an operator from rec, or rejects the journal entry it came from. It
// reports whether the operator is now in flight: restored and not finished at once (a
// terminal record finishes at once and may change the registry).
func (r *recoverer) restore(n ops.NodeID, rec ops.Record) bool {
	tasks, opsN := r.c.Len()
	if err := r.c.Restore(rec); err != nil {
		r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: %w", ErrBadJournal, err))
		return false
	}
	// Restoring adds exactly one operator and no task unless the operator finished: its
	// effects delete it (and may add or delete tasks and start others).
	if t, o := r.c.Len(); t != tasks || o != opsN+1 {
		r.changed = true
		return false
	}
	return true
}

// ckpt is where a task recovery creates starts: its evidence c (a reported or journaled
// checkpoint), but never behind the snapshot's checkpoint, below which every key's data has
// been written (the changefeed checkpoint never goes backwards; S12).
func (r *recoverer) ckpt(c uint64) uint64 { return max(c, r.snap.Checkpoint) }

// addTask adds a task and remembers its span for adopt.
func (r *recoverer) addTask(t ops.Task) error {
	err := r.c.AddTask(t)
	if err == nil {
		r.added = append(r.added, t.Span)
	}
	return err
}
