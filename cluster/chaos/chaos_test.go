package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestNormalize proves the defaults of a chaos run's options, that explicit values stay,
// and that negative counts and unknown bugs are bad options.
func TestNormalize(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		in      Options
		want    Options
		wantErr string
	}{
		{name: "defaults", want: Options{Binary: exe, Duration: 30 * time.Second, Converge: 30 * time.Second, Kills: 5, Nodes: 3, Tables: 4}},
		{
			name: "explicit",
			in: Options{Binary: "/bin/opfsm", Duration: time.Second, Converge: 2 * time.Second, Kills: 1, Nodes: 2, Tables: 1,
				NoNodeRestart: true, Seed: 9, Bug: "merge_journal_lost", Logs: "/tmp/l"},
			want: Options{Binary: "/bin/opfsm", Duration: time.Second, Converge: 2 * time.Second, Kills: 1, Nodes: 2, Tables: 1,
				NoNodeRestart: true, Seed: 9, Bug: "merge_journal_lost", Logs: "/tmp/l"},
		},
		{
			name: "negative durations take the defaults",
			in:   Options{Binary: "b", Duration: -1, Converge: -1},
			want: Options{Binary: "b", Duration: 30 * time.Second, Converge: 30 * time.Second, Kills: 5, Nodes: 3, Tables: 4},
		},
		{
			name: "recovery bug",
			in:   Options{Binary: "b", Bug: "strays_unlisted"},
			want: Options{Binary: "b", Duration: 30 * time.Second, Converge: 30 * time.Second, Kills: 5, Nodes: 3, Tables: 4, Bug: "strays_unlisted"},
		},
		{
			name: "spec: one table, no node restart, any bug",
			in:   Options{Binary: "b", Spec: true, Bug: "merge_journal_lost"},
			want: Options{Binary: "b", Duration: 30 * time.Second, Converge: 30 * time.Second, Kills: 5, Nodes: 3, Tables: 1, NoNodeRestart: true,
				Spec: true, Bug: "merge_journal_lost"},
		},
		{
			name: "spec with one table said",
			in:   Options{Binary: "b", Spec: true, Tables: 1, Bug: "strays_unlisted"},
			want: Options{Binary: "b", Duration: 30 * time.Second, Converge: 30 * time.Second, Kills: 5, Nodes: 3, Tables: 1, NoNodeRestart: true,
				Spec: true, Bug: "strays_unlisted"},
		},
		{name: "spec with more tables", in: Options{Spec: true, Tables: 4}, wantErr: "chaos: bad options: the spec's world has one table, not 4"},
		{name: "negative kills", in: Options{Kills: -1}, wantErr: "chaos: bad options: negative counts"},
		{name: "negative nodes", in: Options{Nodes: -1}, wantErr: "chaos: bad options: negative counts"},
		{name: "negative tables", in: Options{Tables: -1}, wantErr: "chaos: bad options: negative counts"},
		{name: "unknown bug", in: Options{Bug: "nope"}, wantErr: `chaos: bad options: unknown seeded bug "nope" (node: bootstrap_keeps_owner, bootstrap_no_fence, ` +
			`journal_missing_remove, merge_journal_lost, no_epoch_fence, sweep_skips_precommit; recovery: g8_first_report_wins, ` +
			`overlap_loser_uncovered, merge_geometry_unchecked, removing_source_is_evidence, precommit_target_adopted, ` +
			`dropped_table_adopted, resume_contested, strays_unlisted)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.in
			err := o.normalize()
			if tc.wantErr != "" {
				require.ErrorIs(t, err, cluster.ErrBadOptions)
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, o)
		})
	}
}

// TestRunBadOptions proves that Run refuses bad options before it starts anything.
func TestRunBadOptions(t *testing.T) {
	var out bytes.Buffer
	r, err := Run(t.Context(), Options{Nodes: -1}, &out)
	require.ErrorIs(t, err, cluster.ErrBadOptions)
	require.Nil(t, r)
	require.Empty(t, out.String())
}

// TestSummary proves the report's summary and verdict, for a run that passed and one that
// did not.
func TestSummary(t *testing.T) {
	r := &Report{Logs: "/tmp/logs", Kills: []Kill{
		{Epoch: 3, Mid: "merge", Failover: 1500 * time.Millisecond},
		{Epoch: 5, Mid: "split", Failover: 500 * time.Millisecond},
		{Epoch: 7, Failover: 2250 * time.Millisecond},
		{Epoch: 9, Mid: "merge"},
	}, NodeRestarts: 1, DDL: 4, DropsMidMerge: 1, Rounds: 10, Converged: true, Convergence: 1234567 * time.Microsecond, Events: 99}
	require.Equal(t, "kills 4 (mid-merge 2, mid-split 1), survived 3; failover median 1.5s, max 2.25s\n"+
		"node restarts 1, DDL 4 (drops mid-merge 1), check rounds 10, events logged 99\n"+
		"converged 1.235s after the workload\n"+
		"violations 0\n"+
		"logs in /tmp/logs", r.Summary())
	require.True(t, r.OK())

	r.Violations = []string{"keys served twice: x", "checkpoint went backwards: y"}
	require.False(t, r.OK())
	require.Contains(t, r.Summary(), "violations 2\n  keys served twice: x\n  checkpoint went backwards: y\nlogs in /tmp/logs")

	r = &Report{Logs: "/l", Kills: []Kill{{Epoch: 3}}, NotWhy: "no maintainer runs"}
	require.Equal(t, "kills 1 (mid-merge 0, mid-split 0), survived 0\n"+
		"node restarts 0, DDL 0 (drops mid-merge 0), check rounds 0, events logged 0\n"+
		"NOT converged: no maintainer runs\n"+
		"violations 0\n"+
		"logs in /l", r.Summary())
	require.False(t, r.OK())
}

// TestSleepUntil proves that sleepUntil returns at once for a time past, after the time
// otherwise, and with the context's error when the context ends first.
func TestSleepUntil(t *testing.T) {
	require.NoError(t, sleepUntil(t.Context(), time.Now().Add(-time.Hour)))
	start := time.Now()
	require.NoError(t, sleepUntil(t.Context(), start.Add(20*time.Millisecond)))
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, sleepUntil(ctx, time.Now().Add(time.Hour)), context.Canceled)
}

// TestViolate proves that each violation is reported once, in the order found, and
// printed.
func TestViolate(t *testing.T) {
	var out bytes.Buffer
	r := &run{out: &out, found: map[string]bool{}}
	r.violate("keys served twice: %s", "a")
	r.violate("checkpoint went backwards: %d", 3)
	r.violate("keys served twice: %s", "a")
	require.Equal(t, []string{"keys served twice: a", "checkpoint went backwards: 3"}, r.report.Violations)
	require.Equal(t, "VIOLATION: keys served twice: a\nVIOLATION: checkpoint went backwards: 3\n", out.String())
}

// dead is a process that has exited, its /state served at addr all the same.
func dead(name, addr string) *proc {
	p := fakeProc(name, addr)
	close(p.exited)
	return p
}

// TestLeader proves that the leader is the live elected candidate of the highest epoch:
// dead candidates, candidates not elected and candidates that do not answer are passed
// over.
func TestLeader(t *testing.T) {
	elected := func(e uint64) string {
		return serveState(t, http.StatusOK, cluster.MaintainerState{Name: "c", Elected: true, Epoch: e})
	}
	r := &run{maintainers: []*proc{
		fakeProc("c1", elected(3)),
		fakeProc("c2", elected(5)),
		dead("c3", elected(9)),
		fakeProc("c4", serveState(t, http.StatusOK, cluster.MaintainerState{Name: "c4"})),
		fakeProc("c5", serveState(t, http.StatusInternalServerError, "{}")),
		fakeProc("c6", elected(4)),
	}}
	p, st, ok := r.leader(t.Context())
	require.True(t, ok)
	require.Equal(t, "c2", p.name)
	require.Equal(t, uint64(5), st.Epoch)

	r.maintainers = []*proc{r.maintainers[2], r.maintainers[3]}
	p, _, ok = r.leader(t.Context())
	require.False(t, ok)
	require.Nil(t, p)
}

// TestRound proves that a round reads every live node in order, skips dead ones, and
// fails when a live node does not answer.
func TestRound(t *testing.T) {
	s1, s3 := state("n1", disp("a", span(1, "", ""), ops.Working, 1)), state("n3")
	r := &run{nodes: []*proc{
		fakeProc("n1", serveState(t, http.StatusOK, s1)),
		dead("n2", serveState(t, http.StatusInternalServerError, "{}")),
		fakeProc("n3", serveState(t, http.StatusOK, s3)),
	}}
	got, err := r.round(t.Context())
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []ops.NodeID{"n1", "n3"}, []ops.NodeID{got[0].Node, got[1].Node})
	require.Equal(t, s1.Dispatchers, got[0].Dispatchers)

	addr := serveState(t, http.StatusInternalServerError, "{}")
	r.nodes = append(r.nodes, fakeProc("n4", addr))
	_, err = r.round(t.Context())
	require.EqualError(t, err, "node n4: "+addr+"/state: 500 Internal Server Error")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err = r.round(ctx)
	require.NoError(t, err, "reads cut short by the run's end are not errors")
	require.Empty(t, got)
}

// TestAwaitConvergence proves the end of a run: a converged cluster is reported converged;
// one that does not converge in time is reported with why, the leader missing or a node
// not answering being reasons too.
func TestAwaitConvergence(t *testing.T) {
	lead, states, live := convergedCluster()
	leader := fakeProc("c1", serveState(t, http.StatusOK, lead))
	nodes := func(states []protocol.BootstrapAnswer) []*proc {
		var out []*proc
		for _, s := range states {
			out = append(out, fakeProc(string(s.Node), serveState(t, http.StatusOK, s)))
		}
		return out
	}
	notWorking := round(states[0], state("n2", disp("b", span(1, "k", ""), ops.Initializing, 8)))
	for _, tc := range []struct {
		name        string
		maintainers []*proc
		nodes       []*proc
		why         string
	}{
		{name: "converged", maintainers: []*proc{leader}, nodes: nodes(states)},
		{name: "not converged", maintainers: []*proc{leader}, nodes: nodes(notWorking), why: "dispatcher b on n2 is Initializing (closing false)"},
		{name: "no leader", maintainers: []*proc{dead("c1", serveState(t, http.StatusOK, lead))}, nodes: nodes(states), why: "no maintainer is elected"},
		{name: "node not answering", maintainers: []*proc{leader}, nodes: []*proc{fakeProc("n1", "bad host")},
			why: `node n1: parse "http://bad host/state": invalid character " " in host name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &run{o: Options{Converge: 100 * time.Millisecond}, out: &out, live: live, maintainers: tc.maintainers, nodes: tc.nodes}
			require.NoError(t, r.awaitConvergence(t.Context()))
			require.Equal(t, tc.why == "", r.report.Converged)
			require.Equal(t, tc.why, r.report.NotWhy)
			if tc.why == "" {
				require.Positive(t, r.report.Convergence)
				require.Less(t, r.report.Convergence, 100*time.Millisecond)
				require.Empty(t, out.String())
			} else {
				require.Zero(t, r.report.Convergence)
				require.Equal(t, "NOT CONVERGED after 100ms: "+tc.why+"\n", out.String())
			}
		})
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &run{o: Options{Converge: time.Minute}, out: &bytes.Buffer{}, live: live, maintainers: []*proc{leader}, nodes: nodes(notWorking)}
	require.ErrorIs(t, r.awaitConvergence(ctx), context.Canceled)
}

