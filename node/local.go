package node

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The host's events: what its dispatchers did. Each returns ErrNotEnabled (and changes
// nothing) when the node's view does not allow it.

// Working: dispatcher id received its first event (the spec's DMWorking). The node
// reports it Working.
func (n *Node) Working(id ops.DispatcherID) error {
	d := n.disp.get(id)
	if d == nil || d.State != ops.Initializing || d.Removing {
		return n.notEnabled("Working", id)
	}
	d = n.write(id)
	d.State = ops.Working
	n.report(ops.Status{ID: id, State: ops.Working, Checkpoint: d.Checkpoint})
	n.trace(ActWorking, id)
	return nil
}

// Prepared: merged dispatcher id finished preparing (DMPrepared); the merge check may
// now commit it.
func (n *Node) Prepared(id ops.DispatcherID) error {
	d := n.disp.get(id)
	if d == nil || d.State != ops.Preparing || d.Removing {
		return n.notEnabled("Prepared", id)
	}
	n.write(id).State = ops.MergeReady
	n.trace(ActPrepared, id)
	return nil
}

// PrepareFailed: merged dispatcher id failed before its merge committed (the host could
// not prepare it: DMPrepareFail, a fault). The node closes it (EffectClose; call Closed
// when it has), and the merge check then aborts the merge and resumes the sources; the
// maintainer's resent merge starts it again. Only a Preparing or MergeReady dispatcher
// that is not closing can fail this way.
func (n *Node) PrepareFailed(id ops.DispatcherID) error {
	d := n.disp.get(id)
	if d == nil || !CanFailPrepare(*d) {
		return n.notEnabled("PrepareFailed", id)
	}
	d = n.write(id)
	d.Removing = true
	n.effect(Effect{Kind: EffectClose, ID: id, Span: d.Span})
	n.trace(ActPrepareFail, id)
	return nil
}

// CanFailPrepare reports whether dispatcher d is a merged dispatcher that may still fail
// before its merge commits: Preparing or MergeReady, and not closing. PrepareFailed is
// enabled exactly for those.
func CanFailPrepare(d protocol.Dispatcher) bool {
	return (d.State == ops.Preparing || d.State == ops.MergeReady) && !d.Removing
}

// Closed: dispatcher id, which the node asked to close, has closed with its final
// checkpoint (the sweep, DMSweep). The node deletes it and its remove journal entry and
// reports it Stopped. A merged dispatcher that never committed is swept too (opfsm's fix
// of TiCDC's G6).
func (n *Node) Closed(id ops.DispatcherID, checkpoint uint64) error {
	d := n.disp.get(id)
	if d == nil || !n.sweepable(d) {
		return n.notEnabled("Closed", id)
	}
	st := ops.Status{ID: id, State: ops.Stopped, Checkpoint: max(d.Checkpoint, checkpoint)}
	n.drop(id, d.Span.Table)
	n.report(st)
	n.trace(ActSweep, id)
	return nil
}

// Advanced: dispatcher id's checkpoint reached checkpoint; the next status of it reports
// it. A checkpoint never goes back: a lower one is ignored.
func (n *Node) Advanced(id ops.DispatcherID, checkpoint uint64) error {
	d := n.disp.get(id)
	if d == nil {
		return n.notEnabled("Advanced", id)
	}
	if checkpoint > d.Checkpoint {
		n.write(id).Checkpoint = checkpoint
	}
	return nil
}

func (n *Node) sweepable(d *protocol.Dispatcher) bool {
	if !d.Removing {
		return false
	}
	pre := d.State == ops.Preparing || d.State == ops.MergeReady
	return !(n.bugs.SweepSkipsPreCommit && pre)
}

// The node's own checks. Tick runs every one that is enabled; a model checker runs them
// one at a time.

// CommitMerge is the commit point of merge id (DMCommit): the merged dispatcher is
// MergeReady and every source still waits for it; the sources close and the merged
// dispatcher starts (Initializing) at the lowest source checkpoint.
func (n *Node) CommitMerge(id ops.DispatcherID) error {
	if !n.committable(id) {
		return n.notEnabled("CommitMerge", id)
	}
	srcs := n.merges.get(id).Sources
	ckpt := n.minSourceCheckpoint(srcs)
	d := n.write(id)
	d.State, d.Checkpoint = ops.Initializing, ckpt
	for _, s := range srcs {
		n.write(s).Removing = true
	}
	n.effect(Effect{Kind: EffectCommitMerge, ID: id, Span: d.Span, Checkpoint: d.Checkpoint, Sources: srcs})
	n.trace(ActCommit, id)
	return nil
}

