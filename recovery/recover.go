package recovery

import (
	"cmp"
	"fmt"
	"slices"
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

// recoverer is the working state of one Recover call. Reported dispatchers are not copied
// into maps: each is addressed by a ref into its response's dispatcher list (sorted by id),
// and its status lives in one flat slice, so a million spans cost a few flat allocations.
type recoverer struct {
	snap       protocol.Snapshot
	live       map[ops.TableID]int32 // live table -> its index in tables, unless...
	liveDense  []int32               // ...the ids are dense: liveDense[t-liveLo], -1 if dropped
	liveLo     ops.TableID
	tables     []ops.TableID              // live tables, sorted, unique
	nodes      map[ops.NodeID]int32       // accepted node -> its index in resps
	resps      []protocol.BootstrapAnswer // accepted, sorted by node; dispatchers as reported
	views      []view                     // views[i] orders resps[i]'s dispatchers
	base       []int32                    // base[i] is the index in status of resps[i]'s first dispatcher
	status     []uint8                    // per reported dispatcher, as reported: unusable, open or claimed
	spans      tableSpans                 // the spans of every task so far, by live table (set by adopt)
	order      []ref                      // adopt's candidates in the order it decides them
	c          *ops.Controller
	repair     *coverageRepair
	added      []ops.Span // the spans of the tasks added before adopt, unless...
	changed    bool       // ...a restored operator finished at once and changed the registry
	batch      []ops.Task // adoptGroup's buffer
	temp       []tempSpan // spans adopt kept as temporary coverage, for fillHoles
	claims     []ref      // reports that may serve keys, by live table (contested.go)...
	claimStart []int32    // ...those of table t are claims[claimStart[t]:claimStart[t+1]]
	intents    []intent   // spans resumed moves and splits will create...
	intentHead []int32    // ...a list per live table, from intentHead[t]
	bug        string     // a seeded bug (seeded.go), "" in every real use
	slow       slowPath   // plain ways instead of fast ones (options.go), for tests
	oneShot    []ops.Message
	strays     []Stray
	log        Decisions
	rejected   []*Rejection
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
	r := &recoverer{snap: s, nodes: make(map[ops.NodeID]int32, len(s.Answers)), bug: o.bug, slow: o.slow}
	r.tables = slices.Clone(s.Tables)
	slices.Sort(r.tables)
	r.tables = slices.Compact(r.tables)
	if n := len(r.tables); n > 0 && r.slow&mapTables == 0 && uint64(r.tables[n-1]-r.tables[0]) < uint64(4*n+64) {
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
