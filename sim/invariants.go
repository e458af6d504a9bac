package sim

import (
	"fmt"
	"slices"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
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
func active(d protocol.Dispatcher) bool {
	return (d.State == ops.Initializing || d.State == ops.Working) && !d.Removing
}

// NoDuplicateActiveDispatcher (S1): no key is served by two active dispatchers on the live
// nodes ms (ordered by node for a deterministic report).
func NoDuplicateActiveDispatcher(ns []*node.Node) error {
	if !mayOverlap(ns) {
		return nil
	}
	type placed struct {
		node ops.NodeID
		d    protocol.Dispatcher
	}
	n := 0
	for _, nd := range ns {
		ds, _, _ := nd.Len()
		n += ds
	}
	act := make([]placed, 0, n)
	for _, nd := range ns {
		for _, d := range nd.Dispatchers() {
			if active(d) {
				act = append(act, placed{nd.Name(), d})
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

// mayOverlap is NoDuplicateActiveDispatcher's quick test, run on every step: sorted by
// span, no active span starts before the furthest end of the earlier ones of its table.
// It never misses an overlap; the full check runs only when it finds one may exist. The
// dispatchers are read in no particular order: the sort makes the answer the same.
func mayOverlap(ns []*node.Node) bool {
	n := 0
	for _, nd := range ns {
		ds, _, _ := nd.Len()
		n += ds
	}
	spans := make([]ops.Span, 0, n)
	for _, nd := range ns {
		nd.EachDispatcher(func(d protocol.Dispatcher) {
			if active(d) {
				spans = append(spans, d.Span)
			}
		})
	}
	slices.SortFunc(spans, ops.CompareSpans)
	var reach ops.Span // of the earlier spans of its table, the one that ends furthest
	for i, s := range spans {
		if i > 0 && s.Table == reach.Table && (reach.End == "" || s.Start < reach.End) {
			return true
		}
		if i == 0 || s.Table != reach.Table || s.End == "" || s.End > reach.End {
			reach = s
		}
	}
	return false
}

// RemoveJournalSound (S11, Remove half): every journaled Remove names a dispatcher its node
// has.
func RemoveJournalSound(ns []*node.Node) error {
	var v error
	for _, nd := range ns {
		nd.EachRemove(func(r ops.Record) { // by id: the first of several is the one reported
			if _, ok := nd.Dispatcher(r.ID); !ok && v == nil {
				v = &Violation{Property: "RemoveJournalSound", Detail: fmt.Sprintf("%s journals a Remove of %s, which it does not have", nd.Name(), r.ID)}
			}
		})
		if v != nil {
			return v
		}
	}
	return nil
}

// MergesJournaled (S11, Merge half): a merge a node is carrying out is in its merge
// journal, so that a bootstrap answer shows it to recovery: every source waiting for a
// merge, and every merged dispatcher before its commit (Preparing, MergeReady), that is
// not being removed, belongs to a journaled merge. TiCDC's nodes before the fix of issue
// 4763 kept no such journal.
func MergesJournaled(ns []*node.Node) error {
	for _, nd := range ns {
		var waiting, precommit []ops.DispatcherID
		nd.EachDispatcher(func(d protocol.Dispatcher) {
			switch {
			case d.Removing:
			case d.State == ops.WaitingMerge:
				waiting = append(waiting, d.ID)
			case d.State == ops.Preparing || d.State == ops.MergeReady:
				precommit = append(precommit, d.ID)
			}
		})
		if len(waiting)+len(precommit) == 0 {
			continue
		}
		journal := nd.MergeJournal()
		slices.Sort(precommit) // EachDispatcher's order is random: report the first id
		slices.Sort(waiting)
		for _, id := range precommit {
			if !slices.ContainsFunc(journal, func(r ops.Record) bool { return r.ID == id }) {
				return &Violation{Property: "MergesJournaled", Detail: fmt.Sprintf("%s has merged dispatcher %s before its commit and no merge journal entry for it", nd.Name(), id)}
			}
		}
		for _, id := range waiting {
			if !slices.ContainsFunc(journal, func(r ops.Record) bool { return slices.Contains(r.Sources, id) }) {
				return &Violation{Property: "MergesJournaled", Detail: fmt.Sprintf("%s has source %s waiting for a merge and no merge journal entry that names it", nd.Name(), id)}
			}
		}
	}
	return nil
}

// NodeBinding (S5): Absent tasks are unbound, Scheduling and Replicating tasks bound.
func NodeBinding(tasks []ops.Task) error {
	for _, t := range tasks {
		if (t.Sched == ops.Absent) != (t.Node == "") {
			return &Violation{Property: "NodeBinding", Detail: t.String()}
		}
	}
	return nil
}
