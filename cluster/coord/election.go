package coord

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	ops "github.com/opfsm/opfsm/operators"
)

// Leadership is this candidate's term as the changefeed's leader (its maintainer).
type Leadership struct {
	// Epoch is the leader key's create revision: every later leader of the changefeed
	// has a larger one.
	Epoch ops.Epoch
	// Revision is the store revision at which State was read, right after winning and
	// while still holding the leader key: watches of nodes and tables start after it.
	Revision int64
	// State is the changefeed's nodes, tables and checkpoint at Revision.
	State State

	coord *Coord
	claim *claim
}

// Campaign blocks until candidate is elected leader of the changefeed, or ctx ends. The
// candidate string is the leader key's value (Leader returns it), e.g. the maintainer's
// address. The leadership rides a lease of ttlSeconds (raised by etcd to its minimum,
// EmbeddedMinTTL with the embedded etcd) kept alive in the background: a candidate that
// dies loses the leadership about ttlSeconds later. Having won, Campaign reads State in
// a transaction that checks the leader key still exists; if it does not (the lease
// expired meanwhile) it campaigns again. Malformed data in State is an error (a
// *DataError), and the leadership is given up.
func (c *Coord) Campaign(ctx context.Context, candidate string, ttlSeconds int) (*Leadership, error) {
	if ttlSeconds < 1 {
		return nil, fmt.Errorf("coord: campaign %q: %w: ttl %d s", candidate, ErrInvalidArgument, ttlSeconds)
	}
	for {
		l, err := c.campaignOnce(ctx, candidate, ttlSeconds)
		if errors.Is(err, errLostBeforeRead) {
			continue
		}
		return l, err
	}
}

var errLostBeforeRead = errors.New("leader key gone before state was read")

func (c *Coord) campaignOnce(ctx context.Context, candidate string, ttl int) (*Leadership, error) {
	sess, granted, err := newSession(ctx, c.cli, ttl)
	if err != nil {
		return nil, fmt.Errorf("coord: campaign %q for %s: %w", candidate, c.cf, err)
	}
	fail := func(err error) (*Leadership, error) {
		endSession(c.cli, sess, granted)
		return nil, fmt.Errorf("coord: campaign %q for %s: %w", candidate, c.cf, err)
	}
	el := concurrency.NewElection(sess, c.keys.leader)
	// A session lost while waiting (its lease revoked) leaves no key in the queue:
	// stop waiting and campaign again with a new one.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-cctx.Done():
		}
	}()
	if err := el.Campaign(cctx, candidate); err != nil {
		if ctx.Err() == nil && cctx.Err() != nil {
			endSession(c.cli, sess, granted)
			return nil, errLostBeforeRead
		}
		return fail(err)
	}
	key, rev := el.Key(), el.Rev()
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", rev)).
		Then(c.stateOps()...).
		Commit()
	if err != nil {
		return fail(err)
	}
	if !resp.Succeeded {
		endSession(c.cli, sess, granted)
		return nil, errLostBeforeRead
	}
	st, err := c.decodeState(resp.Responses)
	if err != nil {
		return fail(err)
	}
	return &Leadership{
		Epoch:    ops.Epoch(rev),
		Revision: resp.Header.Revision,
		State:    st,
		coord:    c,
		claim:    newClaim(c.cli, sess, key, rev, granted),
	}, nil
}

// newSession grants a lease of ttl seconds under ctx and keeps it alive in the
// background; it returns the TTL etcd granted.
func newSession(ctx context.Context, cli *clientv3.Client, ttl int) (*concurrency.Session, int, error) {
	lease, err := cli.Grant(ctx, int64(ttl))
	if err != nil {
		return nil, 0, fmt.Errorf("grant a %d s lease: %w", ttl, err)
	}
	granted := int(lease.TTL)
	sess, err := concurrency.NewSession(cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(granted))
	if err != nil {
		revokeLease(cli, lease.ID, granted)
		return nil, 0, fmt.Errorf("keep lease %x alive: %w", int64(lease.ID), err)
	}
	return sess, granted, nil
}

