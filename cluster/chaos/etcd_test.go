package chaos

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster"
	"github.com/opfsm/opfsm/cluster/coord"
	ops "github.com/opfsm/opfsm/operators"
)

// withEtcd is a run of changefeed "cf" on an embedded etcd in a temp dir (closed when the
// test ends), with tables 1..tables live and the changefeed checkpoint stored at ckpt.
func withEtcd(t *testing.T, tables int, ckpt uint64) *run {
	t.Helper()
	e, err := coord.StartEmbedded(t.TempDir(), zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(e.Close)
	cli, err := coord.Dial(e.Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	r := &run{cf: "cf", etcd: e.Endpoints(), c: coord.New(cli, "cf"), rng: rand.New(rand.NewPCG(1, 0x0f5a)), out: &bytes.Buffer{},
		live: map[ops.TableID]bool{}, found: map[string]bool{}, nextTable: ops.TableID(tables + 1)}
	for tb := 1; tb <= tables; tb++ {
		require.NoError(t, r.c.CreateTable(t.Context(), ops.TableID(tb), 1))
		r.live[ops.TableID(tb)] = true
	}
	if ckpt > 0 {
		lead, err := r.c.Campaign(t.Context(), "test", 1)
		require.NoError(t, err)
		t.Cleanup(lead.Close)
		require.NoError(t, lead.AdvanceCheckpoint(t.Context(), ckpt))
	}
	return r
}

// etcdTables are the live tables in etcd with the checkpoints they were created at.
func etcdTables(t *testing.T, r *run) map[ops.TableID]uint64 {
	t.Helper()
	tables, _, err := r.c.Tables(t.Context())
	require.NoError(t, err)
	return tables
}

// TestDDL proves the run's DDL: each creates the next table at the stored changefeed
// checkpoint and, with more than two tables live, drops one other than it, the table of a
// merge in flight when asked to, in etcd and in the run's live tables alike.
func TestDDL(t *testing.T) {
	r := withEtcd(t, 2, 40)
	merging := cluster.MaintainerState{Name: "c1", Elected: true, Epoch: 3, Operators: map[string]int{"merge": 1},
		InFlight: []cluster.OperatorState{{ID: "m", Kind: "merge", State: "Running", Table: 2}}}
	r.maintainers = []*proc{fakeProc("c1", serveState(t, http.StatusOK, merging))}
	out := r.out.(*bytes.Buffer)

	require.NoError(t, r.ddl(t.Context(), false)) // three tables: the seed's choice goes, not the merge's
	require.Equal(t, "created table 3, dropped table 1\n", out.String())
	require.Equal(t, map[ops.TableID]uint64{2: 1, 3: 40}, etcdTables(t, r))
	require.Equal(t, map[ops.TableID]bool{2: true, 3: true}, r.live)

	out.Reset()
	require.NoError(t, r.ddl(t.Context(), true))
	require.Equal(t, "created table 4, dropped table 2 mid-merge\n", out.String())
	require.Equal(t, map[ops.TableID]uint64{3: 40, 4: 40}, etcdTables(t, r))
	require.Equal(t, map[ops.TableID]bool{3: true, 4: true}, r.live)
	require.Equal(t, 4, r.report.DDL)
	require.Equal(t, 1, r.report.DropsMidMerge)

	// The table in merge is the one just created: another goes, not mid-merge.
	merging.InFlight[0].Table = 5
	r.maintainers = []*proc{fakeProc("c1", serveState(t, http.StatusOK, merging))}
	out.Reset()
	require.NoError(t, r.ddl(t.Context(), true))
	require.Equal(t, "created table 5, dropped table 4\n", out.String())
	require.Equal(t, map[ops.TableID]uint64{3: 40, 5: 40}, etcdTables(t, r))
	require.Equal(t, 1, r.report.DropsMidMerge)
	require.Equal(t, ops.TableID(6), r.nextTable)

	// Two tables live after the create: nothing is dropped.
	r2 := withEtcd(t, 1, 0)
	require.NoError(t, r2.ddl(t.Context(), true))
	require.Equal(t, "created table 2\n", r2.out.(*bytes.Buffer).String())
	require.Equal(t, map[ops.TableID]uint64{1: 1, 2: 0}, etcdTables(t, r2))
	require.Equal(t, 1, r2.report.DDL)
}

// TestMonitor proves the checks a run makes throughout: round after round, every 50ms, it
// reports keys served twice and checkpoints behind the stored changefeed checkpoint, each
// once.
func TestMonitor(t *testing.T) {
	r := withEtcd(t, 2, 10)
	r.nodes = []*proc{
		fakeProc("n1", serveState(t, http.StatusOK, state("n1", disp("a", span(1, "", "m"), ops.Working, 12),
			disp("c", span(2, "", ""), ops.Working, 9)))),
		fakeProc("n2", serveState(t, http.StatusOK, state("n2", disp("b", span(1, "k", ""), ops.Working, 11)))),
		dead("n3", "bad host"),
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); r.monitor(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually(t, 10*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.report.Rounds >= 3
	}, "three rounds")
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "a round every 50ms")
	cancel()
	<-done
	require.Equal(t, []string{
		"checkpoint went backwards: c 2[,) on n1 at 9, the changefeed at 10",
		"keys served twice: a 1[,m) on n1 and b 1[k,) on n2",
	}, r.report.Violations)
}