// committable: a journaled merge whose MergeReady target's sources all still wait for it
// and tile its span (a merge journaled by older code may not; such a merge aborts).
func (n *Node) committable(id ops.DispatcherID) bool {
	d, rec := n.disp.get(id), n.merges.get(id)
	if d == nil || rec == nil || d.State != ops.MergeReady || d.Removing {
		return false
	}
	for _, s := range rec.Sources {
		if sd := n.disp.get(s); sd == nil || sd.State != ops.WaitingMerge || sd.Removing {
			return false
		}
	}
	return n.mergeable(*rec) == nil
}

// AbortMerge aborts journaled merge id (DMAbortMerge) when its merged dispatcher is
// missing, or when the merge is pre-commit and one of its members is missing or closing
// (TiCDC's shouldAbortMerge): the sources that wait for it and are not closing go back to
// Working (a source that waits for another journaled merge is that merge's; a source the
// commit closed stays closing, or it would serve its keys again beside the merged
// dispatcher that moved away), the merged dispatcher, if there, closes, the journal entry
// is deleted (so an aborted merge is not aborted again).
func (n *Node) AbortMerge(id ops.DispatcherID) error {
	if !n.abortable(id) {
		return n.notEnabled("AbortMerge", id)
	}
	rec := n.merges.get(id)
	srcs := rec.Sources
	for _, s := range srcs {
		if sd := n.disp.get(s); sd != nil && sd.State == ops.WaitingMerge && !sd.Removing && !n.waitsForOther(s, id) {
			n.write(s).State = ops.Working
		}
	}
	if d := n.disp.get(id); d != nil {
		n.write(id).Removing = true
	}
	n.effect(Effect{Kind: EffectAbortMerge, ID: id, Span: rec.Span, Sources: srcs})
	n.unjournal(partMerges, &n.merges, id)
	n.trace(ActAbortMerge, id)
	return nil
}

// waitsForOther reports whether source s is a source of a journaled merge other than id
// whose merged dispatcher has not committed and is not closing.
func (n *Node) waitsForOther(s, id ops.DispatcherID) bool {
	waits := false
	n.merges.each(func(other ops.DispatcherID, rec *ops.Record) {
		if waits || other == id || !slices.Contains(rec.Sources, s) {
			return
		}
		if d := n.disp.get(other); d != nil && !d.Removing && (d.State == ops.Preparing || d.State == ops.MergeReady) {
			waits = true
		}
	})
	return waits
}

// abortable: a journaled merge whose merged dispatcher is missing, or a journaled
// pre-commit merge one of whose members is missing or closing, or whose sources do not
// tile its span.
func (n *Node) abortable(id ops.DispatcherID) bool {
	d, rec := n.disp.get(id), n.merges.get(id)
	if rec == nil {
		return false
	}
	if d == nil {
		return !n.bugs.AbortIgnoresMissingTarget
	}
	if d.State != ops.Preparing && d.State != ops.MergeReady {
		return false
	}
	if d.Removing {
		return true
	}
	for _, s := range rec.Sources {
		if sd := n.disp.get(s); sd == nil || sd.State != ops.WaitingMerge || sd.Removing {
			return true
		}
	}
	return n.mergeable(*rec) != nil // sources that do not tile the span: it can never commit
}

// CleanupMergeJournal drops merge id's journal entry once the merge is over
// (DMJournalCleanup): no dispatcher inside the merged span still waits for a merge, and
// whatever covers the whole span is Working. By span, as the spec (whose ids are spans)
// sees it: a later incarnation of a source span does not hold the entry; a closing source
// of this merge does.
func (n *Node) CleanupMergeJournal(id ops.DispatcherID) error {
	if !n.cleanable(id) {
		return n.notEnabled("CleanupMergeJournal", id)
	}
	n.unjournal(partMerges, &n.merges, id)
	n.trace(ActJournalCleanup, id)
	return nil
}

func (n *Node) cleanable(id ops.DispatcherID) bool {
	rec := n.merges.get(id)
	if rec == nil {
		return false
	}
	busy := n.anyOfTable(rec.Span.Table, func(d *protocol.Dispatcher) bool {
		return rec.Span.Contains(d.Span) &&
			((d.Span == rec.Span && d.State != ops.Working) || (d.Span != rec.Span && d.State == ops.WaitingMerge))
	})
	return !busy
}

// Tick is the node's clock: it re-reports every Working dispatcher that is not closing
// (the heartbeat, so a lost status cannot stall an operator), then runs every merge check
// that is enabled (commit, abort, journal cleanup), in merged id order.
func (n *Node) Tick() {
	n.scratch = n.disp.ids(n.scratch[:0])
	for _, id := range n.scratch {
		if d := n.disp.get(id); d.State == ops.Working && !d.Removing {
			n.report(ops.Status{ID: id, State: ops.Working, Checkpoint: d.Checkpoint})
			n.trace(ActHeartbeat, id)
		}
	}
	n.scratch = n.merges.ids(n.scratch[:0])
	for _, id := range n.scratch {
		switch {
		case n.committable(id):
			_ = n.CommitMerge(id)
		case n.abortable(id):
			_ = n.AbortMerge(id)
		}
		if n.cleanable(id) {
			_ = n.CleanupMergeJournal(id)
		}
	}
}