// TestMergingTable proves that mergingTable finds the table of a merge the leader has in
// flight, at once or once it shows up (reading every 5ms), and gives up when the run ends.
func TestMergingTable(t *testing.T) {
	ms := cluster.MaintainerState{Name: "c1", Elected: true, Epoch: 3, Operators: map[string]int{"move": 1, "merge": 1},
		InFlight: []cluster.OperatorState{{ID: "a", Kind: "move", Table: 2}, {ID: "m", Kind: "merge", Table: 7}}}
	r := &run{maintainers: []*proc{fakeProc("c1", serveState(t, http.StatusOK, ms))}}
	tbl, ok := r.mergingTable(t.Context())
	require.True(t, ok)
	require.Equal(t, ops.TableID(7), tbl)

	// A merge that shows up while it waits.
	var reads atomic.Int32
	later := ms
	later.InFlight = later.InFlight[1:]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		st := cluster.MaintainerState{Name: "c1", Elected: true, Epoch: 3}
		if reads.Add(1) > 3 {
			st = later
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	t.Cleanup(srv.Close)
	r = &run{maintainers: []*proc{fakeProc("c1", srv.Listener.Addr().String())}}
	start := time.Now()
	tbl, ok = r.mergingTable(t.Context())
	require.True(t, ok)
	require.Equal(t, ops.TableID(7), tbl)
	require.Equal(t, int32(4), reads.Load())
	require.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond, "it reads every 5ms")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tbl, ok = r.mergingTable(ctx)
	require.False(t, ok)
	require.Zero(t, tbl)
}

