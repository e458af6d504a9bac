package coord

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// Registration is a node process's entry in the changefeed's node registry, alive as
// long as its lease.
type Registration struct {
	// ID is the node's protocol identity: its name, '@', and the registration's lease
	// id in hex. A node that registers again (a restart) is a different node.
	ID ops.NodeID
	// Addr is the address the node registered.
	Addr string
	// Revision is the store revision at which the node joined.
	Revision int64

	claim *claim
}

// Register enters a node called name (1 to 64 letters, digits, '.', '_' or '-') with
// address addr into the registry, under a lease of ttlSeconds (raised by etcd to its
// minimum) kept alive in the background: a node that dies leaves the registry about
// ttlSeconds later.
func (c *Coord) Register(ctx context.Context, name, addr string, ttlSeconds int) (*Registration, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("coord: register node: %w: %w", ErrInvalidArgument, err)
	}
	if addr == "" {
		return nil, fmt.Errorf("coord: register node %q: %w: empty address", name, ErrInvalidArgument)
	}
	if ttlSeconds < 1 {
		return nil, fmt.Errorf("coord: register node %q: %w: ttl %d s", name, ErrInvalidArgument, ttlSeconds)
	}
	sess, granted, err := newSession(ctx, c.cli, ttlSeconds)
	if err != nil {
		return nil, fmt.Errorf("coord: register node %q in %s: %w", name, c.cf, err)
	}
	id := nodeID(name, sess.Lease())
	key := c.keys.node(id)
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, addr, clientv3.WithLease(sess.Lease()))).
		Commit()
	if err == nil && !resp.Succeeded {
		err = fmt.Errorf("key %s exists", key) // a lease id is never reused: cannot happen
	}
	if err != nil {
		endSession(c.cli, sess, granted)
		return nil, fmt.Errorf("coord: register node %q in %s: %w", name, c.cf, err)
	}
	rev := resp.Header.Revision
	return &Registration{ID: id, Addr: addr, Revision: rev, claim: newClaim(c.cli, sess, key, rev, granted)}, nil
}

// Done is closed when the registration is lost: the lease expired or was revoked, its
// keep-alives failed for a TTL, the node key was deleted, or Close ran. The node is then
// gone for the maintainer; a process that lives on must register again, as a new node.
func (r *Registration) Done() <-chan struct{} { return r.claim.done }

// Close leaves the registry: it revokes the lease, which deletes the node key. It is
// idempotent, and bounded by the lease TTL (past it the lease has expired anyway).
func (r *Registration) Close() { r.claim.close() }
