package recovery

import (
	"fmt"
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

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
			r.restore(n, ops.Record{Changefeed: r.snap.Changefeed, ID: rec.ID, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: r.snap.Epoch,
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
					rec.State = ops.MoveAddDest
					r.restore(n, rec)
					r.decideText(rec.ID, ruleMoveContinueAddDest, "origin "+string(n)+" closed "+string(rec.ID)+"; move resumes towards "+string(rec.Dest))
				}
				return
			}
		case ops.TypeSplit:
			if err := r.addTask(ops.Task{ID: rec.ID, Span: rec.Span, Sched: ops.Scheduling, Node: n, Checkpoint: r.ckpt(rec.Checkpoint)}); err == nil {
				rec.State = ops.SplitDone
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
		rec.State = ops.MoveAbortRemoveOrigin
	}
	detail := string(rec.ID) + " " + r.disp(x).State.String() + " on " + string(n) + ": " + rec.Type.String() + " resumes in " + rec.StateName()
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
	slices.SortFunc(spans, ops.CompareSpans)
	for _, h := range ops.AppendHoles(nil, t.Span.Table, len(spans), func(i int) *ops.Span { return &spans[i] }) {
		_ = c.AddTask(ops.Task{ID: holeID(h, cr.epoch), Span: h, Sched: ops.Absent, Checkpoint: cr.checkpoint}) // uncovered: no task has its id
	}
}
