package coord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// claim is a key this process holds under a session lease: the leader key of a
// Leadership or the node key of a Registration. It is lost when the session ends (the
// lease expired or was revoked, or keep-alives failed for a TTL) or the key is deleted
// or replaced; done is closed then, or when the claim is released.
type claim struct {
	cli  *clientv3.Client
	sess *concurrency.Session
	key  string
	rev  int64 // the key's create revision
	ttl  int   // the lease TTL in seconds, as granted

	done    chan struct{}
	stop    context.CancelFunc
	release sync.Once
	err     error
}

func newClaim(cli *clientv3.Client, sess *concurrency.Session, key string, rev int64, ttl int) *claim {
	ctx, stop := context.WithCancel(context.Background())
	c := &claim{cli: cli, sess: sess, key: key, rev: rev, ttl: ttl, done: make(chan struct{}), stop: stop}
	go c.monitor(ctx)
	return c
}

// monitor closes done when the claim is lost or released.
func (c *claim) monitor(ctx context.Context) {
	defer close(c.done)
	next := c.rev + 1
	for {
		wctx, cancel := context.WithCancel(ctx)
		lost := c.follow(ctx, c.cli.Watch(wctx, c.key, clientv3.WithRev(next)), &next)
		cancel()
		if lost || ctx.Err() != nil {
			return
		}
		// The watch failed (compaction, a closed client): read the key, watch again.
		for {
			if c.cli.Ctx().Err() != nil {
				return
			}
			gctx, gcancel := context.WithTimeout(ctx, time.Second)
			resp, err := c.cli.Get(gctx, c.key)
			gcancel()
			if err == nil {
				if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != c.rev {
					return
				}
				next = resp.Header.Revision + 1
				break
			}
			select {
			case <-c.sess.Done():
				return
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// follow consumes one watch of the key until the claim is lost (true) or the watch
// fails (false); next tracks the revision to resume from.
func (c *claim) follow(ctx context.Context, wch clientv3.WatchChan, next *int64) bool {
	for {
		select {
		case <-c.sess.Done():
			return true
		case <-ctx.Done():
			return true
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil || resp.Canceled {
				return false
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete || ev.Kv.CreateRevision != c.rev {
					return true
				}
			}
			if resp.Header.Revision >= *next {
				*next = resp.Header.Revision + 1
			}
		}
	}
}

// giveUp stops the keep-alives, revokes the lease (which deletes the key) and waits
// for the monitor to stop. Only the first call does anything; later calls return the
// first call's error. Keep-alives stop even if the revoke fails, so the lease expires
// within its TTL anyway.
func (c *claim) giveUp(ctx context.Context) error {
	c.release.Do(func() {
		c.sess.Orphan()
		if err := c.cli.Ctx().Err(); err != nil {
			// A closed client cannot revoke (it would retry until ctx ends).
			c.err = fmt.Errorf("revoke lease %x: client closed: %w", int64(c.sess.Lease()), err)
		} else if _, err := c.cli.Revoke(ctx, c.sess.Lease()); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			c.err = err // a lease not found has expired or was revoked: the key is gone
		}
		c.stop()
		<-c.done
	})
	return c.err
}

// close is giveUp bounded by the lease TTL, ignoring the error: past the TTL the lease
// has expired anyway.
func (c *claim) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.ttl)*time.Second)
	defer cancel()
	_ = c.giveUp(ctx)
}
