package maintainer

import (
	"fmt"
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// The scheduling calls: each starts an operator through the controller, after checking
// that the maintainer runs (ErrBooting) and that every destination is a live node that
// answered this maintainer (ErrUnknownNode); the controller's own refusals are
// *operators.RefusedError values. The operator's first request goes to the outbox.

// Add schedules Absent task id onto dest.
func (m *Maintainer) Add(id ops.DispatcherID, dest ops.NodeID) error {
	return m.schedule(Step{Action: StepScheduleAbs, ID: id, Node: dest}, func(c *ops.Controller) error { return c.ScheduleAbsent(id, dest) }, dest)
}

// Move moves Replicating task id to dest.
func (m *Maintainer) Move(id ops.DispatcherID, dest ops.NodeID) error {
	return m.schedule(Step{Action: StepMove, ID: id, Node: dest}, func(c *ops.Controller) error { return c.StartMove(id, dest) }, dest)
}

// Split splits Replicating task id into spans (which must tile it); with one target node
// per span the new tasks are added there, else left Absent for placement.
func (m *Maintainer) Split(id ops.DispatcherID, spans []ops.Span, targets []ops.NodeID) error {
	return m.schedule(Step{Action: StepSplit, ID: id}, func(c *ops.Controller) error { return c.StartSplit(id, spans, targets) }, targets...)
}

// Merge merges adjacent Replicating tasks of one table on one node into a new task merged.
func (m *Maintainer) Merge(sources []ops.DispatcherID, merged ops.DispatcherID) error {
	return m.schedule(Step{Action: StepMerge, ID: merged}, func(c *ops.Controller) error { return c.StartMerge(sources, merged) })
}

// Remove removes task id's dispatcher and then the task.
func (m *Maintainer) Remove(id ops.DispatcherID) error {
	return m.schedule(Step{Action: StepRemove, ID: id}, func(c *ops.Controller) error { return c.StartRemove(id) })
}

func (m *Maintainer) schedule(step Step, start func(*ops.Controller) error, dests ...ops.NodeID) error {
	if m.booting {
		m.metrics.Refused++
		return fmt.Errorf("maintainer: %w", ErrBooting)
	}
	for _, d := range dests {
		if !m.isJoined(d) {
			m.metrics.Refused++
			return fmt.Errorf("maintainer: destination %q: %w", d, ErrUnknownNode)
		}
	}
	if err := start(m.writeCtrl()); err != nil {
		m.metrics.Refused++
		return err
	}
	m.flush(nil)
	m.trace(step)
	return nil
}

// Resend puts operator id's current request in the outbox again, and reports whether it
// has one to a live node. Tick resends on its own; this is for hosts (and simulators) that
// know a request was lost.
func (m *Maintainer) Resend(id ops.DispatcherID) bool {
	if m.booting {
		return false
	}
	msg, ok := m.ctrl.Request(id)
	if !ok || !m.isLive(msg.To) {
		return false
	}
	m.queue([]ops.Message{msg})
	m.metrics.Resends++
	if s, ok := m.sent.get(id); ok {
		s.tick = m.tick
		m.setSent(id, s)
	}
	m.trace(Step{Action: StepResend, ID: id, Node: msg.To})
	return true
}

// Outstanding lists the current request of every operator that has one, by operator id:
// what the nodes should be acting on.
func (m *Maintainer) Outstanding() []Message {
	if m.booting {
		return nil
	}
	pending := m.ctrl.Pending()
	if len(pending) == 0 {
		return nil
	}
	out := make([]Message, len(pending))
	for i, msg := range pending {
		out[i] = Message{To: msg.To, Request: m.request(msg)}
	}
	return out
}

// EachOutstanding calls fn with each request Outstanding lists, in its order, without
// copying the operators' records: a request record's slices are read only and valid
// while the maintainer does not change, and fn must not change the maintainer. For a
// caller that looks at every state of a search.
func (m *Maintainer) EachOutstanding(fn func(Message)) {
	if m.booting {
		return
	}
	m.ctrl.EachPending(func(msg ops.Message) { fn(Message{To: msg.To, Request: m.request(msg)}) })
}

// Tick is the maintainer's clock. Booting, it re-asks the nodes that have not answered
// every BootstrapTicks ticks and recovers once all have. Running, it resends every
// operator request, and the remove of every stray, that has waited ResendTicks ticks and
// places every Absent task without an operator on a live node (Config.Place).
func (m *Maintainer) Tick() {
	m.tick++
	if m.booting {
		for _, n := range m.Waiting() {
			if m.tick-m.member(n).asked >= uint64(m.cfg.BootstrapTicks) {
				m.askBootstrap(n)
				m.trace(Step{Action: StepAskBootstrap, Node: n})
			}
		}
		if len(m.Waiting()) == 0 {
			_ = m.Recover() // cannot fail: every live node answered
		}
		return
	}
	var due []ops.DispatcherID
	m.sent.each(func(id ops.DispatcherID, s sent) {
		if m.tick-s.tick >= uint64(m.cfg.ResendTicks) {
			due = append(due, id)
		}
	})
	slices.Sort(due)
	for _, id := range due {
		m.Resend(id)
	}
	m.resendStrays()
	if m.placing {
		m.place()
	}
}

// place adds an operator for every Absent task without one, on the node Config.Place
// picks among the nodes that answered this maintainer.
func (m *Maintainer) place() {
	m.placing = false
	load := map[ops.NodeID]int{}
	for _, mb := range m.members {
		if mb.joined {
			load[mb.node] = 0
		}
	}
	if len(load) == 0 {
		return
	}
	var absent []ops.Task
	m.ctrl.EachTask(func(t ops.Task) {
		if t.Sched == ops.Absent {
			if _, busy := m.ctrl.Operator(t.ID); !busy {
				absent = append(absent, t)
			}
		} else if _, ok := load[t.Node]; ok {
			load[t.Node]++
		}
	})
	slices.SortFunc(absent, func(a, b ops.Task) int {
		return sendOrder(ops.Message{Record: ops.Record{Span: a.Span}}, ops.Message{Record: ops.Record{Span: b.Span}})
	})
	nodes := make([]NodeLoad, 0, len(load))
	for _, n := range slices.Sorted(maps.Keys(load)) {
		nodes = append(nodes, NodeLoad{Node: n, Tasks: load[n]})
	}
	for _, t := range absent {
		dest := m.cfg.Place(t, nodes)
		if err := m.Add(t.ID, dest); err == nil {
			for i := range nodes {
				if nodes[i].Node == dest {
					nodes[i].Tasks++
				}
			}
		}
	}
}
