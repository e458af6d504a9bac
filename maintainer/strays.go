package maintainer

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

// Strays are the dispatchers recovery removed with a one-shot request while they were not
// closing (recovery.Result.Strays): no operator tracks them, and each may serve its keys
// until its node reports it stopped. Until then the maintainer holds every Create and
// Merge to another node over those keys (a request to the stray's own node follows the
// remove on the same stream, and the node refuses what overlaps a dispatcher it still
// runs), resends the remove every ResendTicks ticks, and sends the held requests that are
// still current once no stray covers their keys. Without strays, which only snapshots no
// run of the protocol produces have, none of this costs anything.

// stray is a recovery.Stray and when its remove was last sent.
type stray struct {
	recovery.Stray
	sent uint64
}

// Strays lists the dispatchers the maintainer waits to hear stopped, by node and id.
func (m *Maintainer) Strays() []recovery.Stray {
	out := make([]recovery.Stray, 0, len(m.strays))
	for _, s := range m.strays {
		out = append(out, s.Stray)
	}
	return out
}

// Held lists the requests held back for strays, in the order they were held.
func (m *Maintainer) Held() []Message {
	out := make([]Message, 0, len(m.held))
	for _, msg := range m.held {
		out = append(out, Message{To: msg.To, Request: m.request(msg)})
	}
	return out
}

// addStrays starts waiting for recovery's strays on live nodes (the remove itself is among
// recovery's messages).
func (m *Maintainer) addStrays(ss []recovery.Stray) {
	for _, s := range ss {
		if m.isLive(s.Node) {
			m.strays = append(m.writeStrays(), stray{Stray: s, sent: m.tick}) // never empty, so nil when none
		}
	}
}

// holds reports whether msg must wait for a stray: it creates a dispatcher on one node over
// keys a stray on another may serve.
func (m *Maintainer) holds(msg ops.Message) bool {
	if msg.Kind != ops.Create && msg.Kind != ops.Merge {
		return false
	}
	for _, s := range m.strays {
		if s.Node != msg.To && s.Span.Overlaps(msg.Record.Span) {
			return true
		}
	}
	return false
}

// hold keeps msg until no stray covers its keys, in place of an earlier request of the same
// operator to the same node.
func (m *Maintainer) hold(msg ops.Message) {
	m.metrics.RequestsHeld++
	held := m.writeHeld()
	for i, h := range held {
		if h.To == msg.To && h.Record.ID == msg.Record.ID {
			held[i] = msg
			return
		}
	}
	m.held = append(held, msg)
}

// straysStopped forgets the strays node n's statuses say have stopped, and releases what
// they held.
func (m *Maintainer) straysStopped(n ops.NodeID, statuses []ops.Status) {
	for _, st := range statuses {
		if st.State.Terminal() {
			m.forget(func(s stray) bool { return s.Node == n && s.ID == st.ID })
		}
	}
}

// straysGone forgets the strays of node n, which is no longer live (its dispatchers serve
// nothing), and releases what they held.
func (m *Maintainer) straysGone(n ops.NodeID) { m.forget(func(s stray) bool { return s.Node == n }) }

// forget deletes the strays gone says are gone and, if there were any, releases what
// they held. No strays left is nil: the status path checks for nil alone.
func (m *Maintainer) forget(gone func(stray) bool) {
	if !slices.ContainsFunc(m.strays, gone) {
		return
	}
	m.strays = slices.DeleteFunc(m.writeStrays(), gone)
	if len(m.strays) == 0 {
		m.strays = nil
	}
	m.release()
}

// release queues every held request that no stray covers any more, if it is still its
// operator's current one (an operator that moved on sends what it wants now by itself).
func (m *Maintainer) release() {
	var batch []ops.Message
	held := m.writeHeld()
	kept := held[:0]
	for _, msg := range held {
		cur, ok := m.ctrl.Request(msg.Record.ID)
		switch {
		case !ok || m.keyOf(cur) != m.keyOf(msg):
		case m.holds(cur):
			kept = append(kept, cur)
		default:
			batch = append(batch, cur)
		}
	}
	clear(held[len(kept):])
	m.held = kept
	m.queue(batch)
}

// resendStrays sends again the remove of every stray that has waited ResendTicks ticks.
func (m *Maintainer) resendStrays() {
	var batch []ops.Message
	for i := range m.strays {
		if m.tick-m.strays[i].sent < uint64(m.cfg.ResendTicks) {
			continue
		}
		s := &m.writeStrays()[i]
		s.sent = m.tick
		batch = append(batch, ops.Message{To: s.Node, Kind: ops.Remove, Record: ops.Record{Changefeed: m.cfg.Changefeed, ID: s.ID,
			Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: m.cfg.Epoch, Span: s.Span, Origin: s.Node}})
	}
	m.metrics.Resends += uint64(len(batch))
	m.queue(batch)
	for _, msg := range batch {
		m.trace(Step{Action: StepResendStray, ID: msg.Record.ID, Node: msg.To})
	}
}
