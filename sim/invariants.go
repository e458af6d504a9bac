package sim

import (
	"fmt"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// Violation is a broken invariant, named as in spec/failover/Properties.tla.
type Violation struct {
	Property string
	Detail   string
}

// Error says which property broke and how.
func (v *Violation) Error() string { return "sim: " + v.Property + " violated: " + v.Detail }

// active reports whether a dispatcher serves its span (S1's Active): Initializing or Working
// and not being removed.
func active(d Dispatcher) bool {
	return (d.State == ops.Initializing || d.State == ops.Working) && !d.Removing
}

// NoDuplicateActiveDispatcher (S1): no key is served by two active dispatchers on the live
// nodes ms (ordered by node for a deterministic report).
func NoDuplicateActiveDispatcher(ms []*Manager) error {
	type placed struct {
		node ops.NodeID
		d    Dispatcher
	}
	var act []placed
	for _, m := range ms {
		for _, d := range m.Dispatchers() {
			if active(d) {
				act = append(act, placed{m.Node, d})
			}
		}
	}
	slices.SortFunc(act, func(a, b placed) int {
		if a.d.Span.Less(b.d.Span) {
			return -1
		}
		if b.d.Span.Less(a.d.Span) {
			return 1
		}
		return 0
	})
	// Sorted by span, each span is compared with the earlier spans of its own table.
	for i := 1; i < len(act); i++ {
		for j := i - 1; j >= 0; j-- {
			if act[j].d.Span.Table != act[i].d.Span.Table {
				break
			}
			if act[j].d.Span.Overlaps(act[i].d.Span) {
				return &Violation{Property: "NoDuplicateActiveDispatcher", Detail: fmt.Sprintf("%s %s on %s and %s %s on %s are both active",
					act[j].d.ID, act[j].d.Span, act[j].node, act[i].d.ID, act[i].d.Span, act[i].node)}
			}
		}
	}
	return nil
}

// RemoveJournalSound (S11, Remove half): every journaled Remove names a dispatcher its node
// has.
func RemoveJournalSound(ms []*Manager) error {
	for _, m := range ms {
		for _, id := range sortedKeys(m.journal) {
			if _, ok := m.disp[id]; !ok {
				return &Violation{Property: "RemoveJournalSound", Detail: fmt.Sprintf("%s journals a Remove of %s, which it does not have", m.Node, id)}
			}
		}
	}
	return nil
}
