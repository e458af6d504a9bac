package sim

import (
	"slices"

	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
)

// Copy on write. Clone shares the node cores, the maintainer and the network's lists of
// streams between the original and the copy and marks them shared in both; the first
// change to a shared one copies it (writeNode, writeMaintainer, and the network itself). An action changes one node or the
// maintainer, rarely both, so a successor in an exhaustive search costs a copy of what its
// action touched instead of the whole cluster. Everything that changes a node core, the
// maintainer or the network goes through these three; reading a shared one is safe, also
// from several goroutines at once (the parallel explorer's workers read states that share
// them). The fingerprint's cache of each part's encoding (fingerprint.go) follows the same
// rule: writeNode and writeMaintainer drop the part's bytes.

// sharedBit is the bit in sharedNodes of cfg.Nodes[i], or 0 for a node past the 64th,
// which Clone copies at once.
func sharedBit(i int) uint64 {
	if i < 0 || i >= 64 {
		return 0
	}
	return 1 << i
}

// writeNode returns node n's core, copied first if it is shared with another cluster.
func (c *Cluster) writeNode(n ops.NodeID) *node.Node {
	i := slices.Index(c.cfg.Nodes, n)
	if i < 0 {
		return nil
	}
	c.nodes[i].fp = nil // the caller changes it
	nd := c.nodes[i].core
	if b := sharedBit(i); c.sharedNodes&b != 0 {
		nd = nd.Clone()
		c.nodes[i].core = nd
		c.sharedNodes &^= b
	}
	return nd
}

// writeNet returns the network to change: it copies what it shares with another
// cluster's as it changes it (Network.share).
func (c *Cluster) writeNet() *Network { return &c.net }

// writeMaintainer returns the maintainer, copied first if it is shared with another
// cluster.
func (c *Cluster) writeMaintainer() *maintainer.Maintainer {
	c.fpM = nil // the caller changes it
	if c.sharedM {
		c.m = c.m.Clone()
		c.sharedM = false
	}
	return c.m
}
