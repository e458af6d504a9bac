package coord

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

const testCF ops.ChangefeedID = "cf-1"

// startEtcd starts an embedded etcd for one test, closed when the test ends (also
// when it fails).
func startEtcd(t *testing.T) *Embedded {
	t.Helper()
	e, err := StartEmbedded(t.TempDir(), nil)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e
}

// dial connects a client to e, closed when the test ends.
func dial(t *testing.T, e *Embedded) *clientv3.Client {
	t.Helper()
	cli, err := Dial(e.Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// testCtx is a context that ends with the test, or after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// closed reports whether ch is closed within d.
func closed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// next receives one value from ch within d.
func next[T any](t *testing.T, ch <-chan T, d time.Duration) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed")
		return v
	case <-time.After(d):
		require.FailNow(t, "no event", "within %v", d)
	}
	var zero T
	return zero
}

func contextWithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}
