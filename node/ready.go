package node

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// EffectKind is what the host must do to its dispatchers.
type EffectKind uint8

// The effects.
const (
	// EffectCreate: create dispatcher ID for Span, starting at Checkpoint; call Working
	// when it receives its first event.
	EffectCreate EffectKind = iota
	// EffectClose: close dispatcher ID; call Closed when it has.
	EffectClose
	// EffectPrepareMerge: prepare merged dispatcher ID for Span, to start at Checkpoint;
	// Sources stop and wait for it. Call Prepared when it is ready.
	EffectPrepareMerge
	// EffectCommitMerge: close the Sources (call Closed for each) and start merged
	// dispatcher ID at Checkpoint (call Working on its first event).
	EffectCommitMerge
	// EffectAbortMerge: resume the Sources and close merged dispatcher ID (call Closed).
	EffectAbortMerge
)

var effectNames = [...]string{"Create", "Close", "PrepareMerge", "CommitMerge", "AbortMerge"}

// String returns the effect's name.
func (k EffectKind) String() string {
	if int(k) < len(effectNames) {
		return effectNames[k]
	}
	return "EffectKind(?)"
}

// Effect is one thing the host must do to its dispatchers.
type Effect struct {
	Kind       EffectKind
	ID         ops.DispatcherID
	Span       ops.Span
	Checkpoint uint64
	// Sources are a merge's sources (shared with the node's journal: read only).
	Sources []ops.DispatcherID
}

// Ready is what the node has for the host since the last Advance. Its slices belong to
// the node and stay valid until Advance.
type Ready struct {
	// Reports are the statuses to send to the maintainer, in order, grouped by the owner
	// epoch they were sent under (an epoch changes when a bootstrap arrives).
	Reports []protocol.StatusReport
	// Effects are what the host must do to its dispatchers, in order.
	Effects []Effect
	// Answers are bootstrap answers, each for the maintainer of its epoch.
	Answers []protocol.BootstrapAnswer
}

// outbox is what the node has produced and the host has not taken yet; ready marks how
// much of it the last Ready returned.
type outbox struct {
	statuses []ops.Status
	epochs   []ops.Epoch
	effects  []Effect
	answers  []protocol.BootstrapAnswer
	reports  []protocol.StatusReport // Ready's grouping, rebuilt by each Ready
	marked   [3]int                  // statuses, effects, answers returned by the last Ready
}

func (o *outbox) status(s ops.Status, e ops.Epoch) {
	o.statuses = append(o.statuses, s)
	o.epochs = append(o.epochs, e)
}

func (o *outbox) effect(e Effect) { o.effects = append(o.effects, e) }

// clone returns a copy of o that shares nothing with it, down to its effects' sources
// and its answers' contents, so that what a host does to one's Ready never shows in the
// other's. Ready's reports are left out: the next Ready rebuilds them.
func (o *outbox) clone() outbox {
	d := outbox{statuses: slices.Clone(o.statuses), epochs: slices.Clone(o.epochs), effects: slices.Clone(o.effects),
		answers: slices.Clone(o.answers), marked: o.marked}
	for i := range d.effects {
		d.effects[i].Sources = slices.Clone(d.effects[i].Sources)
	}
	for i := range d.answers {
		a := &d.answers[i]
		a.Dispatchers = slices.Clone(a.Dispatchers)
		a.Removes = cloneRecords(slices.Clone(a.Removes))
		a.Merges = cloneRecords(slices.Clone(a.Merges))
	}
	return d
}

// HasReady reports whether Ready has anything.
func (n *Node) HasReady() bool {
	o := &n.out
	return len(o.statuses) > 0 || len(o.effects) > 0 || len(o.answers) > 0
}

// Ready returns everything produced since the last Advance. Events stepped between Ready
// and Advance are kept for the next Ready.
func (n *Node) Ready() Ready {
	o := n.writeOut()
	o.reports = o.reports[:0]
	for lo := 0; lo < len(o.statuses); {
		hi := lo + 1
		for hi < len(o.statuses) && o.epochs[hi] == o.epochs[lo] {
			hi++
		}
		o.reports = append(o.reports, protocol.StatusReport{Changefeed: n.cfg.Changefeed, Node: n.cfg.Node, Epoch: o.epochs[lo],
			Statuses: o.statuses[lo:hi:hi]})
		lo = hi
	}
	o.marked = [3]int{len(o.statuses), len(o.effects), len(o.answers)}
	return Ready{Reports: o.reports, Effects: o.effects[:len(o.effects):len(o.effects)], Answers: o.answers[:len(o.answers):len(o.answers)]}
}

// Advance tells the node the host has taken the last Ready: it forgets what that Ready
// returned.
func (n *Node) Advance() {
	o := n.writeOut()
	o.statuses = shift(o.statuses, o.marked[0])
	o.epochs = shift(o.epochs, o.marked[0])
	o.effects = shift(o.effects, o.marked[1])
	o.answers = shift(o.answers, o.marked[2])
	o.marked = [3]int{}
}

// shift drops the first k elements of s in place, clearing what it vacates.
func shift[T any](s []T, k int) []T {
	if k == 0 {
		return s
	}
	n := copy(s, s[k:])
	clear(s[n:])
	return s[:n]
}
