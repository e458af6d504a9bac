package recovery

import (
	"fmt"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

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
// target's table that tile the target's span, as StartMerge requires of a new merge.
func (r *recoverer) mergeGeometry(srcs []ref, target ops.Span) error {
	spans := make([]ops.Span, len(srcs))
	for i, x := range srcs {
		spans[i] = r.disp(x).Span
	}
	slices.SortFunc(spans, ops.CompareSpans)
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
		occ := ops.Record{Changefeed: r.snap.Changefeed, ID: s.ID, Type: ops.TypeOccupy, State: ops.OccupyHolding, Epoch: r.snap.Epoch, Span: s.Span, Origin: n}
		r.restore(n, occ)
	}
	r.adoptTask(tx, ops.Scheduling)
	target := r.disp(tx)
	rec.State = ops.MergeRunning
	rec.Span = target.Span
	r.restore(n, rec)
	r.decideText(rec.ID, ruleMergeResume, "merged "+string(rec.ID)+" "+target.State.String()+" on "+string(n)+" with sources "+idList(rec.Sources))
}
