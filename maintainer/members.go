package maintainer

import (
	"slices"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
)

// member is a live node as the maintainer knows it. The members and the tables are kept
// as sorted slices, not maps: they change rarely, and a model checker clones a maintainer
// for every step it explores, which copies a slice in one allocation.
type member struct {
	node ops.NodeID
	// joined: the node answered this maintainer's bootstrap, so it obeys this epoch and
	// tasks may be placed there.
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

// addMember makes n live (not joined) and reports whether it was not.
func (m *Maintainer) addMember(n ops.NodeID) bool {
	i, ok := slices.BinarySearchFunc(m.members, n, cmpMember)
	if ok {
		return false
	}
	m.members = slices.Insert(m.members, i, member{node: n})
	return true
}

// dropMember makes n not live and reports whether it was.
func (m *Maintainer) dropMember(n ops.NodeID) bool {
	i, ok := slices.BinarySearchFunc(m.members, n, cmpMember)
	if ok {
		m.members = slices.Delete(m.members, i, i+1)
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
		m.tables = slices.Insert(m.tables, i, t)
	}
}

func (m *Maintainer) removeTable(t ops.TableID) {
	if i, ok := slices.BinarySearch(m.tables, t); ok {
		m.tables = slices.Delete(m.tables, i, i+1)
	}
}