// TestAwaitConvergencePolls proves that the wait for convergence reads the cluster every
// 50ms, not in a busy loop.
func TestAwaitConvergencePolls(t *testing.T) {
	lead, _, live := convergedCluster()
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reads.Add(1)
		_ = json.NewEncoder(w).Encode(lead)
	}))
	t.Cleanup(srv.Close)
	r := &run{o: Options{Converge: 120 * time.Millisecond}, out: &bytes.Buffer{}, live: live,
		maintainers: []*proc{fakeProc("c1", srv.Listener.Addr().String())}}
	require.NoError(t, r.awaitConvergence(t.Context()))
	require.False(t, r.report.Converged)
	require.Equal(t, "3 tasks but 0 dispatchers", r.report.NotWhy)
	require.GreaterOrEqual(t, reads.Load(), int32(1))
	require.LessOrEqual(t, reads.Load(), int32(3))
}

// TestSpecArgs proves what the processes of a Spec run are told: every node traces with
// the slow clock and long merges, n1 alone preloads the Working halves of table 1 (as
// --preload decodes them); without Spec none of it.
func TestSpecArgs(t *testing.T) {
	r := &run{o: Options{Spec: true, Logs: "/l"}, cf: "cf", etcd: []string{"127.0.0.1:1"}}
	n1, n2 := r.nodeArgs("n1"), r.nodeArgs("n2")
	require.Equal(t, []string{"node", "--name", "n2", "--changefeed", "cf", "--etcd", "127.0.0.1:1", "--events", "/l",
		"--trace", "--tick", "50ms", "--prepare-ticks", "80"}, n2)
	require.Equal(t, append(n2[:2:2], "n1"), n1[:3])
	require.Equal(t, n2[3:], n1[3:len(n1)-2])
	require.Equal(t, "--preload", n1[len(n1)-2])
	var pre []protocol.Dispatcher
	require.NoError(t, json.Unmarshal([]byte(n1[len(n1)-1]), &pre))
	require.Equal(t, []protocol.Dispatcher{
		{ID: "a", Span: ops.Span{Table: 1, End: "1"}, State: ops.Working, Checkpoint: 1},
		{ID: "b", Span: ops.Span{Table: 1, Start: "1"}, State: ops.Working, Checkpoint: 1},
	}, pre)

	r.o.Spec = false
	require.Equal(t, []string{"node", "--name", "n1", "--changefeed", "cf", "--etcd", "127.0.0.1:1", "--events", "/l",
		"--prepare-ticks", "250"}, r.nodeArgs("n1"))
}

// TestInFlight proves how a kill finds the operator it waits for: any of the kind in
// flight, or with fresh only one that was not in flight at the first look.
func TestInFlight(t *testing.T) {
	st := func(ids ...string) cluster.MaintainerState {
		s := cluster.MaintainerState{Operators: map[string]int{"move": 1}, InFlight: []cluster.OperatorState{{ID: "x", Kind: "move"}}}
		for _, id := range ids {
			s.Operators["merge"]++
			s.InFlight = append(s.InFlight, cluster.OperatorState{ID: id, Kind: "merge"})
		}
		return s
	}
	var older map[string]bool
	require.True(t, inFlight(st("m1"), "merge", false, &older))
	require.False(t, inFlight(st(), "merge", false, &older))
	require.Nil(t, older)

	require.False(t, inFlight(st("m1"), "merge", true, &older), "in flight at the first look")
	require.False(t, inFlight(st("m1"), "merge", true, &older))
	require.False(t, inFlight(st(), "merge", true, &older))
	require.True(t, inFlight(st("m2"), "merge", true, &older), "started since")
	require.False(t, inFlight(st("m3"), "split", true, &older), "no split in flight")
}
