package node

import (
	"fmt"
	"slices"

	"go.uber.org/zap"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Step applies one maintainer request (the spec's DMDeliver). A request the node refuses
// changes nothing and returns a *RefusedError: another changefeed's, an invalid one (its
// cause a *fsm.DecodeError), a Create, Remove or Merge not under the owner epoch or a
// Bootstrap of an older epoch (ErrFenced), a Create that would put two dispatchers that
// are not closing on one key (ErrOverlap), a Merge whose sources do not tile its span or
// that names other sources or another span than the merge of its id in progress
// (ErrBadMerge). The node keeps references to the record's slices: do not
// change them afterwards.
func (n *Node) Step(req protocol.Request) error {
	if req.Changefeed != n.cfg.Changefeed {
		return n.refuse(req, fmt.Errorf("%w: %q", ErrWrongChangefeed, req.Changefeed))
	}
	if err := req.Validate(); err != nil {
		return n.refuse(req, err)
	}
	if req.Kind == protocol.Bootstrap {
		return n.bootstrap(req)
	}
	if req.Epoch != n.owner && !n.bugs.NoEpochFence {
		return n.refuse(req, &fencedError{epoch: req.Epoch, owner: n.owner})
	}
	rec := req.Record // its epoch is the envelope's (Validate)
	switch req.Kind {
	case protocol.Create:
		return n.create(req, rec)
	case protocol.Remove:
		n.remove(rec)
		return nil
	default:
		return n.merge(req, rec)
	}
}

func (n *Node) refuse(req protocol.Request, err error) error {
	e := &RefusedError{Node: n.cfg.Node, Kind: req.Kind, ID: req.Record.ID, Epoch: req.Epoch, Err: err}
	if n.cfg.Logger != nil {
		if ce := n.cfg.Logger.Check(zap.DebugLevel, "request refused"); ce != nil {
			ce.Write(zap.String("node", string(n.cfg.Node)), zap.Stringer("kind", req.Kind), zap.String("id", string(req.Record.ID)),
				zap.Uint64("epoch", uint64(req.Epoch)), zap.Error(err))
		}
	}
	return e
}

// create registers a missing dispatcher Initializing at the record's checkpoint and asks
// the host to create it. A Create for a dispatcher the node has is dropped silently: the
// add completes from the dispatcher's next status.
func (n *Node) create(req protocol.Request, rec ops.Record) error {
	if n.disp.get(rec.ID) != nil {
		return nil
	}
	if n.occupied(rec.Span) {
		return n.refuse(req, fmt.Errorf("%w: %s", ErrOverlap, rec.Span))
	}
	n.add(protocol.Dispatcher{ID: rec.ID, Span: rec.Span, State: ops.Initializing, Checkpoint: rec.Checkpoint})
	n.effect(Effect{Kind: EffectCreate, ID: rec.ID, Span: rec.Span, Checkpoint: rec.Checkpoint})
	return nil
}

// remove starts closing an existing dispatcher and journals the record (a repeat
// overwrites it); a missing one is answered Stopped at once and not journaled, since
// nothing would ever delete the entry.
func (n *Node) remove(rec ops.Record) {
	d := n.disp.get(rec.ID)
	if d == nil {
		if n.bugs.JournalMissingRemove {
			n.writeRemoves().put(rec.ID, rec)
		}
		n.report(ops.Status{ID: rec.ID, State: ops.Stopped})
		return
	}
	if !d.Removing {
		n.write(rec.ID).Removing = true
		n.effect(Effect{Kind: EffectClose, ID: d.ID, Span: d.Span})
	}
	n.writeRemoves().put(rec.ID, rec)
}

// merge journals the request (after the fence: a stale merge is never journaled). It
// starts the merge when the merged dispatcher is missing and every source is Working and
// not closing; and re-reports a Working merged dispatcher. A merge that can neither start
// nor is in progress changes nothing: a journal entry already there belongs to an earlier
// attempt whose merged dispatcher is gone, and the merge check must still abort that one
// so its sources go back to Working (dropping the entry here left them waiting for good).
// A merge that does not fit the
// dispatchers (sources that do not tile its span; a merged id the node has with another
// span, or journaled with other sources) is refused and changes nothing.
func (n *Node) merge(req protocol.Request, rec ops.Record) error {
	merged := n.disp.get(rec.ID)
	switch {
	case merged == nil && n.sourcesWorking(rec.Sources):
		if err := n.mergeable(rec); err != nil {
			return n.refuse(req, err)
		}
		ckpt := n.minSourceCheckpoint(rec.Sources)
		n.add(protocol.Dispatcher{ID: rec.ID, Span: rec.Span, State: ops.Preparing, Checkpoint: ckpt})
		for _, s := range rec.Sources {
			n.write(s).State = ops.WaitingMerge
		}
		n.journalMerge(rec)
		n.effect(Effect{Kind: EffectPrepareMerge, ID: rec.ID, Span: rec.Span, Checkpoint: ckpt, Sources: rec.Sources})
	case merged == nil:
		// Cannot start: sources missing, closing or still waiting for an earlier attempt.
	default:
		if j := n.merges.get(rec.ID); merged.Span != rec.Span || j != nil && (j.Span != rec.Span || !slices.Equal(j.Sources, rec.Sources)) {
			return n.refuse(req, fmt.Errorf("%w: %s is %s, merging %v", ErrBadMerge, rec.ID, merged.Span, n.mergeSources(rec.ID)))
		}
		n.journalMerge(rec)
		if merged.State == ops.Working && !merged.Removing {
			n.report(ops.Status{ID: rec.ID, State: ops.Working, Checkpoint: merged.Checkpoint})
		}
	}
	return nil
}

// journalMerge writes merge rec to the merge journal (seeded bug merge_not_journaled:
// never).
func (n *Node) journalMerge(rec ops.Record) {
	if !n.bugs.MergeNotJournaled {
		n.writeMerges().put(rec.ID, rec)
	}
}

// mergeSources are the sources journaled for merge id, if any.
func (n *Node) mergeSources(id ops.DispatcherID) []ops.DispatcherID {
	if j := n.merges.get(id); j != nil {
		return j.Sources
	}
	return nil
}

// sourcesWorking: every source (a merge record has two or more) exists, Working, not
// closing.
func (n *Node) sourcesWorking(srcs []ops.DispatcherID) bool {
	for _, s := range srcs {
		d := n.disp.get(s)
		if d == nil || d.State != ops.Working || d.Removing {
			return false
		}
	}
	return true
}

// mergeable checks a merge's geometry: its sources, in key order, are adjacent spans of
// one table that tile the merged span. Nothing else that is not closing can overlap it:
// the node's dispatchers that are not closing never overlap (a pre-commit merged
// dispatcher and its waiting sources aside), and the sources are Working.
func (n *Node) mergeable(rec ops.Record) error {
	covered := 0
	pos, done := rec.Span.Start, false
	for range rec.Sources {
		// Find the source that starts at pos: sources are few, a scan is cheapest.
		var next *protocol.Dispatcher
		for _, s := range rec.Sources {
			if d := n.disp.get(s); d.Span.Table == rec.Span.Table && d.Span.Start == pos {
				next = d
				break
			}
		}
		if next == nil || done {
			return fmt.Errorf("%w: nothing of %v starts at %q in %s", ErrBadMerge, rec.Sources, pos, rec.Span)
		}
		covered++
		pos, done = next.Span.End, next.Span.End == ""
	}
	if pos != rec.Span.End || covered != len(rec.Sources) {
		return fmt.Errorf("%w: %v do not end at %s's end", ErrBadMerge, rec.Sources, rec.Span)
	}
	return nil
}

func (n *Node) minSourceCheckpoint(srcs []ops.DispatcherID) uint64 {
	ckpt := n.disp.get(srcs[0]).Checkpoint
	for _, s := range srcs[1:] {
		ckpt = min(ckpt, n.disp.get(s).Checkpoint)
	}
	return ckpt
}

// bootstrap switches the node to a maintainer of its epoch or a newer one, then answers
// with every dispatcher and both journals. The owner changes first, so requests of the
// older maintainer that arrive later are fenced.
func (n *Node) bootstrap(req protocol.Request) error {
	e := req.Epoch
	if e < n.owner && !n.bugs.BootstrapNoFence {
		return n.refuse(req, &fencedError{bootstrap: true, epoch: e, owner: n.owner})
	}
	if e != n.owner && n.cfg.Logger != nil {
		n.cfg.Logger.Info("maintainer changed", zap.String("node", string(n.cfg.Node)), zap.Uint64("from", uint64(n.owner)), zap.Uint64("to", uint64(e)))
	}
	if !n.bugs.BootstrapKeepsOwner {
		n.owner = e
	}
	// The answer owns its records: the host may keep it while the journals change.
	ans := protocol.BootstrapAnswer{Node: n.cfg.Node, Changefeed: n.cfg.Changefeed, Epoch: e, Dispatchers: n.Dispatchers(),
		Removes: cloneRecords(n.RemoveJournal())}
	if !n.bugs.MergeJournalLost {
		ans.Merges = cloneRecords(n.MergeJournal())
	}
	n.answer(ans)
	return nil
}
