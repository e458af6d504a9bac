package main

import (
	"sync"

	toy "github.com/opfsm/opfsm/cluster"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	"github.com/opfsm/opfsm/protocol"
)

// The protocol glue: all a deployment writes between opfsm and its transport. A node host
// steps requests into its core and ships what Ready holds; the maintainer host steps
// statuses and answers into its driver and ships its requests. Sending happens outside
// the lock; encoding inside it, since Ready's slices live until Advance.

type nodeHost struct {
	mu   sync.Mutex
	core *node.Node
	data *toy.DataPlane
	net  *transport
}

func (h *nodeHost) onRequest(req protocol.Request) {
	h.mu.Lock()
	_ = h.core.Step(req) // a refusal (a fenced old maintainer) changes nothing
	out := h.collect()
	h.mu.Unlock()
	h.net.toMaintainer(out)
}

func (h *nodeHost) tick() {
	h.mu.Lock()
	h.data.Tick(h.core)
	h.core.Tick()
	out := h.collect()
	h.mu.Unlock()
	h.net.toMaintainer(out)
}

// collect encodes what the core has for the maintainer, hands the effects to the data
// plane, and advances the core.
func (h *nodeHost) collect() (out []outgoing) {
	rd := h.core.Ready()
	for _, r := range rd.Reports {
		out = append(out, encode("/status", r))
	}
	for _, a := range rd.Answers {
		out = append(out, encode("/answer", a))
	}
	h.data.Apply(rd.Effects)
	h.core.Advance()
	return out
}

type maintainerHost struct {
	mu  sync.Mutex
	m   *maintainer.Maintainer
	net *transport
}

func (h *maintainerHost) step(fn func(m *maintainer.Maintainer)) {
	h.mu.Lock()
	fn(h.m)
	var out []outgoing
	for _, msg := range h.m.Ready() {
		out = append(out, encode("/request", msg.Request).to(msg.To))
	}
	h.m.Advance()
	h.mu.Unlock()
	h.net.toNodes(out)
}

func (h *maintainerHost) onStatus(r protocol.StatusReport) {
	h.step(func(m *maintainer.Maintainer) { _ = m.StepStatus(r) })
}

func (h *maintainerHost) onAnswer(a protocol.BootstrapAnswer) {
	h.step(func(m *maintainer.Maintainer) { _ = m.StepAnswer(a); _ = m.Recover() })
}

func (h *maintainerHost) tick() { h.step(func(m *maintainer.Maintainer) { m.Tick() }) }
