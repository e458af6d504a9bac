package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

// TestCloneIsIndependent: along random walks with every fault, a clone (also one written
// into a dropped clone) has the original's state and enabled actions; applying an action to the clone leaves the original as it
// was, and the other way round; and applying the same action to both keeps them equal. This is what lets an
// exhaustive search clone states instead of replaying paths. Every fingerprint, whose
// parts' encodings (and the network's list of streams) a clone shares with its original
// until the part changes, equals one computed without those caches.
func TestCloneIsIndependent(t *testing.T) {
	cfg := halvesConfig(Bugs{})
	cfg.Limits = Limits{MaxEpoch: 3, MaxLoss: 2, MaxDup: 2, MaxCrash: 1, MaxOps: 4}
	walkClones(t, cfg, 60, 150)
	// More nodes than a clone holds in its own allocation, and more than the bits that
	// track shared node cores: the cores past the 64th are copied at once.
	for _, extra := range []int{inlineNodes - 1, 64} {
		t.Run(fmt.Sprintf("%d nodes", len(cfg.Nodes)+extra), func(t *testing.T) {
			big := cfg
			big.Nodes = slices.Clone(cfg.Nodes)
			for i := range extra {
				big.Nodes = append(big.Nodes, ops.NodeID(fmt.Sprintf("N%02d", i)))
			}
			walkClones(t, big, 3, 25)
		})
	}
}

// walkClones takes seeds random walks of up to steps steps in cfg's world and checks
// every state as TestCloneIsIndependent says.
func walkClones(t *testing.T, cfg Config, seeds uint64, steps int) {
	for seed := uint64(1); seed <= seeds; seed++ {
		c, err := NewCluster(cfg)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(seed, 7))
		for step := 0; step < steps; step++ {
			acts := c.Enabled()
			if len(acts) == 0 {
				break
			}
			before := c.Fingerprint()
			d := c.Clone()
			require.Equal(t, before, d.Fingerprint(), "seed %d step %d", seed, step)
			require.Equal(t, fmt.Sprint(acts), fmt.Sprint(d.Enabled()), "seed %d step %d", seed, step)
			// The clone takes every enabled action in turn (each on its own clone, written
			// into the one before, which is dropped: CloneInto); the original must not
			// notice.
			var spare *Cluster
			for _, a := range acts {
				x := c.CloneInto(spare)
				require.Equal(t, before, x.Fingerprint(), "seed %d step %d: a clone into a spare", seed, step)
				require.NoError(t, x.Apply(a))
				require.Equal(t, uncachedFingerprint(x), x.Fingerprint(), "seed %d step %d: a clone after %s", seed, step, a)
				spare = x
			}
			a := acts[rng.IntN(len(acts))]
			require.NoError(t, d.Apply(a))
			require.Equal(t, before, c.Fingerprint(), "seed %d step %d: applying %s to a clone changed the original", seed, step, a)
			e := c.Clone() // nor does applying it to the original change a clone
			require.NoError(t, c.Apply(a))
			require.Equal(t, before, uncachedFingerprint(e), "seed %d step %d: applying %s to the original changed a clone", seed, step, a)
			require.Equal(t, c.Fingerprint(), d.Fingerprint(), "seed %d step %d after %s", seed, step, a)
			require.Equal(t, uncachedFingerprint(c), c.Fingerprint(), "seed %d step %d after %s", seed, step, a)
			require.Equal(t, c.Check() == nil, d.Check() == nil)
		}
	}
}

// uncachedFingerprint is c's fingerprint computed afresh, without the cached encodings of
// its node cores, maintainer and bootstrap answers, and with its streams encoded anew.
func uncachedFingerprint(c *Cluster) string {
	e := *c
	e.nodes = slices.Clone(c.nodes)
	for i := range e.nodes {
		e.nodes[i].fp = nil
	}
	e.fpM, e.fpAns = nil, nil
	e.net = Network{}
	for _, q := range c.net.req {
		e.net.req = append(e.net.req, newRequestQueue(q.s, q.q))
	}
	for _, q := range c.net.stq {
		e.net.stq = append(e.net.stq, newStatusQueue(q.n, q.q))
	}
	return e.Fingerprint()
}

// TestCloneIntoItself: a cluster given itself as the spare still gets a copy of its own,
// which an action changes without it.
func TestCloneIntoItself(t *testing.T) {
	c, err := NewCluster(halvesConfig(Bugs{}))
	require.NoError(t, err)
	before := c.Fingerprint()
	d := c.CloneInto(c)
	require.NotSame(t, c, d)
	acts := d.Enabled()
	require.NotEmpty(t, acts)
	require.NoError(t, d.Apply(acts[0]))
	require.Equal(t, before, c.Fingerprint())
	require.NotEqual(t, before, d.Fingerprint())
}
