package sim

import (
	"fmt"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
)

// flush puts what the maintainer wants sent on its streams (requests to a dead node are
// gone with its streams).
func (c *Cluster) flush() {
	if !c.m.HasReady() {
		return
	}
	m := c.writeMaintainer()
	for _, msg := range m.Ready() {
		if c.alive[msg.To] {
			c.writeNet().Send(Stream{msg.To, m.Epoch()}, msg.Request)
		}
	}
	m.Advance()
}

// drain takes what node n's core produced: its statuses go on n's status stream, a
// bootstrap answer to the maintainer of its epoch if that one is booting (others are
// dropped, 25c). The simulator's dispatchers are the core's own view, so effects need no
// host.
func (c *Cluster) drain(n ops.NodeID) {
	if !c.core(n).HasReady() {
		return
	}
	nd := c.writeNode(n)
	rd := nd.Ready()
	for _, rep := range rd.Reports {
		for _, st := range rep.Statuses {
			c.writeNet().Report(n, st, rep.Epoch)
		}
	}
	for _, a := range rd.Answers {
		if c.m.Booting() && a.Epoch == c.m.Epoch() {
			_ = c.writeMaintainer().StepAnswer(a) // a repeat replaces the pending answer (25c)
		}
	}
	nd.Advance()
}

func (c *Cluster) deliver(a Action) error {
	dup := a.Name == "DMDeliverDup"
	if !c.alive[a.Node] || (dup && c.dup >= c.cfg.Limits.MaxDup) {
		return c.notEnabled(a)
	}
	r, err := c.writeNet().Deliver(Stream{a.Node, a.Epoch}, dup)
	if err != nil {
		return err
	}
	if dup {
		c.dup++
	}
	if err := c.writeNode(a.Node).Step(r); err != nil {
		if _, refused := err.(*node.RefusedError); !refused { // Step's refusals are not wrapped
			return err
		}
	}
	c.drain(a.Node)
	return nil
}

func (c *Cluster) local(a Action) error {
	kind, ok := node.ParseActionKind(a.Name)
	if !c.alive[a.Node] || c.core(a.Node) == nil || !ok {
		return c.notEnabled(a)
	}
	nd := c.writeNode(a.Node)
	if err := nd.Apply(node.Action{Kind: kind, ID: a.ID}); err != nil {
		return fmt.Errorf("sim: %w: %w", ErrNotEnabled, err)
	}
	c.drain(a.Node)
	return nil
}
