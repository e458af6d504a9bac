package coord

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// campaignAsync campaigns in the background and delivers the result.
func campaignAsync(ctx context.Context, c *Coord, candidate string, ttl int) <-chan *Leadership {
	out := make(chan *Leadership, 1)
	go func() {
		l, err := c.Campaign(ctx, candidate, ttl)
		if err != nil {
			close(out)
			return
		}
		out <- l
	}()
	return out
}

// TestElectionFailover: a second candidate wins only once the first loses its
// leadership, whichever way it loses it; the first's Done closes and the epoch grows.
func TestElectionFailover(t *testing.T) {
	t.Parallel()
	const ttl = 2
	e := startEtcd(t)
	admin := dial(t, e)
	tests := []struct {
		name string
		// lose makes leader a lose its leadership; admin is an independent client.
		lose func(t *testing.T, a *Leadership, aCli, admin *clientv3.Client)
		// within bounds how long the follower may wait after lose.
		within time.Duration
	}{
		{"resign", func(t *testing.T, a *Leadership, _, _ *clientv3.Client) {
			require.NoError(t, a.Resign(context.Background()))
			require.NoError(t, a.Resign(context.Background()), "idempotent")
		}, time.Second},
		{"close", func(_ *testing.T, a *Leadership, _, _ *clientv3.Client) { a.Close(); a.Close() }, time.Second},
		{"killed: keep-alives stop, lease expires", func(_ *testing.T, _ *Leadership, aCli, _ *clientv3.Client) {
			aCli.Close() // like SIGKILL: no revoke, the lease runs out
		}, ttl*time.Second + 1500*time.Millisecond},
		{"lease revoked", func(t *testing.T, a *Leadership, _, admin *clientv3.Client) {
			_, err := admin.Revoke(context.Background(), a.claim.sess.Lease())
			require.NoError(t, err)
		}, time.Second},
		{"leader key deleted", func(t *testing.T, a *Leadership, _, admin *clientv3.Client) {
			_, err := admin.Delete(context.Background(), a.claim.key)
			require.NoError(t, err)
		}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case elects in a changefeed of its own.
			cf := ops.ChangefeedID("cf-" + tt.name)
			aCli, bCli := dial(t, e), dial(t, e)
			ctx := testCtx(t, 15*time.Second)

			a, err := New(aCli, cf).Campaign(ctx, "a", ttl)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			who, epoch, err := New(admin, cf).Leader(ctx)
			require.NoError(t, err)
			require.Equal(t, "a", who)
			require.Equal(t, a.Epoch, epoch)

			bWon := campaignAsync(ctx, New(bCli, cf), "b", ttl)
			select {
			case <-bWon:
				require.FailNow(t, "b elected while a leads")
			case <-time.After(300 * time.Millisecond):
			}

			lost := time.Now()
			tt.lose(t, a, aCli, admin)
			var b *Leadership
			select {
			case b = <-bWon:
				require.NotNil(t, b, "b's campaign failed")
			case <-time.After(tt.within):
				require.FailNow(t, "b not elected", "within %v", tt.within)
			}
			t.Cleanup(b.Close)
			t.Logf("failover in %v", time.Since(lost))
			require.True(t, closed(a.Done(), tt.within), "a.Done not closed")
			require.False(t, closed(b.Done(), 0), "b.Done closed")
			require.Greater(t, b.Epoch, a.Epoch)

			who, epoch, err = New(admin, cf).Leader(ctx)
			require.NoError(t, err)
			require.Equal(t, "b", who)
			require.Equal(t, b.Epoch, epoch)
		})
	}
}

func TestElectionEpochsGrow(t *testing.T) {
	e := startEtcd(t)
	c := New(dial(t, e), testCF)
	ctx := testCtx(t, 10*time.Second)
	var last ops.Epoch
	for i, name := range []string{"a", "b", "a", "c"} {
		l, err := c.Campaign(ctx, name, 2)
		require.NoError(t, err)
		require.Greater(t, l.Epoch, last, "leader %d", i)
		last = l.Epoch
		require.NoError(t, l.Resign(ctx))
		require.True(t, closed(l.Done(), time.Second))
	}
	_, _, err := c.Leader(ctx)
	require.ErrorIs(t, err, ErrNoLeader)
}

