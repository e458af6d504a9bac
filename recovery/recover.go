package recovery

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	ops "opfsm/operators"
)

// Decision explains what recovery did with one dispatcher, span or journal entry. It keeps
// its evidence as fields and formats it only when asked, because recovery decides once per
// span and a million spans must not mean a million Sprintf calls.
type Decision struct {
	// Subject is the dispatcher or task id the decision is about.
	Subject ops.DispatcherID
	// Rule is a stable rule name, documented in docs/recovery.md.
	Rule string
	// Node, Span and State are what the deciding report said (zero when not from a report).
	Node  ops.NodeID
	Span  ops.Span
	State ops.ComponentState
	// Detail adds what the fields cannot say.
	Detail string
}

// Evidence formats what made the rule apply.
func (d Decision) Evidence() string {
	var b strings.Builder
	if d.Node != "" {
		fmt.Fprintf(&b, "%s %s on %s", d.Span, d.State, d.Node)
	}
	if d.Detail != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(d.Detail)
	}
	return b.String()
}

// String formats the decision as "subject rule: evidence".
func (d Decision) String() string { return string(d.Subject) + " " + d.Rule + ": " + d.Evidence() }

// Result is the recovered maintainer state.
type Result struct {
	// Controller holds the recovered task registry and operators, ready to run.
	Controller *ops.Controller
	// Messages are the first requests to send: every restored operator's pending request,
	// then one-shot removes of dispatchers that nothing should own, by node and id.
	Messages []ops.Message
	// Decisions is the log of every rule applied, in the order applied.
	Decisions []Decision
	// Rejected lists the parts of the snapshot that were not used.
	Rejected []*Rejection
}

// seededBug switches on a known-wrong variant so tests can prove their checks catch it;
// only tests set it.
var seededBug string

// bugFirstReportWins resolves identical or overlapping spans by response order, as TiCDC's
// btree collapse does (G8). TestOrderIndependenceCatchesSeededBug must fail on it.
const bugFirstReportWins = "g8_first_report_wins"

// recoverer is the working state of one Recover call.
type recoverer struct {
	snap      Snapshot
	live      map[ops.TableID]bool
	nodes     map[ops.NodeID]bool
	resps     []Response // accepted, sorted by node
	reported  map[key]Dispatcher
	claimed   map[key]bool
	byTable   map[ops.TableID][]ops.Span
	c         *ops.Controller
	oneShot   []ops.Message
	decisions []Decision
	rejected  []*Rejection
}

type key struct {
	node ops.NodeID
	id   ops.DispatcherID
}

func (r *recoverer) decide(id ops.DispatcherID, rule, format string, args ...any) {
	r.decisions = append(r.decisions, Decision{Subject: id, Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

// decideReport records a decision about one reported dispatcher, without formatting.
func (r *recoverer) decideReport(n ops.NodeID, d Dispatcher, rule, detail string) {
	r.decisions = append(r.decisions, Decision{Subject: d.ID, Rule: rule, Node: n, Span: d.Span, State: d.State, Detail: detail})
}

func (r *recoverer) reject(node ops.NodeID, what string, err error) {
	r.rejected = append(r.rejected, &Rejection{Node: node, What: what, Err: err})
}

// Recover rebuilds a maintainer's tasks and operators from a bootstrap snapshot. It is a
// pure, deterministic function of the snapshot: the order of responses, of their
// dispatchers and of their journals does not matter, and a response repeated verbatim
// counts once. Only an unusable snapshot is an error; bad parts of it are listed in
// Result.Rejected and the rest is used.
func Recover(s Snapshot) (Result, error) {
	if s.Changefeed == "" || s.Epoch == 0 {
		return Result{}, fmt.Errorf("recovery: %w: changefeed %q epoch %d", ErrInvalidSnapshot, s.Changefeed, s.Epoch)
	}
	r := &recoverer{
		snap: s, live: make(map[ops.TableID]bool, len(s.Tables)), nodes: make(map[ops.NodeID]bool),
	}
	total := 0
	for _, resp := range s.Responses {
		total += len(resp.Dispatchers)
	}
	r.reported = make(map[key]Dispatcher, total)
	r.claimed = make(map[key]bool, total)
	r.decisions = make([]Decision, 0, total+total/8)
	r.c = ops.NewController(ops.Config{Changefeed: s.Changefeed, Epoch: s.Epoch, Capacity: total + len(s.Tables)})
	for _, t := range s.Tables {
		r.live[t] = true
	}
	r.fence()
	r.index()
	r.restoreMerges()
	r.restoreJournals()
	r.droppedTables()
	r.adopt()
	r.fillHoles()
	msgs := r.c.Pending()
	slices.SortFunc(r.oneShot, func(a, b ops.Message) int {
		return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(a.Record.ID, b.Record.ID))
	})
	msgs = append(msgs, r.oneShot...)
	slices.SortFunc(r.rejected, func(a, b *Rejection) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.What, b.What), cmp.Compare(a.Err.Error(), b.Err.Error()))
	})
	return Result{Controller: r.c, Messages: msgs, Decisions: r.decisions, Rejected: r.rejected}, nil
}

