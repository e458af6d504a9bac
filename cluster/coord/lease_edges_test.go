package coord

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// countingClient is a client of e whose Gets and Watches are counted: how often a
// claim's monitor reads its key and watches it again.
type countingClient struct {
	*clientv3.Client
	kv *countingKV
	w  *countingWatcher
}

type countingKV struct {
	clientv3.KV
	gets atomic.Int64
}

func (k *countingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	k.gets.Add(1)
	return k.KV.Get(ctx, key, opts...)
}

type countingWatcher struct {
	clientv3.Watcher
	watches atomic.Int64
}

func (w *countingWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	w.watches.Add(1)
	return w.Watcher.Watch(ctx, key, opts...)
}

func dialCounting(t *testing.T, e *Embedded) *countingClient {
	t.Helper()
	cli := dial(t, e)
	c := &countingClient{Client: cli, kv: &countingKV{KV: cli.KV}, w: &countingWatcher{Watcher: cli.Watcher}}
	cli.KV, cli.Watcher = c.kv, c.w
	return c
}

// calls is how many times the client watched and read: [watches, gets].
func (c *countingClient) calls() [2]int64 { return [2]int64{c.w.watches.Load(), c.kv.gets.Load()} }

// settles requires that c's calls reach want and stay there while a claim could act.
func (c *countingClient) settles(t *testing.T, want [2]int64) {
	t.Helper()
	require.Eventually(t, func() bool { return c.calls() == want }, time.Second, 5*time.Millisecond, "calls %v", c.calls())
	time.Sleep(stillHeld) // then nothing more: a monitor that spins or re-reads shows here
	require.Equal(t, want, c.calls(), "[watches, gets]")
}

// isClosed reports whether ch is closed now, without waiting (closed(ch, 0) may pick
// its timer over a closed ch).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// stillHeld is how long a test watches a claim that must not be lost: what it checks
// makes a broken claim close its Done within milliseconds.
const stillHeld = 300 * time.Millisecond

