package coord

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	ops "github.com/opfsm/opfsm/operators"
)

// Coord is one changefeed's coordination state in etcd: its election, node registry,
// live tables and checkpoint, all under /opfsm/<changefeed>/. It is safe for
// concurrent use; it owns nothing but the client reference (the caller closes the
// client).
type Coord struct {
	cli  *clientv3.Client
	cf   ops.ChangefeedID
	keys keys
}

// New returns the coordination of changefeed cf through cli.
func New(cli *clientv3.Client, cf ops.ChangefeedID) *Coord {
	return &Coord{cli: cli, cf: cf, keys: newKeys(cf)}
}

// Prefix returns the etcd key prefix that holds all of the changefeed's keys.
func (c *Coord) Prefix() string { return c.keys.root }

// State is the changefeed's coordination state read at one store revision.
type State struct {
	// Nodes maps every registered node to its address.
	Nodes map[ops.NodeID]string
	// Tables maps every live table to the checkpoint it was created with.
	Tables map[ops.TableID]uint64
	// Checkpoint is the changefeed checkpoint, 0 if none was ever written.
	Checkpoint uint64
}

// State reads the nodes, tables and checkpoint at one revision, which it returns: a
// host follows up with WatchNodes and WatchTables after that revision.
func (c *Coord) State(ctx context.Context) (State, int64, error) {
	resp, err := c.cli.Txn(ctx).Then(c.stateOps()...).Commit()
	if err != nil {
		return State{}, 0, fmt.Errorf("coord: read state of %s: %w", c.cf, err)
	}
	st, err := c.decodeState(resp.Responses)
	if err != nil {
		return State{}, 0, err
	}
	return st, resp.Header.Revision, nil
}

// stateOps are the reads State decodes, in decodeState's order.
func (c *Coord) stateOps() []clientv3.Op {
	return []clientv3.Op{
		clientv3.OpGet(c.keys.nodes, clientv3.WithPrefix()),
		clientv3.OpGet(c.keys.tables, clientv3.WithPrefix()),
		clientv3.OpGet(c.keys.checkpoint),
	}
}

func (c *Coord) decodeState(rs []*pb.ResponseOp) (State, error) {
	var st State
	var err error
	if st.Nodes, err = c.decodeNodes(rs[0].GetResponseRange().Kvs); err != nil {
		return State{}, err
	}
	if st.Tables, err = c.decodeTables(rs[1].GetResponseRange().Kvs); err != nil {
		return State{}, err
	}
	if st.Checkpoint, err = c.decodeCheckpoint(rs[2].GetResponseRange().Kvs); err != nil {
		return State{}, err
	}
	return st, nil
}

func (c *Coord) decodeNodes(kvs []*mvccpb.KeyValue) (map[ops.NodeID]string, error) {
	nodes := make(map[ops.NodeID]string, len(kvs))
	for _, kv := range kvs {
		id, addr, err := c.keys.decodeNode(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		nodes[id] = addr
	}
	return nodes, nil
}

func (c *Coord) decodeTables(kvs []*mvccpb.KeyValue) (map[ops.TableID]uint64, error) {
	tables := make(map[ops.TableID]uint64, len(kvs))
	for _, kv := range kvs {
		t, ckpt, err := c.keys.decodeTable(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		tables[t] = ckpt
	}
	return tables, nil
}

func (c *Coord) decodeCheckpoint(kvs []*mvccpb.KeyValue) (uint64, error) {
	if len(kvs) == 0 {
		return 0, nil
	}
	v, err := parseCheckpoint(string(kvs[0].Value))
	if err != nil {
		return 0, dataErr(string(kvs[0].Key), err)
	}
	return v, nil
}

// Nodes returns every registered node with its address, and the revision read at.
func (c *Coord) Nodes(ctx context.Context) (map[ops.NodeID]string, int64, error) {
	resp, err := c.cli.Get(ctx, c.keys.nodes, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("coord: read nodes of %s: %w", c.cf, err)
	}
	nodes, err := c.decodeNodes(resp.Kvs)
	if err != nil {
		return nil, 0, err
	}
	return nodes, resp.Header.Revision, nil
}

// Tables returns every live table with the checkpoint it was created with, and the
// revision read at.
func (c *Coord) Tables(ctx context.Context) (map[ops.TableID]uint64, int64, error) {
	resp, err := c.cli.Get(ctx, c.keys.tables, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("coord: read tables of %s: %w", c.cf, err)
	}
	tables, err := c.decodeTables(resp.Kvs)
	if err != nil {
		return nil, 0, err
	}
	return tables, resp.Header.Revision, nil
}

// Checkpoint returns the changefeed checkpoint, 0 if none was ever written.
func (c *Coord) Checkpoint(ctx context.Context) (uint64, error) {
	resp, err := c.cli.Get(ctx, c.keys.checkpoint)
	if err != nil {
		return 0, fmt.Errorf("coord: read checkpoint of %s: %w", c.cf, err)
	}
	return c.decodeCheckpoint(resp.Kvs)
}

// CreateTable makes table t live with the given start checkpoint. It fails with
// ErrTableExists if t is live already.
func (c *Coord) CreateTable(ctx context.Context, t ops.TableID, checkpoint uint64) error {
	k := c.keys.table(t)
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, formatCheckpoint(checkpoint))).
		Commit()
	if err != nil {
		return fmt.Errorf("coord: create table %d of %s: %w", t, c.cf, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("coord: create table %d of %s: %w", t, c.cf, ErrTableExists)
	}
	return nil
}

// DropTable removes table t from the live tables. It fails with ErrNoTable if t is
// not live.
func (c *Coord) DropTable(ctx context.Context, t ops.TableID) error {
	resp, err := c.cli.Delete(ctx, c.keys.table(t))
	if err != nil {
		return fmt.Errorf("coord: drop table %d of %s: %w", t, c.cf, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("coord: drop table %d of %s: %w", t, c.cf, ErrNoTable)
	}
	return nil
}

// Leader returns the current leader's candidate string and epoch, or an error
// wrapping ErrNoLeader.
func (c *Coord) Leader(ctx context.Context) (string, ops.Epoch, error) {
	resp, err := c.cli.Get(ctx, c.keys.leader+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", 0, fmt.Errorf("coord: read leader of %s: %w", c.cf, err)
	}
	if len(resp.Kvs) == 0 {
		return "", 0, fmt.Errorf("coord: read leader of %s: %w", c.cf, ErrNoLeader)
	}
	return string(resp.Kvs[0].Value), ops.Epoch(resp.Kvs[0].CreateRevision), nil
}