// fence keeps the responses of this changefeed and epoch, one per node (3.1, 3.7, 25c).
func (r *recoverer) fence() {
	byNode := make(map[ops.NodeID][]Response)
	for _, resp := range r.snap.Responses {
		switch {
		case resp.Changefeed != r.snap.Changefeed:
			r.reject(resp.Node, "response", fmt.Errorf("%w: %q", ErrWrongChangefeed, resp.Changefeed))
		case resp.Epoch != r.snap.Epoch:
			r.reject(resp.Node, "response", fmt.Errorf("%w: %d (want %d)", ErrStaleEpoch, resp.Epoch, r.snap.Epoch))
		default:
			byNode[resp.Node] = append(byNode[resp.Node], normalize(resp))
		}
	}
	var order []ops.NodeID
	seen := make(map[ops.NodeID]bool)
	for _, resp := range r.snap.Responses {
		if _, ok := byNode[resp.Node]; ok && !seen[resp.Node] {
			seen[resp.Node] = true
			order = append(order, resp.Node)
		}
	}
	for _, node := range order {
		rs := byNode[node]
		same := true
		for _, x := range rs[1:] {
			same = same && reflect.DeepEqual(x, rs[0])
		}
		if !same {
			r.reject(node, "response", fmt.Errorf("%w: %d different answers", ErrConflictingResponses, len(rs)))
			continue
		}
		r.resps = append(r.resps, rs[0])
		r.nodes[node] = true
	}
	if seededBug != bugFirstReportWins {
		slices.SortFunc(r.resps, func(a, b Response) int { return cmp.Compare(a.Node, b.Node) })
	}
}

// normalize sorts a response's lists so that equal contents compare equal.
func normalize(resp Response) Response {
	resp.Dispatchers = slices.Clone(resp.Dispatchers)
	slices.SortStableFunc(resp.Dispatchers, func(a, b Dispatcher) int { return cmp.Compare(a.ID, b.ID) })
	resp.Journal = slices.Clone(resp.Journal)
	slices.SortStableFunc(resp.Journal, func(a, b JournalEntry) int {
		return cmp.Or(cmp.Compare(a.Record.ID, b.Record.ID), cmp.Compare(a.Action, b.Action))
	})
	resp.MergeJournal = slices.Clone(resp.MergeJournal)
	slices.SortStableFunc(resp.MergeJournal, func(a, b ops.Record) int { return cmp.Compare(a.ID, b.ID) })
	return resp
}

