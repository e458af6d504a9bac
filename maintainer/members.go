package maintainer

import (
	"slices"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
)

// member is a live node as the maintainer knows it. The members and the tables are kept
// as sorted slices, not maps: they change rarely, and a clone that changes them copies
// a slice in one allocation (a model checker clones a maintainer for every step it
// explores; the clone shares them until then, cow.go).
type member struct {
	node ops.NodeID
	// joined: the node answered this maintainer's bootstrap, so it obeys this epoch and
	// tasks may be placed there. Nothing reads it while the maintainer boots, and recovery
	// waits for every live node's answer: a node live while it boots is joined from the
	// start, and recovery changes no member.
	joined bool
	// asked is the tick its bootstrap request was last sent at.
	asked uint64
}

func cmpMember(a member, n ops.NodeID) int { return strings.Compare(string(a.node), string(n)) }

// member returns node n's entry, or nil when n is not live.
func (m *Maintainer) member(n ops.NodeID) *member {
	if i, ok := slices.BinarySearchFunc(m.members, n, cmpMember); ok {
		return &m.members[i]
	}
	return nil
}

// isLive reports whether node n is live; isJoined whether it also answered.
func (m *Maintainer) isLive(n ops.NodeID) bool { return m.member(n) != nil }

func (m *Maintainer) isJoined(n ops.NodeID) bool {
	mb := m.member(n)
	return mb != nil && mb.joined
}

// addMember makes n live, joined or not, and reports whether it was not.
func (m *Maintainer) addMember(n ops.NodeID, joined bool) bool {
	i, ok := slices.BinarySearchFunc(m.members, n, cmpMember)
	if ok {
		return false
	}
	m.members = slices.Insert(m.writeMembers(), i, member{node: n, joined: joined})
	return true
}

// dropMember makes n not live and reports whether it was.
func (m *Maintainer) dropMember(n ops.NodeID) bool {
	i, ok := slices.BinarySearchFunc(m.members, n, cmpMember)
	if ok {
		m.members = slices.Delete(m.writeMembers(), i, i+1)
	}
	return ok
}

func (m *Maintainer) liveNodes() []ops.NodeID {
	out := make([]ops.NodeID, len(m.members))
	for i, mb := range m.members {
		out[i] = mb.node
	}
	return out
}

// hasTable, addTable and dropTable keep m.tables a sorted set.
func (m *Maintainer) hasTable(t ops.TableID) bool {
	_, ok := slices.BinarySearch(m.tables, t)
	return ok
}

func (m *Maintainer) addTable(t ops.TableID) {
	if i, ok := slices.BinarySearch(m.tables, t); !ok {
		m.tables = slices.Insert(m.writeTables(), i, t)
	}
}

func (m *Maintainer) removeTable(t ops.TableID) {
	if i, ok := slices.BinarySearch(m.tables, t); ok {
		m.tables = slices.Delete(m.writeTables(), i, i+1)
	}
}
