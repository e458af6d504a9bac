package chaos

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// span is table t's keys [start, end).
func span(t ops.TableID, start, end string) ops.Span {
	return ops.Span{Table: t, Start: start, End: end}
}

// disp is a dispatcher that is not closing.
func disp(id string, s ops.Span, st ops.ComponentState, ckpt uint64) protocol.Dispatcher {
	return protocol.Dispatcher{ID: ops.DispatcherID(id), Span: s, State: st, Checkpoint: ckpt}
}

// closing is d being closed.
func closing(d protocol.Dispatcher) protocol.Dispatcher {
	d.Removing = true
	return d
}

// state is node n's own state with dispatchers ds and no journal.
func state(n string, ds ...protocol.Dispatcher) protocol.BootstrapAnswer {
	return protocol.BootstrapAnswer{Node: ops.NodeID(n), Changefeed: "cf", Epoch: 3, Dispatchers: ds}
}

// round is one round's read of every node.
func round(states ...protocol.BootstrapAnswer) []protocol.BootstrapAnswer { return states }

// TestActiveOf proves that only Initializing and Working dispatchers that are not closing
// serve their keys, in the order the nodes list them.
func TestActiveOf(t *testing.T) {
	all := span(1, "", "")
	states := round(
		state("n1", disp("a", all, ops.Initializing, 1), disp("b", all, ops.Working, 2), closing(disp("c", all, ops.Working, 3)),
			closing(disp("d", all, ops.Initializing, 4))),
		state("n2", disp("e", all, ops.WaitingMerge, 5), disp("f", all, ops.Preparing, 6), disp("g", all, ops.MergeReady, 7),
			disp("h", all, ops.Stopped, 8), disp("i", all, ops.Removed, 9), disp("j", all, ops.Working, 10)),
	)
	var keys []string
	for _, a := range activeOf(states) {
		keys = append(keys, a.key())
	}
	require.Equal(t, []string{"n1/a", "n1/b", "n2/j"}, keys)
	require.Empty(t, activeOf(nil))
}

