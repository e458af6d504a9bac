package maintainer

import (
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Copy on write. Clone shares every part of the state (its slices, maps and controller)
// between the original and the copy, and marks them all shared in both (Maintainer.cow).
// The first write to a shared part copies it and marks it the writer's own: every write
// to a part goes through its accessor below, which never touches a shared part in place.
// A model checker clones a maintainer for each step that changes it, and a step touches
// few parts (a status the controller, the outbox and what was sent), so the others stay
// shared along the search instead of being copied at every step. Reading a shared part is
// safe, also from several goroutines at once. A part both sides still mark shared is
// copied by whichever writes it: neither knows whether the other copied it already. A new
// maintainer owns all its parts (its constructors write them directly), and a recovered
// one the controller recovery built.

// The parts, one bit each in Maintainer.cow.
const (
	partMembers uint32 = 1 << iota
	partTables
	partAnswers
	partCtrl
	partLate
	partEarly
	partSent
	partOut
	partStrays
	partHeld

	allParts = partHeld<<1 - 1
)

// unshare reports whether part p is shared with another maintainer and marks it m's own:
// the caller copies it before writing it.
func (m *Maintainer) unshare(p uint32) bool {
	if m.cow.Load()&p == 0 {
		return false
	}
	m.cow.And(^p)
	return true
}

// writeMembers returns the members to change in place.
func (m *Maintainer) writeMembers() []member {
	if m.unshare(partMembers) {
		m.members = slices.Clone(m.members)
	}
	return m.members
}

// writeMember returns live node n's entry to change, or nil when n is not live.
func (m *Maintainer) writeMember(n ops.NodeID) *member {
	m.writeMembers()
	return m.member(n)
}

// writeTables returns the live tables to change in place.
func (m *Maintainer) writeTables() []ops.TableID {
	if m.unshare(partTables) {
		m.tables = slices.Clone(m.tables)
	}
	return m.tables
}

// writeAnswers returns the bootstrap answers to change (the answers themselves are never
// changed, so they are shared still).
func (m *Maintainer) writeAnswers() map[ops.NodeID]protocol.BootstrapAnswer {
	if m.unshare(partAnswers) {
		m.answers = maps.Clone(m.answers)
	}
	return m.answers
}

// writeCtrl returns the controller to call anything on but its pure reads (Task, Tasks,
// EachTask, Operator, Operators, Request, Pending, Len).
func (m *Maintainer) writeCtrl() *ops.Controller {
	if m.unshare(partCtrl) && m.ctrl != nil {
		m.ctrl = m.ctrl.Clone()
	}
	return m.ctrl
}

// appendLate, appendEarly and appendOut append to a part that is otherwise only read,
// emptied or, for the outbox, advanced by Advance: a shared one is clipped to its
// length, so the append copies it into an array of its own.
func (m *Maintainer) appendLate(d DDL) {
	if m.unshare(partLate) {
		m.late = slices.Clip(m.late)
	}
	m.late = append(m.late, d)
}

func (m *Maintainer) appendEarly(r protocol.StatusReport) {
	if m.unshare(partEarly) {
		m.early = slices.Clip(m.early)
	}
	m.early = append(m.early, r)
}

func (m *Maintainer) appendOut(msg Message) {
	if m.unshare(partOut) {
		m.out = slices.Clip(m.out)
	}
	m.out = append(m.out, msg)
}

// setSent records what was last sent for operator id; deleteSent forgets it.
func (m *Maintainer) setSent(id ops.DispatcherID, s sent) {
	if m.unshare(partSent) {
		m.sent = m.sent.clone("")
	}
	m.sent.set(id, s)
}

func (m *Maintainer) deleteSent(id ops.DispatcherID) {
	if _, ok := m.sent.get(id); !ok {
		return // a delete is a write, also of a key that is not there
	}
	if m.unshare(partSent) {
		m.sent = m.sent.clone(id) // a copy without id: nothing left to delete
		return
	}
	m.sent.del(id)
}

// writeStrays and writeHeld return the strays and the held requests to change in place.
func (m *Maintainer) writeStrays() []stray {
	if m.unshare(partStrays) {
		m.strays = slices.Clone(m.strays)
	}
	return m.strays
}

func (m *Maintainer) writeHeld() []ops.Message {
	if m.unshare(partHeld) {
		m.held = slices.Clone(m.held)
	}
	return m.held
}