// TestCampaignCancelled: a campaign whose context ends returns its error and leaves
// nothing queued behind the leader.
func TestCampaignCancelled(t *testing.T) {
	e := startEtcd(t)
	cli := dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 10*time.Second)
	a, err := c.Campaign(ctx, "a", 2)
	require.NoError(t, err)
	t.Cleanup(a.Close)

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = c.Campaign(short, "b", 2)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	require.Eventually(t, func() bool {
		resp, err := cli.Get(ctx, c.keys.leader+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err == nil && resp.Count == 1
	}, 3*time.Second, 50*time.Millisecond, "the cancelled candidate's key is left")

	_, err = c.Campaign(ctx, "x", 0)
	require.ErrorIs(t, err, ErrInvalidArgument)
}

// TestCampaignState: the winner reads the nodes, tables and checkpoint at one revision,
// and watches from it see only later changes.
func TestCampaignState(t *testing.T) {
	e := startEtcd(t)
	c := New(dial(t, e), testCF)
	ctx := testCtx(t, 10*time.Second)

	n1, err := c.Register(ctx, "n1", "127.0.0.1:7001", 2)
	require.NoError(t, err)
	t.Cleanup(n1.Close)
	require.NoError(t, c.CreateTable(ctx, 10, 100))
	require.NoError(t, c.CreateTable(ctx, 11, 110))
	first, err := c.Campaign(ctx, "m0", 2)
	require.NoError(t, err)
	require.NoError(t, first.AdvanceCheckpoint(ctx, 105))
	require.NoError(t, first.Resign(ctx))

	l, err := c.Campaign(ctx, "m1", 2)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	require.Equal(t, State{
		Nodes:      map[ops.NodeID]string{n1.ID: "127.0.0.1:7001"},
		Tables:     map[ops.TableID]uint64{10: 100, 11: 110},
		Checkpoint: 105,
	}, l.State)
	st, rev, err := c.State(ctx)
	require.NoError(t, err)
	require.Equal(t, l.State, st)
	require.GreaterOrEqual(t, rev, l.Revision)

	require.NoError(t, c.CreateTable(ctx, 12, 120))
	ev := next(t, c.WatchTables(ctx, l.Revision), 2*time.Second)
	require.Equal(t, TableEvent{Table: 12, Checkpoint: 120, Created: true, Rev: ev.Rev}, ev)
	require.Greater(t, ev.Rev, l.Revision)
}

func TestAdvanceCheckpoint(t *testing.T) {
	e := startEtcd(t)
	cli, admin := dial(t, e), dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 10*time.Second)

	ck, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	require.Zero(t, ck, "never written")

	a, err := c.Campaign(ctx, "a", 2)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	steps := []struct {
		ckpt    uint64
		wantErr error
		stored  uint64
	}{
		{10, nil, 10},
		{20, nil, 20},
		{20, nil, 20}, // equal: a no-op
		{15, ErrCheckpointBackwards, 20},
		{0, ErrCheckpointBackwards, 20},
		{21, nil, 21},
	}
	for _, s := range steps {
		err := a.AdvanceCheckpoint(ctx, s.ckpt)
		if s.wantErr != nil {
			require.ErrorIs(t, err, s.wantErr, "advance to %d", s.ckpt)
		} else {
			require.NoError(t, err, "advance to %d", s.ckpt)
		}
		ck, err := c.Checkpoint(ctx)
		require.NoError(t, err)
		require.Equal(t, s.stored, ck, "after advancing to %d", s.ckpt)
	}

	// Deposed without noticing: its lease is revoked behind its back.
	_, err = admin.Revoke(ctx, a.claim.sess.Lease())
	require.NoError(t, err)
	b, err := New(admin, testCF).Campaign(ctx, "b", 2)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.ErrorIs(t, a.AdvanceCheckpoint(ctx, 50), ErrNotLeader)
	require.NoError(t, b.AdvanceCheckpoint(ctx, 30))
	require.ErrorIs(t, a.AdvanceCheckpoint(ctx, 60), ErrNotLeader)
	ck, err = c.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(30), ck)

	// A checkpoint someone else moved meanwhile is re-read, not overwritten blindly.
	_, err = admin.Put(ctx, c.keys.checkpoint, "40")
	require.NoError(t, err)
	require.ErrorIs(t, b.AdvanceCheckpoint(ctx, 35), ErrCheckpointBackwards)
	require.NoError(t, b.AdvanceCheckpoint(ctx, 45))

	require.NoError(t, b.Resign(ctx))
	require.ErrorIs(t, b.AdvanceCheckpoint(ctx, 50), ErrNotLeader)
}