// TestDuplicates proves the key-served-twice check over consecutive rounds: a pair is
// reported only when both dispatchers were active in two consecutive rounds with
// overlapping spans (on two nodes or one), so a move whose origin closes between the reads
// of one round is not; closing and non-active dispatchers never count.
func TestDuplicates(t *testing.T) {
	all1 := span(1, "", "")
	for _, tc := range []struct {
		name   string
		rounds [][]protocol.BootstrapAnswer
		want   []string
	}{
		{
			name: "a move whose origin closes between reads",
			rounds: [][]protocol.BootstrapAnswer{
				// n1 is read before the origin closes, n2 after the destination started.
				round(state("n1", disp("d1", all1, ops.Working, 5)), state("n2", disp("d1", all1, ops.Initializing, 5))),
				round(state("n1"), state("n2", disp("d1", all1, ops.Working, 6))),
				round(state("n1"), state("n2", disp("d1", all1, ops.Working, 7))),
			},
		},
		{
			name: "a move whose origin is still closing",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", closing(disp("d1", all1, ops.Working, 5))), state("n2", disp("d1", all1, ops.Initializing, 5))),
				round(state("n1", closing(disp("d1", all1, ops.Working, 5))), state("n2", disp("d1", all1, ops.Working, 6))),
			},
		},
		{
			name: "overlapping dispatchers on two nodes in both rounds",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", span(1, "", "m"), ops.Working, 1)), state("n2", disp("b", span(1, "k", ""), ops.Working, 1))),
				round(state("n1", disp("a", span(1, "", "m"), ops.Working, 2)), state("n2", disp("b", span(1, "k", ""), ops.Working, 2))),
			},
			want: []string{"keys served twice: a 1[,m) on n1 and b 1[k,) on n2"},
		},
		{
			name: "overlapping dispatchers on one node",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", span(1, "", "m"), ops.Working, 1), disp("b", span(1, "k", ""), ops.Initializing, 1))),
				round(state("n1", disp("a", span(1, "", "m"), ops.Working, 1), disp("b", span(1, "k", ""), ops.Initializing, 1))),
			},
			want: []string{"keys served twice: a 1[,m) on n1 and b 1[k,) on n1"},
		},
		{
			name: "every overlapping pair of three, in read order",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", span(1, "", "f"), ops.Working, 1)), state("n2", disp("b", span(1, "f", "m"), ops.Working, 1)),
					state("n3", disp("c", span(1, "e", ""), ops.Working, 1))),
				round(state("n1", disp("a", span(1, "", "f"), ops.Working, 1)), state("n2", disp("b", span(1, "f", "m"), ops.Working, 1)),
					state("n3", disp("c", span(1, "e", ""), ops.Working, 1))),
			},
			want: []string{"keys served twice: a 1[,f) on n1 and c 1[e,) on n3", "keys served twice: b 1[f,m) on n2 and c 1[e,) on n3"},
		},
		{
			name: "reported once per pair of rounds",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", all1, ops.Working, 1)), state("n2", disp("b", all1, ops.Working, 1))),
				round(state("n1", disp("a", all1, ops.Working, 1)), state("n2", disp("b", all1, ops.Working, 1))),
				round(state("n1", disp("a", all1, ops.Working, 1)), state("n2", disp("b", all1, ops.Working, 1))),
			},
			want: []string{"keys served twice: a 1[,) on n1 and b 1[,) on n2", "keys served twice: a 1[,) on n1 and b 1[,) on n2"},
		},
		{
			name: "active in one round only",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", all1, ops.Working, 1))),
				round(state("n1", disp("a", all1, ops.Working, 1)), state("n2", disp("b", all1, ops.Working, 1))),
			},
		},
		{
			name: "adjacent spans and other tables",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", span(1, "", "k"), ops.Working, 1), disp("c", span(2, "", ""), ops.Working, 1)),
					state("n2", disp("b", span(1, "k", ""), ops.Working, 1))),
				round(state("n1", disp("a", span(1, "", "k"), ops.Working, 1), disp("c", span(2, "", ""), ops.Working, 1)),
					state("n2", disp("b", span(1, "k", ""), ops.Working, 1))),
			},
		},
		{
			name: "closing dispatchers",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", closing(disp("a", all1, ops.Working, 1))), state("n2", disp("b", all1, ops.Working, 1))),
				round(state("n1", closing(disp("a", all1, ops.Working, 1))), state("n2", disp("b", all1, ops.Working, 1))),
			},
		},
		{
			name: "merge members and dispatchers that stopped",
			rounds: [][]protocol.BootstrapAnswer{
				round(state("n1", disp("a", span(1, "", "k"), ops.WaitingMerge, 1), disp("b", span(1, "k", ""), ops.WaitingMerge, 1),
					disp("m", all1, ops.Preparing, 1), disp("m2", all1, ops.MergeReady, 1), disp("s", all1, ops.Stopped, 1),
					disp("r", all1, ops.Removed, 1), disp("w", span(1, "x", "y"), ops.Working, 1))),
				round(state("n1", disp("a", span(1, "", "k"), ops.WaitingMerge, 1), disp("b", span(1, "k", ""), ops.WaitingMerge, 1),
					disp("m", all1, ops.Preparing, 1), disp("m2", all1, ops.MergeReady, 1), disp("s", all1, ops.Stopped, 1),
					disp("r", all1, ops.Removed, 1), disp("w", span(1, "x", "y"), ops.Working, 1))),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var prev []active
			for _, r := range tc.rounds {
				cur := activeOf(r)
				got = append(got, duplicates(prev, cur)...)
				prev = cur
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// TestBehind proves the checkpoint check: a Working dispatcher of a live table whose
// checkpoint is below the stored changefeed checkpoint is reported, and nothing else is:
// not a dispatcher at the checkpoint or above it, not one still Initializing, not one of a
// dropped table, not one being closed.
func TestBehind(t *testing.T) {
	live := map[ops.TableID]bool{1: true, 2: true}
	for _, tc := range []struct {
		name   string
		states []protocol.BootstrapAnswer
		want   []string
	}{
		{
			name:   "working below the checkpoint",
			states: round(state("n1", disp("a", span(1, "", "k"), ops.Working, 9))),
			want:   []string{"checkpoint went backwards: a 1[,k) on n1 at 9, the changefeed at 10"},
		},
		{
			name: "every one below, in read order",
			states: round(state("n1", disp("a", span(1, "", "k"), ops.Working, 0), disp("b", span(1, "k", ""), ops.Working, 10)),
				state("n2", disp("c", span(2, "", ""), ops.Working, 3))),
			want: []string{"checkpoint went backwards: a 1[,k) on n1 at 0, the changefeed at 10",
				"checkpoint went backwards: c 2[,) on n2 at 3, the changefeed at 10"},
		},
		{name: "at the checkpoint", states: round(state("n1", disp("a", span(1, "", ""), ops.Working, 10)))},
		{name: "above the checkpoint", states: round(state("n1", disp("a", span(1, "", ""), ops.Working, 11)))},
		{name: "initializing", states: round(state("n1", disp("a", span(1, "", ""), ops.Initializing, 2)))},
		{name: "dropped table", states: round(state("n1", disp("a", span(3, "", ""), ops.Working, 2)))},
		{name: "closing", states: round(state("n1", closing(disp("a", span(1, "", ""), ops.Working, 2))))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, behind(activeOf(tc.states), live, 10))
		})
	}
}

// convergedCluster is a converged cluster: table 1 split in two on n1 and n2, table 2
// whole on n1, each with its Replicating task.
func convergedCluster() (cluster.MaintainerState, []protocol.BootstrapAnswer, map[ops.TableID]bool) {
	lead := cluster.MaintainerState{Name: "c1", Elected: true, Epoch: 3, Checkpoint: 7, Tasks: []cluster.TaskState{
		{ID: "a", Table: 1, End: "k", Sched: "Replicating", Node: "n1"},
		{ID: "b", Table: 1, Start: "k", Sched: "Replicating", Node: "n2"},
		{ID: "c", Table: 2, Sched: "Replicating", Node: "n1"},
	}}
	states := round(
		state("n1", disp("a", span(1, "", "k"), ops.Working, 8), disp("c", span(2, "", ""), ops.Working, 9)),
		state("n2", disp("b", span(1, "k", ""), ops.Working, 8)),
	)
	return lead, states, map[ops.TableID]bool{1: true, 2: true}
}

// TestConverged proves every reason the final check gives, and that a converged cluster
// gives none.
func TestConverged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(lead *cluster.MaintainerState, states []protocol.BootstrapAnswer, live map[ops.TableID]bool) []protocol.BootstrapAnswer
		want   string
	}{
		{name: "converged"},
		{
			name: "operator kinds counted zero",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Operators = map[string]int{"move": 0, "merge": 0}
				return s
			},
		},
		{
			name: "no maintainer elected",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				*lead = cluster.MaintainerState{Name: "c2"}
				return s
			},
			want: "no maintainer runs",
		},
		{
			name: "maintainer booting",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Booting = true
				return s
			},
			want: "no maintainer runs",
		},
		{
			name: "operator in flight",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Operators = map[string]int{"merge": 1}
				return s
			},
			want: "the maintainer has 1 merge operators",
		},
		{
			name: "remove journaled",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[1].Removes = []ops.Record{{ID: "x"}}
				return s
			},
			want: "node n2 journals 1 removes and 0 merges",
		},
		{
			name: "merge journaled",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[0].Merges = []ops.Record{{ID: "x"}}
				return s
			},
			want: "node n1 journals 0 removes and 1 merges",
		},
		{
			name: "dispatcher initializing",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[1].Dispatchers[0].State = ops.Initializing
				return s
			},
			want: "dispatcher b on n2 is Initializing (closing false)",
		},
		{
			name: "dispatcher closing",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[1].Dispatchers[0].Removing = true
				return s
			},
			want: "dispatcher b on n2 is Working (closing true)",
		},
		{
			name: "dispatcher of a dropped table",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, live map[ops.TableID]bool) []protocol.BootstrapAnswer {
				delete(live, 2)
				return s
			},
			want: "dispatcher c on n1 serves dropped table 2",
		},
		{
			name: "orphan without a task",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Tasks = lead.Tasks[:1]
				return s
			},
			want: "orphan: dispatcher c on n1 has no Replicating task there",
		},
		{
			name: "task on another node",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Tasks[1].Node = "n1"
				return s
			},
			want: "orphan: dispatcher b on n2 has no Replicating task there",
		},
		{
			name: "task not replicating",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Tasks[1].Sched = "Scheduling"
				return s
			},
			want: "orphan: dispatcher b on n2 has no Replicating task there",
		},
		{
			name: "task without a dispatcher",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Tasks = append(lead.Tasks, cluster.TaskState{ID: "d", Table: 2, Sched: "Absent"})
				return s
			},
			want: "4 tasks but 3 dispatchers",
		},
		{
			name: "gap",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[1].Dispatchers[0].Span.Start = "m"
				return s
			},
			want: "table 1 is not covered exactly once: [1[,k) 1[m,)]",
		},
		{
			name: "overlap",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				s[1].Dispatchers[0].Span.Start = "f"
				return s
			},
			want: "table 1 is not covered exactly once: [1[,k) 1[f,)]",
		},
		{
			name: "live table without a dispatcher",
			change: func(_ *cluster.MaintainerState, s []protocol.BootstrapAnswer, live map[ops.TableID]bool) []protocol.BootstrapAnswer {
				live[3] = true
				return s
			},
			want: "table 3 is not covered exactly once: []",
		},
		{
			name: "a second span after the table's end",
			change: func(lead *cluster.MaintainerState, s []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				lead.Tasks = append(lead.Tasks, cluster.TaskState{ID: "e", Table: 2, Sched: "Replicating", Node: "n2"})
				s[1].Dispatchers = append(s[1].Dispatchers, disp("e", span(2, "", ""), ops.Working, 9))
				return s
			},
			want: "table 2 is not covered exactly once: [2[,) 2[,)]",
		},
		{
			name: "no node",
			change: func(_ *cluster.MaintainerState, _ []protocol.BootstrapAnswer, _ map[ops.TableID]bool) []protocol.BootstrapAnswer {
				return nil
			},
			want: "3 tasks but 0 dispatchers",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lead, states, live := convergedCluster()
			if tc.change != nil {
				states = tc.change(&lead, states, live)
			}
			require.Equal(t, tc.want, converged(lead, states, live))
		})
	}
}