// trace tells Config.Trace about a step taken.
func (n *Node) trace(k ActionKind, id ops.DispatcherID) {
	if n.cfg.Trace != nil {
		n.cfg.Trace(Action{Kind: k, ID: id})
	}
}

func (n *Node) notEnabled(what string, id ops.DispatcherID) error {
	return fmt.Errorf("node %s: %w: %s(%s)", n.cfg.Node, ErrNotEnabled, what, id)
}

// ActionKind is a local step of a node, named as the spec names it.
type ActionKind uint8

// The local steps: the host's events and the node's checks.
const (
	ActWorking ActionKind = iota
	ActPrepared
	ActCommit
	ActAbortMerge
	ActSweep
	ActJournalCleanup
	// ActHeartbeat is Tick re-reporting a Working dispatcher: only Config.Trace sees it
	// (Enabled never lists it and Apply refuses it).
	ActHeartbeat
	// ActPrepareFail is PrepareFailed, a fault: Enabled never lists it (a simulator
	// bounds and injects it); Apply takes it.
	ActPrepareFail
)

var actionNames = [...]string{"DMWorking", "DMPrepared", "DMCommit", "DMAbortMerge", "DMSweep", "DMJournalCleanup", "DMHeartbeat",
	"DMPrepareFail"}

// String is the spec's action name.
func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// ParseActionKind maps a spec action name back to its kind.
func ParseActionKind(name string) (ActionKind, bool) {
	for i, a := range actionNames {
		if a == name {
			return ActionKind(i), true
		}
	}
	return 0, false
}

// Action is one local step a node could take now, for simulators and model checkers,
// which let any enabled step happen next where a real host waits for its dispatchers.
type Action struct {
	Kind ActionKind
	ID   ops.DispatcherID
}

// String is the step as the spec labels it, e.g. DMSweep(d1).
func (a Action) String() string { return a.Kind.String() + "(" + string(a.ID) + ")" }

// Enabled lists the local steps enabled now, by id and then by name: a dispatcher that
// may become Working or prepared, a merge that may commit or abort, a closing dispatcher
// that may be swept, a merge journal entry that may be cleaned up.
func (n *Node) Enabled() []Action {
	var out []Action
	ids := n.disp.ids(nil) // not n.scratch: Enabled only reads, so it may run concurrently
	for _, id := range ids {
		d := n.disp.get(id)
		switch {
		case d.State == ops.Preparing && !d.Removing:
			out = append(out, Action{ActPrepared, id})
		case d.State == ops.Initializing && !d.Removing:
			out = append(out, Action{ActWorking, id})
		}
		if n.abortable(id) {
			out = append(out, Action{ActAbortMerge, id})
		}
		if n.committable(id) {
			out = append(out, Action{ActCommit, id})
		}
		if n.sweepable(d) {
			out = append(out, Action{ActSweep, id})
		}
	}
	ids = n.merges.ids(ids[:0])
	for _, id := range ids {
		if n.disp.get(id) == nil && n.abortable(id) {
			out = append(out, Action{ActAbortMerge, id}) // its merged dispatcher is gone
		}
		if n.cleanable(id) {
			out = append(out, Action{ActJournalCleanup, id})
		}
	}
	sortActions(out)
	return out
}

// sortActions orders actions by id, then name.
func sortActions(out []Action) {
	slices.SortFunc(out, func(a, b Action) int {
		return cmp.Or(strings.Compare(string(a.ID), string(b.ID)), strings.Compare(a.Kind.String(), b.Kind.String()))
	})
}

// Apply takes local step a (a sweep with checkpoint 0), or the fault ActPrepareFail.
func (n *Node) Apply(a Action) error {
	switch a.Kind {
	case ActWorking:
		return n.Working(a.ID)
	case ActPrepared:
		return n.Prepared(a.ID)
	case ActCommit:
		return n.CommitMerge(a.ID)
	case ActAbortMerge:
		return n.AbortMerge(a.ID)
	case ActSweep:
		return n.Closed(a.ID, 0)
	case ActJournalCleanup:
		return n.CleanupMergeJournal(a.ID)
	case ActPrepareFail:
		return n.PrepareFailed(a.ID)
	}
	return n.notEnabled(a.Kind.String(), a.ID)
}