// TestLeaseEdges runs the edge cases of leases, claims and the checkpoint against one
// embedded etcd, each case in a changefeed of its own. The compaction case goes last: it
// compacts the whole store.
func TestLeaseEdges(t *testing.T) {
	t.Parallel()
	e := startEtcd(t)
	cli, admin := dial(t, e), dial(t, e)
	ctx := testCtx(t, 30*time.Second)

	t.Run("the shortest TTL is accepted", func(t *testing.T) {
		c := New(cli, "ttl-1")
		l, err := c.Campaign(ctx, "m", 1)
		require.NoError(t, err)
		t.Cleanup(l.Close)
		require.Equal(t, EmbeddedMinTTL, l.claim.ttl)
		r, err := c.Register(ctx, "n1", "a", 1)
		require.NoError(t, err)
		t.Cleanup(r.Close)
		require.Equal(t, EmbeddedMinTTL, r.claim.ttl)
		_, err = c.Register(ctx, "n1", "a", 0)
		require.ErrorIs(t, err, ErrInvalidArgument)
	})

	t.Run("a first checkpoint of 0 is written", func(t *testing.T) {
		c := New(cli, "ckpt-0")
		l, err := c.Campaign(ctx, "m", 2)
		require.NoError(t, err)
		t.Cleanup(l.Close)
		require.NoError(t, l.AdvanceCheckpoint(ctx, 0))
		resp, err := admin.Get(ctx, c.keys.checkpoint)
		require.NoError(t, err)
		require.Len(t, resp.Kvs, 1)
		require.Equal(t, "0", string(resp.Kvs[0].Value))
		require.NoError(t, l.AdvanceCheckpoint(ctx, 0), "then a no-op")
		require.NoError(t, l.AdvanceCheckpoint(ctx, 1))
	})

	t.Run("a resign that cannot revoke reports why, every time", func(t *testing.T) {
		l, err := New(cli, "resign-cancelled").Campaign(ctx, "m", 2)
		require.NoError(t, err)
		t.Cleanup(l.Close)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		err = l.Resign(cancelled)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, closed(l.Done(), time.Second), "given up all the same")
		again := l.Resign(ctx)
		require.Error(t, again)
		require.Equal(t, err.Error(), again.Error(), "the first call's error")
	})

	t.Run("a registration etcd refuses leaves no lease", func(t *testing.T) {
		before, err := admin.Leases(ctx)
		require.NoError(t, err)
		// Over etcd's request limit (1.5 MiB), under the client's (2 MiB): etcd refuses
		// the write after the lease was granted.
		_, err = New(cli, "too-large").Register(ctx, "n1", strings.Repeat("a", 1600<<10), 2)
		require.ErrorIs(t, err, rpctypes.ErrRequestTooLarge)
		require.Contains(t, err.Error(), `coord: register node "n1" in too-large:`)
		after, err := admin.Leases(ctx)
		require.NoError(t, err)
		for _, l := range after.Leases {
			require.Contains(t, before.Leases, l, "lease %x left behind", int64(l.ID))
		}
	})

	t.Run("a claim whose value changes is kept", func(t *testing.T) {
		counting := dialCounting(t, e)
		c := New(counting.Client, "value-changes")
		r, err := c.Register(ctx, "n1", "a", 2)
		require.NoError(t, err)
		t.Cleanup(r.Close)
		key := c.keys.node(r.ID)
		_, err = admin.Put(ctx, key, "b", clientv3.WithIgnoreLease())
		require.NoError(t, err)
		counting.settles(t, [2]int64{1, 0}) // the event is read off the one watch
		require.False(t, isClosed(r.Done()), "lost on a new value")
		nodes, _, err := c.Nodes(ctx)
		require.NoError(t, err)
		require.Equal(t, map[ops.NodeID]string{r.ID: "b"}, nodes)
		_, err = admin.Delete(ctx, key)
		require.NoError(t, err)
		require.True(t, closed(r.Done(), time.Second), "still watched after the change")
	})

	t.Run("a waiting candidate whose lease is revoked queues again", func(t *testing.T) {
		c := New(cli, "waiter-revoked")
		a, err := c.Campaign(ctx, "a", 2)
		require.NoError(t, err)
		t.Cleanup(a.Close)
		bWon := campaignAsync(ctx, New(admin, "waiter-revoked"), "b", 2)
		queue := func() []clientv3.LeaseID {
			resp, err := admin.Get(ctx, c.keys.leader+"/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
			require.NoError(t, err)
			var out []clientv3.LeaseID
			for _, kv := range resp.Kvs {
				out = append(out, clientv3.LeaseID(kv.Lease))
			}
			return out
		}
		require.Eventually(t, func() bool { return len(queue()) == 2 }, 2*time.Second, 10*time.Millisecond)
		first := queue()[1]
		_, err = admin.Revoke(ctx, first)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			q := queue()
			return len(q) == 2 && q[1] != first
		}, 3*time.Second, 10*time.Millisecond, "b campaigns again with a new lease")
		require.NoError(t, a.Resign(ctx))
		var b *Leadership
		select {
		case b = <-bWon:
			require.NotNil(t, b, "b's campaign failed")
		case <-time.After(2 * time.Second):
			require.FailNow(t, "b not elected")
		}
		t.Cleanup(b.Close)
		require.Greater(t, b.Epoch, a.Epoch)
		who, epoch, err := c.Leader(ctx)
		require.NoError(t, err)
		require.Equal(t, "b", who)
		require.Equal(t, b.Epoch, epoch)
	})

	// The claim's watch starts at the revision after its key's: compacted up to that one
	// it starts as usual; compacted past it, the claim reads its key and watches again,
	// once, from after the revision read.
	for _, tc := range []struct {
		name  string
		puts  int      // writes elsewhere after the key's, then a compaction at the last
		calls [2]int64 // [watches, gets] of the claim
	}{
		{"a claim watched from the compacted revision is kept", 1, [2]int64{1, 0}},
		{"a claim watched from before the compacted revision is kept", 2, [2]int64{2, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			counting := dialCounting(t, e)
			sess, granted, err := newSession(ctx, counting.Client, 2)
			require.NoError(t, err)
			key := New(counting.Client, "compacted").keys.node(ops.NodeID(fmt.Sprintf("n%d@1", tc.puts)))
			put, err := admin.Put(ctx, key, "a", clientv3.WithLease(sess.Lease()))
			require.NoError(t, err)
			var last int64
			for range tc.puts {
				resp, err := admin.Put(ctx, "/elsewhere", "x")
				require.NoError(t, err)
				last = resp.Header.Revision
			}
			require.Equal(t, put.Header.Revision+int64(tc.puts), last)
			_, err = admin.Compact(ctx, last)
			require.NoError(t, err)

			cl := newClaim(counting.Client, sess, key, put.Header.Revision, granted)
			t.Cleanup(cl.close)
			counting.settles(t, tc.calls)
			require.False(t, isClosed(cl.done), "lost when its watch was compacted")
			_, err = admin.Delete(ctx, key)
			require.NoError(t, err)
			require.True(t, closed(cl.done, time.Second), "not watched again after the compaction")
		})
	}
}