// endSession ends a session that holds nothing worth keeping: it stops the keep-alives
// and revokes the lease, giving up after ttl (when the lease has expired anyway).
func endSession(cli *clientv3.Client, sess *concurrency.Session, ttl int) {
	sess.Orphan()
	revokeLease(cli, sess.Lease(), ttl)
}

func revokeLease(cli *clientv3.Client, id clientv3.LeaseID, ttl int) {
	if cli.Ctx().Err() != nil {
		return // a closed client cannot revoke; the lease expires
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(ttl)*time.Second)
	defer cancel()
	_, _ = cli.Revoke(ctx, id)
}

// Done is closed when the leadership is lost: the lease expired or was revoked, its
// keep-alives failed for a TTL, the leader key was deleted, or Resign or Close ran.
// A Leadership whose Done is closed must stop acting; AdvanceCheckpoint refuses it.
func (l *Leadership) Done() <-chan struct{} { return l.claim.done }

// Resign gives the leadership up: it revokes the lease, which deletes the leader key so
// the next candidate is elected at once. It is idempotent. If it fails (ctx ended),
// the keep-alives have stopped anyway and the lease expires within its TTL.
func (l *Leadership) Resign(ctx context.Context) error {
	if err := l.claim.giveUp(ctx); err != nil {
		return fmt.Errorf("coord: resign leadership of %s (epoch %d): %w", l.coord.cf, l.Epoch, err)
	}
	return nil
}

// Close is Resign bounded by the lease TTL, ignoring errors. It is idempotent.
func (l *Leadership) Close() { l.claim.close() }

// AdvanceCheckpoint writes ckpt as the changefeed checkpoint, in a transaction that
// holds only while this leadership's leader key exists: a deposed leader (or one whose
// Done is closed) gets an error wrapping ErrNotLeader. The checkpoint never goes backwards: a ckpt below the stored
// one is refused with ErrCheckpointBackwards, and one equal to it is a no-op.
func (l *Leadership) AdvanceCheckpoint(ctx context.Context, ckpt uint64) error {
	c := l.coord
	leaderIs := clientv3.Compare(clientv3.CreateRevision(l.claim.key), "=", l.claim.rev)
	select {
	case <-l.claim.done:
		return fmt.Errorf("coord: advance checkpoint of %s to %d: %w (epoch %d, leadership lost)",
			c.cf, ckpt, ErrNotLeader, l.Epoch)
	default:
	}
	var stored uint64
	var modRev int64
	for {
		if ckpt == stored && modRev != 0 {
			return nil
		}
		if ckpt < stored {
			return fmt.Errorf("coord: advance checkpoint of %s to %d: %w: stored %d",
				c.cf, ckpt, ErrCheckpointBackwards, stored)
		}
		resp, err := c.cli.Txn(ctx).
			If(leaderIs, clientv3.Compare(clientv3.ModRevision(c.keys.checkpoint), "=", modRev)).
			Then(clientv3.OpPut(c.keys.checkpoint, formatCheckpoint(ckpt))).
			Else(clientv3.OpGet(l.claim.key), clientv3.OpGet(c.keys.checkpoint)).
			Commit()
		if err != nil {
			return fmt.Errorf("coord: advance checkpoint of %s to %d: %w", c.cf, ckpt, err)
		}
		if resp.Succeeded {
			return nil
		}
		lk := resp.Responses[0].GetResponseRange().Kvs
		if len(lk) == 0 || lk[0].CreateRevision != l.claim.rev {
			return fmt.Errorf("coord: advance checkpoint of %s to %d: %w (epoch %d)",
				c.cf, ckpt, ErrNotLeader, l.Epoch)
		}
		ck := resp.Responses[1].GetResponseRange().Kvs
		if stored, err = c.decodeCheckpoint(ck); err != nil {
			return err
		}
		modRev = 0
		if len(ck) > 0 {
			modRev = ck[0].ModRevision
		}
	}
}
