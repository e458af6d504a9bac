package recovery

import (
	"fmt"

	ops "github.com/opfsm/opfsm/operators"
)

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
	rec := ops.Record{Changefeed: r.snap.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: r.snap.Epoch,
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
	rec := ops.Record{Changefeed: r.snap.Changefeed, ID: d.ID, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: r.snap.Epoch, Span: d.Span, Origin: n}
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
