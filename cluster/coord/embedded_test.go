package coord

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEmbeddedStartReopenClose(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	e, err := StartEmbedded(dir, nil)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	t.Logf("embedded etcd ready in %v", time.Since(start))

	eps := e.Endpoints()
	require.Len(t, eps, 1)
	u, err := url.Parse(eps[0])
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", u.Hostname())
	require.NotEqual(t, "2379", u.Port())

	cli, err := Dial(eps)
	require.NoError(t, err)
	ctx := testCtx(t, 10*time.Second)
	_, err = cli.Put(ctx, "k", "v")
	require.NoError(t, err)
	cli.Close()
	e.Close()
	e.Close() // idempotent

	// A second server on the same dir has the data (on new ports).
	e2, err := StartEmbedded(dir, nil)
	require.NoError(t, err)
	t.Cleanup(e2.Close)
	cli2 := dial(t, e2)
	resp, err := cli2.Get(ctx, "k")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Equal(t, "v", string(resp.Kvs[0].Value))
}

func TestEmbeddedTwoAtOnce(t *testing.T) {
	a, b := startEtcd(t), startEtcd(t)
	require.NotEqual(t, a.Endpoints(), b.Endpoints())
}

func TestEmbeddedMinTTL(t *testing.T) {
	cli := dial(t, startEtcd(t))
	ctx := testCtx(t, 10*time.Second)
	for _, ask := range []int64{1, 2} {
		resp, err := cli.Grant(ctx, ask)
		require.NoError(t, err)
		require.Equal(t, max(ask, EmbeddedMinTTL), resp.TTL, "granted TTL for %d s", ask)
	}
}

func TestDialUnreachable(t *testing.T) {
	t.Parallel()
	// A port that accepts TCP but never speaks etcd, held for the whole test so that
	// no etcd of a parallel test can take it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	start := time.Now()
	_, err = Dial([]string{"http://" + l.Addr().String()})
	require.ErrorIs(t, err, ErrUnreachable)
	require.Less(t, time.Since(start), DialTimeout+time.Second)

	_, err = Dial(nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
}

func TestStartEmbeddedBadDir(t *testing.T) {
	_, err := StartEmbedded("", nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
}