// index validates and indexes the reported dispatchers.
func (r *recoverer) index() {
	for _, resp := range r.resps {
		for i, d := range resp.Dispatchers {
			k := key{resp.Node, d.ID}
			switch {
			case !d.Span.Valid() || d.ID == "":
				r.reject(resp.Node, "dispatcher "+string(d.ID), fmt.Errorf("%w: %s", ErrMalformedSpan, d.Span))
				continue
			case i > 0 && resp.Dispatchers[i-1].ID == d.ID, i+1 < len(resp.Dispatchers) && resp.Dispatchers[i+1].ID == d.ID:
				if i == 0 || resp.Dispatchers[i-1].ID != d.ID {
					r.reject(resp.Node, "dispatcher "+string(d.ID), ErrDuplicateDispatcher)
				}
				continue
			}
			r.reported[k] = d
		}
	}
}

func (r *recoverer) get(n ops.NodeID, id ops.DispatcherID) (Dispatcher, bool) {
	d, ok := r.reported[key{n, id}]
	return d, ok
}

// committed reports whether a merged dispatcher passed the commit point (2.2).
func committed(st ops.ComponentState) bool { return st == ops.Initializing || st == ops.Working }

// restoreMerges applies 3.4 with the journal's full record: each merge resumes or is
// resolved by its commit point.
func (r *recoverer) restoreMerges() {
	for _, resp := range r.resps {
		for _, rec := range resp.MergeJournal {
			n := resp.Node
			what := "merge journal " + string(rec.ID)
			if rec.Changefeed != r.snap.Changefeed || rec.Type != ops.TypeMerge || rec.Origin != n {
				r.reject(n, what, fmt.Errorf("%w: %s record from %s for origin %s", ErrBadJournal, rec.Type, rec.Changefeed, rec.Origin))
				continue
			}
			if !r.live[rec.Span.Table] {
				continue // droppedTables removes whatever is left of it
			}
			target, hasTarget := r.get(n, rec.ID)
			var srcs []Dispatcher
			allWaiting := true
			for _, s := range rec.Sources {
				d, ok := r.get(n, s)
				if ok {
					srcs = append(srcs, d)
				}
				allWaiting = allWaiting && ok && d.State == ops.WaitingMerge
			}
			switch {
			case hasTarget && target.State == ops.Working:
				// Merge done: keep the merged dispatcher, forget the sources (3.4 step 4).
				r.adoptTask(n, target, ops.Replicating)
				for _, s := range srcs {
					r.claimRemoving(n, s, "3.4-merge-done-source")
				}
				r.decide(rec.ID, "3.4-merge-done", "merged %s reported Working on %s", rec.ID, n)
			case hasTarget && (committed(target.State) || allWaiting) && len(srcs) == len(rec.Sources):
				// Committed, or pre-commit with full evidence: resume the merge exactly.
				r.resumeMerge(n, rec, target, srcs)
			case hasTarget && committed(target.State):
				// Committed but a source was already swept: the merged span is the survivor.
				r.adoptTask(n, target, ops.Replicating)
				for _, s := range srcs {
					r.claimRemoving(n, s, "3.4-merge-committed-source")
				}
				r.decide(rec.ID, "3.4-merge-committed-partial", "merged %s %s, %d of %d sources left", rec.ID, target.State, len(srcs), len(rec.Sources))
			case hasTarget:
				// Pre-commit without full evidence: the manager aborts the merge and its sources
				// return to Working, so they keep their tasks; the target is removed (G6).
				for _, s := range srcs {
					if !s.Removing {
						r.adoptTask(n, s, ops.Replicating)
					}
				}
				r.cleanup(n, target, "G6-abort-precommit-target")
			default:
				r.decide(rec.ID, "3.4-merge-stale-journal", "no merged dispatcher on %s; sources are adopted as they are", n)
			}
		}
	}
}

func (r *recoverer) resumeMerge(n ops.NodeID, rec ops.Record, target Dispatcher, srcs []Dispatcher) {
	for _, s := range srcs {
		r.adoptTask(n, s, ops.Scheduling)
		occ := ops.Record{Changefeed: r.snap.Changefeed, ID: s.ID, Type: ops.TypeOccupy, State: "Holding", Epoch: r.snap.Epoch, Span: s.Span, Origin: n}
		r.restore(n, occ)
	}
	r.adoptTask(n, target, ops.Scheduling)
	rec.State = "Running"
	rec.Span = target.Span
	r.restore(n, rec)
	r.decide(rec.ID, "3.4-merge-resume", "merged %s %s on %s with sources %v", rec.ID, target.State, n, rec.Sources)
}