// TestTiles proves the coverage check of one table: spans in any order that cover the
// table exactly once pass; a missing start, a gap, an overlap, a missing end, a span after
// the table's end or no span at all fail with the spans in key order.
func TestTiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spans []ops.Span
		want  string
	}{
		{name: "whole", spans: []ops.Span{span(4, "", "")}},
		{name: "halves", spans: []ops.Span{span(4, "", "k"), span(4, "k", "")}},
		{name: "unsorted thirds", spans: []ops.Span{span(4, "p", ""), span(4, "", "f"), span(4, "f", "p")}},
		{name: "none", want: "table 4 is not covered exactly once: []"},
		{name: "no start", spans: []ops.Span{span(4, "f", "")}, want: "table 4 is not covered exactly once: [4[f,)]"},
		{name: "gap", spans: []ops.Span{span(4, "k", ""), span(4, "", "f")}, want: "table 4 is not covered exactly once: [4[,f) 4[k,)]"},
		{name: "overlap", spans: []ops.Span{span(4, "", "k"), span(4, "f", "")}, want: "table 4 is not covered exactly once: [4[,k) 4[f,)]"},
		{name: "no end", spans: []ops.Span{span(4, "", "k")}, want: "table 4 is not covered exactly once: [4[,k)]"},
		{name: "no end after the first", spans: []ops.Span{span(4, "", "f"), span(4, "f", "k")},
			want: "table 4 is not covered exactly once: [4[,f) 4[f,k)]"},
		{name: "whole twice", spans: []ops.Span{span(4, "", ""), span(4, "", "")},
			want: "table 4 is not covered exactly once: [4[,) 4[,)]"},
		{name: "whole and a part", spans: []ops.Span{span(4, "", ""), span(4, "", "k")},
			want: "table 4 is not covered exactly once: [4[,k) 4[,)]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tiles(4, tc.spans))
		})
	}
}

