package cluster

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/transport"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// startEtcd starts an embedded etcd in dir, closed when the test ends, and returns its
// endpoints.
func startEtcd(t *testing.T, dir string) []string {
	t.Helper()
	e, err := coord.StartEmbedded(filepath.Join(dir, "etcd"), zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(e.Close)
	return e.Endpoints()
}

// stopped records the dispatchers nodes report Stopped to a test's maintainer client.
type stopped struct {
	mu  sync.Mutex
	ids map[ops.NodeID][]ops.DispatcherID
}

func (s *stopped) Status(n ops.NodeID, _ uint64, r protocol.StatusReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range r.Statuses {
		if st.State == ops.Stopped {
			s.ids[n] = append(s.ids[n], st.ID)
		}
	}
}

func (s *stopped) Answer(ops.NodeID, uint64, protocol.BootstrapAnswer) {}

func (s *stopped) has(n ops.NodeID, id ops.DispatcherID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.ids[n], id)
}

// epoch1 is a maintainer client of epoch 1 of changefeed c, closed when the test ends.
func epoch1(t *testing.T, c ops.ChangefeedID, h transport.ClientHandler) *transport.Client {
	t.Helper()
	cli := transport.NewClient(c, 1, "test", h, zap.NewNop())
	t.Cleanup(cli.Close)
	return cli
}

// send sends requests of epoch 1 of changefeed c to node n.
func send(t *testing.T, cli *transport.Client, c ops.ChangefeedID, n ops.NodeID, kind protocol.Kind, rec ops.Record) {
	t.Helper()
	req := protocol.Request{Changefeed: c, Epoch: 1, Kind: kind}
	if kind != protocol.Bootstrap {
		rec.Changefeed, rec.Epoch = c, 1
		req.Record = rec
	}
	_, ok := cli.Send(n, req)
	require.True(t, ok)
}

// TestNodeBugs proves that a node process runs with the seeded bugs it is given: with
// journal_missing_remove, a Remove of a dispatcher it does not have stays journaled, which
// a node without it does not do.
func TestNodeBugs(t *testing.T) {
	dir := t.TempDir()
	etcd := startEtcd(t, dir)
	plain := runNode(t, dir, NodeOptions{Name: "plain", Changefeed: cf, Etcd: etcd})
	buggy := runNode(t, dir, NodeOptions{Name: "buggy", Changefeed: cf, Etcd: etcd, Bugs: []string{"journal_missing_remove"}})
	rec := &stopped{ids: map[ops.NodeID][]ops.DispatcherID{}}
	cli := epoch1(t, cf, rec)
	for _, p := range []*process{plain, buggy} {
		n := ops.NodeID(p.started.ID)
		cli.SetNode(n, p.started.GRPC)
		send(t, cli, cf, n, protocol.Bootstrap, ops.Record{})
		send(t, cli, cf, n, protocol.Remove, ops.Record{ID: "x", Type: ops.TypeRemove, State: ops.RemoveRunning,
			Span: ops.Span{Table: 1}, Origin: n, Hook: ops.HookDelete})
	}
	poll(t, 10*time.Second, func() error {
		for _, p := range []*process{plain, buggy} {
			if !rec.has(ops.NodeID(p.started.ID), "x") {
				return fmt.Errorf("%s has not answered the remove", p.name)
			}
		}
		return nil
	})
	var a protocol.BootstrapAnswer
	require.NoError(t, getState(plain, &a))
	require.Equal(t, ops.Epoch(1), a.Epoch)
	require.Empty(t, a.Removes)
	require.NoError(t, getState(buggy, &a))
	require.Len(t, a.Removes, 1)
	require.Equal(t, ops.DispatcherID("x"), a.Removes[0].ID)
}

// TestMaintainerBug proves that a maintainer process recovers with the seeded recovery bug
// it is given: with dropped_table_adopted it adopts a dispatcher of a table that is not
// live, which a maintainer without it removes.
func TestMaintainerBug(t *testing.T) {
	dir := t.TempDir()
	etcd := startEtcd(t, dir)
	cli, err := coord.Dial(etcd)
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	for _, tc := range []struct {
		cf   ops.ChangefeedID
		bug  string
		want []string // the tasks besides table 1's
	}{
		{cf: "cf-plain", want: []string{}},
		{cf: "cf-buggy", bug: "dropped_table_adopted", want: []string{"old@9"}},
	} {
		t.Run(string(tc.cf), func(t *testing.T) {
			require.NoError(t, coord.New(cli, tc.cf).CreateTable(t.Context(), 1, 1))
			n := runNode(t, dir, NodeOptions{Name: "n-" + string(tc.cf), Changefeed: tc.cf, Etcd: etcd})
			id := ops.NodeID(n.started.ID)
			// Before any maintainer, the node runs a dispatcher of table 9, which is not live.
			rec := &stopped{ids: map[ops.NodeID][]ops.DispatcherID{}}
			c := epoch1(t, tc.cf, rec)
			c.SetNode(id, n.started.GRPC)
			send(t, c, tc.cf, id, protocol.Bootstrap, ops.Record{})
			send(t, c, tc.cf, id, protocol.Create, ops.Record{ID: "old", Type: ops.TypeAdd, State: ops.AddRunning,
				Span: ops.Span{Table: 9}, Dest: id, Checkpoint: 5})
			poll(t, 10*time.Second, func() error {
				var a protocol.BootstrapAnswer
				if err := getState(n, &a); err != nil {
					return err
				}
				if len(a.Dispatchers) != 1 || a.Dispatchers[0].State != ops.Working {
					return fmt.Errorf("dispatchers %+v", a.Dispatchers)
				}
				return nil
			})
			c.Close()

			m := runMaintainer(t, dir, MaintainerOptions{Name: "c-" + string(tc.cf), Changefeed: tc.cf, Etcd: etcd, Bug: tc.bug})
			e := m.epoch(t)
			var table1, others []string // tasks of table 1; the others as id@table
			poll(t, 10*time.Second, func() error {
				var st MaintainerState
				if err := getState(m, &st); err != nil {
					return err
				}
				if st.Epoch != uint64(e) || st.Booting || len(st.InFlight) > 0 {
					return fmt.Errorf("maintainer %+v", st)
				}
				table1, others = nil, []string{}
				for _, x := range st.Tasks {
					if x.Sched != "Replicating" {
						return fmt.Errorf("task %+v", x)
					}
					if x.Table == 1 {
						table1 = append(table1, x.ID)
					} else {
						others = append(others, fmt.Sprintf("%s@%d", x.ID, x.Table))
					}
				}
				return nil
			})
			require.Len(t, table1, 1)
			require.Equal(t, tc.want, others)
		})
	}
}
