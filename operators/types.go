package operators

import (
	"fmt"
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
