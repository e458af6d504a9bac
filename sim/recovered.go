package sim

import (
	"errors"
	"fmt"
	"slices"

	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Recovered builds the cluster a failover leaves behind, on any snapshot: every node of
// cfg holds the state states gives it (node.Restore: its dispatchers and journals, under
// the snapshot's epoch; a node without one holds nothing), and the maintainer of epoch
// snap.Epoch has just recovered from snap, which need not agree with those states (a
// snapshot gathered node by node, answers from older code, journals cut short). cfg's
// Tasks are ignored; its Tables are the tables that are live now.
func Recovered(cfg Config, snap protocol.Snapshot, states []protocol.BootstrapAnswer) (*Cluster, error) {
	if len(cfg.Nodes) == 0 || cfg.Changefeed == "" || snap.Changefeed != cfg.Changefeed || snap.Epoch == 0 {
		return nil, fmt.Errorf("sim: %w: need a changefeed, a node and a snapshot of that changefeed", ErrBadConfig)
	}
	c, err := newNodes(cfg, snap.Epoch)
	if err != nil {
		return nil, err
	}
	for _, st := range states {
		nd := c.core(st.Node)
		if nd == nil {
			return nil, fmt.Errorf("sim: %w: a state for unknown node %q", ErrBadConfig, st.Node)
		}
		st.Epoch = snap.Epoch
		if err := nd.Restore(st); err != nil {
			return nil, fmt.Errorf("sim: %w: %w", ErrBadConfig, err)
		}
	}
	mc := c.maintainerConfig(snap.Epoch, cfg.Nodes, nil)
	m, err := maintainer.FromSnapshot(mc, snap)
	if err != nil {
		return nil, fmt.Errorf("sim: recover: %w", err)
	}
	c.m = m
	c.startCheckpoint = snap.Checkpoint
	c.flush()
	return c, nil
}

// ActiveOverlaps lists every pair of active dispatchers (Initializing or Working, not
// being removed, on live nodes) that share a key, each as "node/id+node/id", in a fixed
// order. S1 says there is none.
func (c *Cluster) ActiveOverlaps() []string { return c.overlaps(active) }

// ClaimOverlaps lists, like ActiveOverlaps, every pair of dispatchers that share a key and
// are active or may become active on their own: a merge source waiting (its merge may
// abort) or a pre-commit merged dispatcher (its merge may commit), not being removed. An
// arbitrary snapshot may start with such pairs, which no recovery can undo before they
// act; after recovery from it, no other pair may become active (NoNewOverlap).
func (c *Cluster) ClaimOverlaps() []string {
	return c.overlaps(func(d protocol.Dispatcher) bool {
		return !d.Removing && (active(d) || d.State == ops.WaitingMerge || d.State == ops.Preparing || d.State == ops.MergeReady)
	})
}

func (c *Cluster) overlaps(counts func(protocol.Dispatcher) bool) []string {
	type placed struct {
		node ops.NodeID
		d    protocol.Dispatcher
	}
	var act []placed
	for _, nd := range c.liveCores() {
		for _, d := range nd.Dispatchers() {
			if counts(d) {
				act = append(act, placed{nd.Name(), d})
			}
		}
	}
	var out []string
	for i, a := range act {
		for _, b := range act[i+1:] {
			if a.d.Span.Overlaps(b.d.Span) {
				out = append(out, fmt.Sprintf("%s/%s+%s/%s", a.node, a.d.ID, b.node, b.d.ID))
			}
		}
	}
	slices.Sort(out)
	return out
}

// NoNewOverlap checks that every pair of active dispatchers sharing a key is in before
// (ClaimOverlaps of the state recovery started from).
func (c *Cluster) NoNewOverlap(before []string) error {
	for _, p := range c.ActiveOverlaps() {
		if !slices.Contains(before, p) {
			return &Violation{Property: "NoDuplicateActiveDispatcher", Detail: "a new pair of active dispatchers shares a key: " + p}
		}
	}
	return nil
}

// checkpointFloor remembers what the recovered state says was written: for each key, the
// highest checkpoint a dispatcher serving or having served it reported (a pre-commit
// merged dispatcher has written nothing), and the changefeed checkpoint below which every
// key was written.
type checkpointFloor struct {
	start       uint64
	served      []protocol.Dispatcher
	servedSpans []ops.Span
	active      map[string]bool // node/id of the dispatchers active at the start
}

func (c *Cluster) floor() checkpointFloor {
	f := checkpointFloor{start: c.startCheckpoint, active: map[string]bool{}}
	for _, nd := range c.liveCores() {
		for _, d := range nd.Dispatchers() {
			if d.State != ops.Preparing && d.State != ops.MergeReady {
				f.served = append(f.served, d)
				f.servedSpans = append(f.servedSpans, d.Span)
			}
			if active(d) {
				f.active[string(nd.Name())+"/"+string(d.ID)] = true
			}
		}
	}
	return f
}

// check: a dispatcher that became active after the start starts at no checkpoint above
// what was written for any of its keys (S12: at-least-once delivery repeats data, never
// skips it).
func (f checkpointFloor) check(c *Cluster) error {
	for _, nd := range c.liveCores() {
		for _, d := range nd.Dispatchers() {
			if !active(d) || f.active[string(nd.Name())+"/"+string(d.ID)] {
				continue
			}
			for _, piece := range d.Span.Pieces(f.servedSpans) {
				written := f.start
				for _, e := range f.served {
					if e.Span.Contains(piece) {
						written = max(written, e.Checkpoint)
					}
				}
				if d.Checkpoint > written {
					return &Violation{Property: "CheckpointSafety", Detail: fmt.Sprintf("%s %s on %s starts at %d, above %d, what was written for %s",
						d.ID, d.Span, nd.Name(), d.Checkpoint, written, piece)}
				}
			}
		}
	}
	return nil
}

// SettleAfterRecovery runs the recovered cluster fairly, faults and scheduler operations
// stopped, until it converges or maxSteps steps were taken, checking after every step that
// no key is served by a pair of active dispatchers that the recovered state did not
// already hold (NoNewOverlap), that the node invariants hold (S11) and the maintainer's
// (S5), and that a dispatcher that becomes active starts where no data is skipped (S12). It
// returns the steps and the first violation, or the reason it did not converge.
func (c *Cluster) SettleAfterRecovery(maxSteps int) ([]Action, error) {
	before, floor := c.ClaimOverlaps(), c.floor()
	var trace []Action
	f := NewFair()
	check := func() error {
		if err := c.NoNewOverlap(before); err != nil {
			return err
		}
		if err := floor.check(c); err != nil {
			return err
		}
		if err := RemoveJournalSound(c.liveCores()); err != nil {
			return err
		}
		return NodeBinding(c.m.Controller().Tasks())
	}
	if err := check(); err != nil {
		return nil, err
	}
	for len(trace) < maxSteps && c.Converged() != nil {
		a, ok := f.Next(c, nil)
		if !ok {
			break
		}
		if err := c.Apply(a); err != nil && !errors.Is(err, ErrNotEnabled) {
			return trace, fmt.Errorf("sim: settle step %s: %w", a, err)
		}
		trace = append(trace, a)
		if err := check(); err != nil {
			return trace, err
		}
	}
	return trace, c.Converged()
}
