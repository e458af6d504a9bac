package coord

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// NodeEvent is a node joining or leaving the registry.
type NodeEvent struct {
	// ID is the node's protocol identity (name@incarnation).
	ID ops.NodeID
	// Addr is the node's address (on a leave, the address it had, if etcd still knew).
	Addr string
	// Joined is true when the node registered, false when it left (closed, or its
	// lease expired).
	Joined bool
	// Rev is the store revision of the change.
	Rev int64
	// Err, if set, ends the watch: the other fields are empty and the channel closes
	// after this event. It wraps the etcd error (rpctypes.ErrCompacted when afterRev
	// is compacted), ErrWatchClosed, or a *DataError.
	Err error
}

// TableEvent is a table created or dropped.
type TableEvent struct {
	// Table is the table.
	Table ops.TableID
	// Checkpoint is the checkpoint the table was created with (0 on a drop).
	Checkpoint uint64
	// Created is true when the table was created, false when it was dropped.
	Created bool
	// Rev is the store revision of the change.
	Rev int64
	// Err, if set, ends the watch as NodeEvent.Err does.
	Err error
}

// WatchNodes streams the registry's changes after revision afterRev (the revision
// Nodes or State returned; 0 replays all history etcd still has). The channel closes
// when ctx ends, or after an event with Err set.
func (c *Coord) WatchNodes(ctx context.Context, afterRev int64) <-chan NodeEvent {
	return watchPrefix(ctx, c.cli, c.keys.nodes, afterRev, true,
		func(ev *clientv3.Event) (NodeEvent, error) {
			if ev.Type == clientv3.EventTypeDelete {
				id, err := c.keys.decodeNodeKey(ev.Kv.Key)
				if err != nil {
					return NodeEvent{}, err
				}
				out := NodeEvent{ID: id, Rev: ev.Kv.ModRevision}
				if ev.PrevKv != nil {
					out.Addr = string(ev.PrevKv.Value)
				}
				return out, nil
			}
			id, addr, err := c.keys.decodeNode(ev.Kv.Key, ev.Kv.Value)
			if err != nil {
				return NodeEvent{}, err
			}
			return NodeEvent{ID: id, Addr: addr, Joined: true, Rev: ev.Kv.ModRevision}, nil
		},
		func(err error) NodeEvent { return NodeEvent{Err: err} })
}

// WatchTables streams table creations and drops after revision afterRev, like
// WatchNodes.
func (c *Coord) WatchTables(ctx context.Context, afterRev int64) <-chan TableEvent {
	return watchPrefix(ctx, c.cli, c.keys.tables, afterRev, false,
		func(ev *clientv3.Event) (TableEvent, error) {
			if ev.Type == clientv3.EventTypeDelete {
				t, _, err := c.keys.decodeTable(ev.Kv.Key, []byte("0"))
				if err != nil {
					return TableEvent{}, err
				}
				return TableEvent{Table: t, Rev: ev.Kv.ModRevision}, nil
			}
			t, ckpt, err := c.keys.decodeTable(ev.Kv.Key, ev.Kv.Value)
			if err != nil {
				return TableEvent{}, err
			}
			return TableEvent{Table: t, Checkpoint: ckpt, Created: true, Rev: ev.Kv.ModRevision}, nil
		},
		func(err error) TableEvent { return TableEvent{Err: err} })
}

// watchPrefix watches prefix after afterRev and converts each event with conv; the
// first error becomes a final event made by fail.
func watchPrefix[T any](ctx context.Context, cli *clientv3.Client, prefix string, afterRev int64, prevKV bool,
	conv func(*clientv3.Event) (T, error), fail func(error) T) <-chan T {
	out := make(chan T)
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(afterRev + 1)}
	if prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	go func() {
		defer close(out)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		send := func(v T) bool {
			select {
			case out <- v:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for resp := range cli.Watch(wctx, prefix, opts...) {
			if err := resp.Err(); err != nil {
				if ctx.Err() == nil {
					send(fail(fmt.Errorf("coord: watch %s after revision %d: %w", prefix, afterRev, err)))
				}
				return
			}
			for _, ev := range resp.Events {
				v, err := conv(ev)
				if err != nil {
					send(fail(fmt.Errorf("coord: watch %s: %w", prefix, err)))
					return
				}
				if !send(v) {
					return
				}
			}
		}
		if ctx.Err() == nil {
			send(fail(fmt.Errorf("coord: watch %s after revision %d: %w", prefix, afterRev, ErrWatchClosed)))
		}
	}()
	return out
}