// restoreJournals applies 3.3 with full records: each operator resumes in the state its
// record and the reports imply.
func (r *recoverer) restoreJournals() {
	for _, resp := range r.resps {
		n := resp.Node
		for _, e := range resp.Journal {
			rec := e.Record
			what := "journal " + string(rec.ID)
			if rec.Changefeed != r.snap.Changefeed {
				r.reject(n, what, fmt.Errorf("%w: changefeed %q", ErrBadJournal, rec.Changefeed))
				continue
			}
			if !r.live[rec.Span.Table] {
				continue // dropped: droppedTables decides (C6, G5)
			}
			if _, ok := r.c.Operator(rec.ID); ok {
				r.decide(rec.ID, "3.3-journal-superseded", "an operator for %s was already restored", rec.ID)
				continue
			}
			d, here := r.get(n, rec.ID)
			switch {
			case e.Action == ops.Create && (rec.Type == ops.TypeAdd || rec.Type == ops.TypeMove) && n == rec.Dest:
				r.restoreCreate(n, rec, d, here)
			case e.Action == ops.Remove && n == rec.Origin && (rec.Type == ops.TypeRemove || rec.Type == ops.TypeMove || rec.Type == ops.TypeSplit):
				r.restoreRemove(n, rec, d, here)
			default:
				r.reject(n, what, fmt.Errorf("%w: %s of a %s operator at node %s", ErrBadJournal, e.Action, rec.Type, n))
			}
		}
	}
}

func (r *recoverer) restoreCreate(n ops.NodeID, rec ops.Record, d Dispatcher, here bool) {
	switch {
	case here && d.State == ops.Working:
		r.adoptTask(n, d, ops.Replicating)
		r.decide(rec.ID, "3.3-create-done", "%s already Working on %s", rec.ID, n)
	case here:
		r.adoptTask(n, d, ops.Scheduling)
		rec.Type, rec.State, rec.Origin = ops.TypeAdd, "Running", ""
		r.restore(n, rec)
		r.decide(rec.ID, "3.3-create-resume", "%s %s on %s: waiting for Working", rec.ID, d.State, n)
	default:
		if err := r.c.AddTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: n}); err != nil {
			r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: %v", ErrBadJournal, err))
			return
		}
		if rec.Type == ops.TypeMove {
			rec.State = "AddDest"
		} else {
			rec.State = "Running"
		}
		r.restore(n, rec)
		r.decide(rec.ID, "3.3-create-restore", "Create of %s journaled on %s, dispatcher not there yet", rec.ID, n)
	}
}

func (r *recoverer) restoreRemove(n ops.NodeID, rec ops.Record, d Dispatcher, here bool) {
	if !here {
		// The origin already closed the dispatcher: the remove phase is over.
		switch rec.Type {
		case ops.TypeMove:
			if r.nodes[rec.Dest] {
				if err := r.c.AddTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: rec.Dest}); err == nil {
					rec.State = "AddDest"
					r.restore(n, rec)
					r.decide(rec.ID, "G4-move-continue-add-dest", "origin %s closed %s; move resumes towards %s", n, rec.ID, rec.Dest)
				}
				return
			}
		case ops.TypeSplit:
			if err := r.c.AddTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: n}); err == nil {
				rec.State = "Done"
				r.restore(n, rec)
				r.decide(rec.ID, "G4-split-finish", "origin %s closed %s; split into %v", n, rec.ID, rec.SplitSpans)
			}
			return
		}
		r.decide(rec.ID, "3.3-remove-done", "%s no longer on %s", rec.ID, n)
		return
	}
	sched := ops.Scheduling
	if rec.Type == ops.TypeRemove {
		sched = ops.Replicating
		rec.Hook = ops.HookDelete
	}
	r.adoptTask(n, d, sched)
	if rec.Type == ops.TypeMove && !r.nodes[rec.Dest] {
		rec.State = "AbortRemoveOrigin"
	}
	r.restore(n, rec)
	r.decide(rec.ID, "3.3-remove-resume", "%s %s on %s: %s resumes in %s", rec.ID, d.State, n, rec.Type, rec.State)
}

