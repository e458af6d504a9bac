package coord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

// TestRegistry: nodes join, leave on Close, leave when their lease expires, and a node
// registering again under the same name is a different node.
func TestRegistry(t *testing.T) {
	t.Parallel()
	const ttl = 2
	e := startEtcd(t)
	cli, n2Cli := dial(t, e), dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 15*time.Second)

	n1, err := c.Register(ctx, "n1", "10.0.0.1:1", ttl)
	require.NoError(t, err)
	t.Cleanup(n1.Close)
	require.True(t, strings.HasPrefix(string(n1.ID), "n1@"), "id %s", n1.ID)
	nodes, rev, err := c.Nodes(ctx)
	require.NoError(t, err)
	require.Equal(t, map[ops.NodeID]string{n1.ID: "10.0.0.1:1"}, nodes)

	watch := c.WatchNodes(ctx, rev)
	n2, err := New(n2Cli, testCF).Register(ctx, "n2", "10.0.0.2:1", ttl)
	require.NoError(t, err)
	t.Cleanup(n2.Close)
	ev := next(t, watch, 2*time.Second)
	require.Equal(t, NodeEvent{ID: n2.ID, Addr: "10.0.0.2:1", Joined: true, Rev: n2.Revision}, ev)

	// Close: n1 leaves at once.
	n1.Close()
	require.True(t, closed(n1.Done(), time.Second))
	ev = next(t, watch, 2*time.Second)
	require.Equal(t, n1.ID, ev.ID)
	require.False(t, ev.Joined)
	require.Equal(t, "10.0.0.1:1", ev.Addr)

	// Restart: the same name is a new node.
	n1b, err := c.Register(ctx, "n1", "10.0.0.1:2", ttl)
	require.NoError(t, err)
	t.Cleanup(n1b.Close)
	require.NotEqual(t, n1.ID, n1b.ID)
	ev = next(t, watch, 2*time.Second)
	require.Equal(t, NodeEvent{ID: n1b.ID, Addr: "10.0.0.1:2", Joined: true, Rev: n1b.Revision}, ev)

	// Killed: n2's keep-alives stop; it leaves when its lease expires.
	killed := time.Now()
	n2Cli.Close()
	require.True(t, closed(n2.Done(), time.Second), "n2.Done")
	ev = next(t, watch, ttl*time.Second+1500*time.Millisecond)
	require.Equal(t, n2.ID, ev.ID)
	require.False(t, ev.Joined)
	t.Logf("lease of a killed node expired after %v", time.Since(killed))

	nodes, _, err = c.Nodes(ctx)
	require.NoError(t, err)
	require.Equal(t, map[ops.NodeID]string{n1b.ID: "10.0.0.1:2"}, nodes)
	require.False(t, closed(n1b.Done(), 0))
}

// TestRegistrationLost: Done closes when the node key or its lease goes away behind
// the node's back.
func TestRegistrationLost(t *testing.T) {
	e := startEtcd(t)
	cli, admin := dial(t, e), dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 10*time.Second)

	r, err := c.Register(ctx, "n1", "a", 2)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	_, err = admin.Delete(ctx, c.keys.node(r.ID))
	require.NoError(t, err)
	require.True(t, closed(r.Done(), time.Second), "key deleted")

	r2, err := c.Register(ctx, "n1", "a", 2)
	require.NoError(t, err)
	t.Cleanup(r2.Close)
	_, err = admin.Revoke(ctx, r2.claim.sess.Lease())
	require.NoError(t, err)
	require.True(t, closed(r2.Done(), time.Second), "lease revoked")
}

func TestRegisterInvalid(t *testing.T) {
	e := startEtcd(t)
	c := New(dial(t, e), testCF)
	tests := []struct {
		name, node, addr string
		ttl              int
	}{
		{"empty name", "", "a", 2},
		{"slash in name", "n/1", "a", 2},
		{"at in name", "n@1", "a", 2},
		{"space in name", "n 1", "a", 2},
		{"long name", strings.Repeat("n", 65), "a", 2},
		{"empty addr", "n1", "", 2},
		{"zero ttl", "n1", "a", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Register(context.Background(), tt.node, tt.addr, tt.ttl)
			require.ErrorIs(t, err, ErrInvalidArgument)
		})
	}
}
