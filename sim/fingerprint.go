package sim

import (
	"fmt"
	"slices"
	"strings"

	ops "opfsm/operators"
)

// Fingerprint is a canonical text of the cluster's whole observable state: every node's
// dispatchers, journals, in-flight merges and owner epoch, the network, the maintainer
// (epoch, phase, pending bootstrap answers, tasks, operator records), the live tables and
// the fault and operation budgets used. Two clusters with equal fingerprints have the same
// enabled actions with the same outcomes, up to the controller's split-id counter, which
// only names the tasks a split creates. The exhaustive explorer keys states by it, so it
// must distinguish every two states whose abstract states (package conformance) differ.
func (c *Cluster) Fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "e%d boot=%t loss=%d dup=%d crash=%d ops=%d tables=%v dropped=%v late=%v\n",
		c.epoch, c.booting, c.loss, c.dup, c.crash, c.opsLeft, c.tables, c.dropped, c.late)
	for _, n := range c.cfg.Nodes {
		m := c.managers[n]
		if !c.alive[n] {
			// A dead node's owner epoch stays part of the abstract state (the spec keeps
			// owner[n]), so it must tell states apart here too.
			fmt.Fprintf(&b, "%s dead owner=%d\n", n, m.Owner)
			if r, ok := c.resp[n]; ok {
				fmt.Fprintf(&b, " resp %+v\n", r) // kept, as the spec keeps resp[n], when n died after answering
			}
			continue
		}
		fmt.Fprintf(&b, "%s owner=%d\n", n, m.Owner)
		for _, id := range sortedKeys(m.disp) {
			fmt.Fprintf(&b, " d %+v\n", *m.disp[id])
		}
		for _, id := range sortedKeys(m.journal) {
			fmt.Fprintf(&b, " j %+v\n", m.journal[id])
		}
		for _, id := range sortedKeys(m.mergeJ) {
			fmt.Fprintf(&b, " mj %+v\n", m.mergeJ[id])
		}
		for _, id := range sortedKeys(m.merges) {
			fmt.Fprintf(&b, " mg %s %v\n", id, m.merges[id])
		}
		for _, s := range c.net.Streams() {
			if s.Node == n {
				fmt.Fprintf(&b, " req%d %+v\n", s.Epoch, c.net.req[s])
			}
		}
		fmt.Fprintf(&b, " stq %+v\n", c.net.stq[n])
		if r, ok := c.resp[n]; ok {
			fmt.Fprintf(&b, " resp %+v\n", r)
		}
	}
	if !c.booting {
		for _, t := range c.ctrl.Tasks() {
			fmt.Fprintf(&b, "t %+v\n", t)
		}
		recs := c.ctrl.Operators()
		slices.SortFunc(recs, func(x, y ops.Record) int { return strings.Compare(string(x.ID), string(y.ID)) })
		for _, r := range recs {
			fmt.Fprintf(&b, "o %+v\n", r)
		}
	}
	return b.String()
}