// droppedTables removes every reported dispatcher of a table that is not alive (C6, G5,
// L5): one remove operator per id, one-shot removes for the same id on other nodes.
func (r *recoverer) droppedTables() {
	var keys []key
	for k, d := range r.reported {
		if !r.live[d.Span.Table] && !r.claimed[k] {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.node, b.node)) })
	for _, k := range keys {
		r.claimed[k] = true
		r.removeWithoutTask(k.node, r.reported[k], "C6-dropped-table")
	}
}

// adopt turns the remaining reported dispatchers of live tables into Replicating tasks,
// accepting them greedily in a fixed order so no two active dispatchers overlap (S1, G3,
// G8); the rest are cleaned up.
func (r *recoverer) adopt() {
	type cand struct {
		k key
		d Dispatcher
	}
	var candCmp func(a, b *cand) int
	cands := make([]cand, 0, len(r.reported)-len(r.claimed))
	for _, resp := range r.resps {
		for _, d := range resp.Dispatchers {
			k := key{resp.Node, d.ID}
			if rd, ok := r.reported[k]; ok && !r.claimed[k] {
				r.claimed[k] = true // claimed now; cleanup and adoptTask claim again harmlessly
				cands = append(cands, cand{k, rd})
			}
		}
	}
	rank := func(d Dispatcher) int {
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
	candCmp = func(a, b *cand) int {
		return cmp.Or(cmp.Compare(rank(a.d), rank(b.d)), spanCmp(a.d.Span, b.d.Span), cmp.Compare(a.k.id, b.k.id), cmp.Compare(a.k.node, b.k.node))
	}
	if seededBug == bugFirstReportWins {
		// TiCDC's G8: identical spans collapse and the report that came first wins.
		candCmp = func(a, b *cand) int { return cmp.Or(cmp.Compare(rank(a.d), rank(b.d)), spanCmp(a.d.Span, b.d.Span)) }
	}
	r.byTable = r.spansByTable()
	byTable := r.byTable
	order := make([]int32, len(cands))
	for i := range order {
		order[i] = int32(i)
	}
	// Sorting indices moves 4 bytes per swap instead of a whole candidate.
	slices.SortStableFunc(order, func(i, j int32) int { return candCmp(&cands[i], &cands[j]) })
	for _, i := range order {
		c := &cands[i]
		if c.d.Removing || !(committed(c.d.State) || c.d.State == ops.WaitingMerge) {
			rule := "3.5-not-active"
			if c.d.State == ops.Preparing || c.d.State == ops.MergeReady {
				rule = "G6-abort-precommit-target"
			}
			r.cleanup(c.k.node, c.d, rule)
			continue
		}
		if other, ok := overlapping(byTable[c.d.Span.Table], c.d.Span); ok || r.hasTask(c.d.ID) {
			r.cleanup(c.k.node, c.d, "G8-overlap")
			r.decisions[len(r.decisions)-1].Detail += " (overlaps " + other.String() + " or its id is taken)"
			continue
		}
		byTable[c.d.Span.Table] = append(byTable[c.d.Span.Table], c.d.Span)
		r.adoptTask(c.k.node, c.d, ops.Replicating)
		r.decideReport(c.k.node, c.d, "3.2-adopt", "")
	}
}

func spanCmp(a, b ops.Span) int {
	switch {
	case a == b:
		return 0
	case a.Less(b):
		return -1
	default:
		return 1
	}
}

// overlapping returns an accepted span of the same table that overlaps s. Tables hold few
// spans each, so a scan beats an interval tree here.
func overlapping(accepted []ops.Span, s ops.Span) (ops.Span, bool) {
	for _, a := range accepted {
		if a.Overlaps(s) {
			return a, true
		}
	}
	return ops.Span{}, false
}

func (r *recoverer) hasTask(id ops.DispatcherID) bool {
	_, ok := r.c.Task(id)
	return ok
}

// fillHoles adds an Absent task for every uncovered range of a live table (3.2 holes),
// with an id derived from the epoch and the range, so it is the same whatever the order.
func (r *recoverer) fillHoles() {
	byTable := r.byTable // every task so far: adopt collected them and added what it accepted
	tables := slices.Clone(r.snap.Tables)
	slices.Sort(tables)
	tables = slices.Compact(tables)
	for _, tb := range tables {
		for _, h := range holes(tb, byTable[tb]) {
			id := ops.DispatcherID("t" + strconv.FormatInt(int64(tb), 10) + "-e" + strconv.FormatUint(uint64(r.snap.Epoch), 10) + "-" + h.Start)
			if err := r.c.AddTask(ops.Task{ID: id, Span: h, Sched: ops.Absent}); err != nil {
				continue // cannot happen: ids are unique per table start key
			}
			r.decisions = append(r.decisions, Decision{Subject: id, Rule: "3.2-hole", Span: h, Detail: "uncovered"})
		}
	}
}

// spansByTable groups the spans of every task by table.
func (r *recoverer) spansByTable() map[ops.TableID][]ops.Span {
	byTable := make(map[ops.TableID][]ops.Span, len(r.snap.Tables))
	r.c.EachTask(func(t ops.Task) {
		byTable[t.Span.Table] = append(byTable[t.Span.Table], t.Span)
	})
	return byTable
}

// holes returns the ranges of table tb that spans (which may overlap) leave uncovered.
func holes(tb ops.TableID, spans []ops.Span) []ops.Span {
	slices.SortFunc(spans, spanCmp)
	var out []ops.Span
	pos, done := "", false
	for _, s := range spans {
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
func (r *recoverer) adoptTask(n ops.NodeID, d Dispatcher, sched ops.Sched) {
	r.claimed[key{n, d.ID}] = true
	if _, ok := r.c.Task(d.ID); ok {
		return
	}
	_ = r.c.AddTask(ops.Task{ID: d.ID, Span: d.Span, Sched: sched, Node: n, Checkpoint: d.Checkpoint})
}

// claimRemoving marks a reported dispatcher as handled without a task: it is already being
// closed by its manager (a merge source after the commit point).
func (r *recoverer) claimRemoving(n ops.NodeID, d Dispatcher, rule string) {
	r.claimed[key{n, d.ID}] = true
	r.decideReport(n, d, rule, "closing")
}

// cleanup removes a reported dispatcher that no task may own.
func (r *recoverer) cleanup(n ops.NodeID, d Dispatcher, rule string) {
	r.claimed[key{n, d.ID}] = true
	r.removeWithoutTask(n, d, rule)
}

func (r *recoverer) removeWithoutTask(n ops.NodeID, d Dispatcher, rule string) {
	rec := ops.Record{Changefeed: r.snap.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: "Running", Epoch: r.snap.Epoch, Span: d.Span, Origin: n}
	_, hasOp := r.c.Operator(d.ID)
	_, hasTask := r.c.Task(d.ID)
	if hasOp || hasTask {
		r.oneShot = append(r.oneShot, ops.Message{To: n, Kind: ops.Remove, Record: rec})
		r.decideReport(n, d, rule, "one-shot remove (the id is owned elsewhere)")
		return
	}
	r.restore(n, rec)
	r.decideReport(n, d, rule, "remove operator without task")
}

func (r *recoverer) restore(n ops.NodeID, rec ops.Record) {
	if err := r.c.Restore(rec); err != nil {
		r.reject(n, "journal "+string(rec.ID), fmt.Errorf("%w: %v", ErrBadJournal, err))
	}
}