// serveState serves v as JSON at /state with status code, and returns the address;
// the server is closed with the test.
func serveState(t *testing.T, code int, v any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/state" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(code)
		if s, ok := v.(string); ok {
			_, _ = w.Write([]byte(s))
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// fakeProc is a live process whose /state is served at addr.
func fakeProc(name, addr string) *proc {
	return &proc{name: name, started: cluster.Started{ID: name, HTTP: addr}, exited: make(chan struct{})}
}

// TestStateReads proves that a node's and a maintainer's /state are read back as they were
// served.
func TestStateReads(t *testing.T) {
	ctx := t.Context()
	ans := state("n1", disp("a", span(1, "", "k"), ops.Working, 8), closing(disp("b", span(1, "k", ""), ops.Initializing, 2)))
	got, err := nodeState(ctx, fakeProc("n1", serveState(t, http.StatusOK, ans)))
	require.NoError(t, err)
	ans.Removes, ans.Merges = []ops.Record{}, []ops.Record{}
	require.Equal(t, ans, got)

	ms := cluster.MaintainerState{Name: "c1", Elected: true, Epoch: 9, Operators: map[string]int{"move": 1},
		InFlight: []cluster.OperatorState{{ID: "a", Kind: "move", State: "AddDest", Table: 1}},
		Tasks:    []cluster.TaskState{{ID: "a", Table: 1, End: "k", Sched: "Replicating", Node: "n1"}}, Checkpoint: 4}
	gotM, err := maintainerState(ctx, fakeProc("c1", serveState(t, http.StatusOK, ms)))
	require.NoError(t, err)
	require.Equal(t, ms, gotM)
}

// TestStateReadErrors proves that every way a /state read can fail is an error: a bad
// address, nothing listening, a status other than 200 (named in the error), a body that
// is not the JSON expected, and a context that ended.
func TestStateReadErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := closed.Listener.Addr().String()
	closed.Close()
	ok := serveState(t, http.StatusOK, state("n1"))
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		addr string
		want string // the exact error, if not ""
	}{
		{name: "bad address", addr: "bad host"},
		{name: "nothing listens", addr: closedAddr},
		{name: "status 500", addr: serveState(t, http.StatusInternalServerError, "{}"), want: "/state: 500 Internal Server Error"},
		{name: "not JSON", addr: serveState(t, http.StatusOK, "<html>")},
		{name: "not an answer", addr: serveState(t, http.StatusOK, `{"v":1}`)},
		{name: "context ended", ctx: ended, addr: ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			_, err := nodeState(ctx, fakeProc("n1", tc.addr))
			require.Error(t, err)
			if tc.want != "" {
				require.EqualError(t, err, tc.addr+tc.want)
			}
		})
	}
}

// TestStateReadTimesOut proves that a process that accepts a /state request and never
// answers cannot stall a round: the read gives up after the client's timeout.
func TestStateReadTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handler lets go before Close waits
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := nodeState(context.Background(), fakeProc("n1", srv.Listener.Addr().String()))
		done <- err
	}()
	select {
	case err := <-done:
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		require.True(t, ne.Timeout(), "%v", err)
		require.GreaterOrEqual(t, time.Since(start), 2*time.Second)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the read did not give up within 10s")
	}
}
