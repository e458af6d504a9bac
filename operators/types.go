package operators

import (
	"fmt"
	"slices"
	"strings"
)

// DispatcherID identifies a dispatcher and the task that owns it.
type DispatcherID string

// Prefix is the id's first eight bytes, big-endian and zero-padded: ids with different
// prefixes compare like their prefixes, so it serves as a radix-sort key.
func (id DispatcherID) Prefix() uint64 {
	var p uint64
	for j := 0; j < 8; j++ {
		p <<= 8
		if j < len(id) {
			p |= uint64(id[j])
		}
	}
	return p
}

// NodeID identifies a node (a capture) hosting a dispatcher manager.
type NodeID string

// TableID identifies a table.
type TableID int64

// Epoch is a maintainer epoch: a newer maintainer has a larger epoch.
type Epoch uint64

// ChangefeedID identifies a changefeed; every record names the changefeed it belongs to.
type ChangefeedID string

// Span is the key range [Start, End) of one table. An empty Start is the table's first key,
// an empty End its last (+inf).
type Span struct {
	Table TableID `json:"table"`
	Start string  `json:"start"`
	End   string  `json:"end"`
}

// Valid reports whether the span is non-empty.
func (s Span) Valid() bool { return s.End == "" || s.Start < s.End }

// Overlaps reports whether s and o share a key.
func (s Span) Overlaps(o Span) bool {
	return s.Table == o.Table && (o.End == "" || s.Start < o.End) && (s.End == "" || o.Start < s.End)
}

// Contains reports whether o lies within s.
func (s Span) Contains(o Span) bool {
	return s.Table == o.Table && s.Start <= o.Start && (s.End == "" || (o.End != "" && o.End <= s.End))
}

// Adjacent reports whether o starts where s ends.
func (s Span) Adjacent(o Span) bool { return s.Table == o.Table && s.End != "" && s.End == o.Start }

// Less orders spans by table, start key, then end key (narrower first), so a source and the
// merged span that starts at the same key never compare equal.
func (s Span) Less(o Span) bool {
	if s.Table != o.Table {
		return s.Table < o.Table
	}
	if s.Start != o.Start {
		return s.Start < o.Start
	}
	return endLess(s.End, o.End)
}

func endLess(a, b string) bool {
	switch {
	case a == b:
		return false
	case a == "":
		return false
	case b == "":
		return true
	default:
		return a < b
	}
}

// Pieces cuts s at every start or end key of others that lies strictly inside it and
// returns the pieces in key order: together they are s, and each lies wholly inside or
// wholly outside each span of others.
func (s Span) Pieces(others []Span) []Span {
	cuts := []string{s.Start}
	for _, o := range others {
		if o.Table != s.Table {
			continue
		}
		for _, k := range [2]string{o.Start, o.End} {
			if k > s.Start && (s.End == "" || k < s.End) {
				cuts = append(cuts, k)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	out := make([]Span, len(cuts))
	for i, lo := range cuts {
		out[i] = Span{Table: s.Table, Start: lo, End: s.End}
		if i+1 < len(cuts) {
			out[i].End = cuts[i+1]
		}
	}
	return out
}

// String formats the span as "100[a,b)".
func (s Span) String() string { return fmt.Sprintf("%d[%s,%s)", s.Table, s.Start, s.End) }

// ComponentState is a dispatcher's state as a dispatcher manager reports it.
type ComponentState uint8

// The dispatcher component states of domain.md 2.1.
const (
	Initializing ComponentState = iota
	Working
	WaitingMerge
	Preparing
	MergeReady
	Stopped
	Removed
)

var componentNames = [...]string{"Initializing", "Working", "WaitingMerge", "Preparing", "MergeReady", "Stopped", "Removed"}

// String returns the state's name.
func (c ComponentState) String() string { return enumName(componentNames[:], c, "ComponentState") }

// ParseComponentState maps a name back to its state.
func ParseComponentState(name string) (ComponentState, error) {
	return parseEnum[ComponentState](componentNames[:], name, "component state", ErrUnknownComponentState)
}

// enumName returns the name of v, or "Kind(n)" when v is out of range.
func enumName[T ~uint8](names []string, v T, kind string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", kind, v)
}

// parseEnum maps a name back to its value, or fails with sentinel.
func parseEnum[T ~uint8](names []string, name, what string, sentinel error) (T, error) {
	for i, n := range names {
		if n == name {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("%s %q: %w", what, name, sentinel)
}

// Terminal reports whether the state means the dispatcher is gone (Stopped or Removed).
func (c ComponentState) Terminal() bool { return c == Stopped || c == Removed }

// Sched is a task's scheduling state.
type Sched uint8

// The task scheduling states of domain.md 0.1.
const (
	Absent Sched = iota
	Scheduling
	Replicating
)

var schedNames = [...]string{"Absent", "Scheduling", "Replicating"}

// String returns the state's name.
func (s Sched) String() string { return enumName(schedNames[:], s, "Sched") }

// Task is the maintainer's desired state for one span: where it should run and how far
// scheduling got. An Absent task has no node.
type Task struct {
	ID         DispatcherID
	Span       Span
	Sched      Sched
	Node       NodeID
	Checkpoint uint64
}

// String formats the task for logs and test failures.
func (t Task) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", t.ID, t.Span, t.Sched)
	if t.Node != "" {
		fmt.Fprintf(&b, "@%s", t.Node)
	}
	return b.String()
}
