package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/cluster/transport"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// families is one scrape of /metrics, parsed.
type families map[string]*dto.MetricFamily

// scrape GETs url (a /metrics page) and parses the text exposition format.
func scrape(t *testing.T, url string) families {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sum is the sum of the samples of family name whose labels include labels ("k", "v",
// ...); a family that is missing fails the test.
func (f families) sum(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	fam, ok := f[name]
	require.True(t, ok, "no family %s", name)
	total := 0.0
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && have[labels[i]] == labels[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// eventNames are the "event" values of JSON lines b, in order.
func eventNames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for _, v := range lines(t, b) {
		out = append(out, v["event"].(string))
	}
	return out
}

// TestNodeHost proves the node host's glue without a network: requests step into the core
// (a refused one counted by reason and logged with why), the data plane runs on ticks,
// statuses and answers no maintainer session takes are counted dropped, /state is the
// core's view, and the metrics follow the core.
func TestNodeHost(t *testing.T) {
	core, err := node.New(node.Config{Node: "n1", Changefeed: cf, Owner: 1})
	require.NoError(t, err)
	var log bytes.Buffer
	h := &nodeHost{core: core, data: NewDataPlane(), metrics: metrics.NewNode(), events: NewEvents(&log, "n1"), cf: cf}
	h.srv = transport.NewServer(cf, h, zap.NewNop())
	t.Cleanup(h.srv.Stop)
	srv := httptest.NewServer(h.metrics.Handler())
	t.Cleanup(srv.Close)

	h.Request(transport.SessionInfo{Epoch: 1}, 1, createReq("d1", t1All, 42))
	h.tick() // d1 Working: one status report, which no session takes
	fenced := createReq("d2", ops.Span{Table: 2}, 7)
	fenced.Epoch, fenced.Record.Epoch = 2, 2
	h.Request(transport.SessionInfo{Epoch: 2}, 2, protocol.Request{Changefeed: cf, Epoch: 3, Kind: protocol.Bootstrap})
	h.Request(transport.SessionInfo{Epoch: 2}, 3, fenced)

	require.Equal(t, protocol.BootstrapAnswer{Node: "n1", Changefeed: cf, Epoch: 3,
		Dispatchers: []protocol.Dispatcher{{ID: "d1", Span: t1All, State: ops.Working, Checkpoint: 42}},
		Removes:     []ops.Record{}, Merges: []ops.Record{}}, h.state())

	got := lines(t, log.Bytes())
	var events []string
	for _, v := range got {
		events = append(events, v["event"].(string))
	}
	require.Equal(t, []string{"DMDeliver", "DMEffect", "DMSend", "DMDeliver", "DMAnswer", "DMDeliver"}, events)
	require.Equal(t, map[string]any{"event": "DMDeliver", "proc": "n1", "epoch": 1.0, "seq": 1.0, "owner": 1.0, "kind": "Create",
		"reqEpoch": 1.0, "id": "d1", "op": "add", "span": "1[,)"}, got[0])
	require.Equal(t, map[string]any{"event": "DMEffect", "proc": "n1", "effect": "Create", "id": "d1", "span": "1[,)",
		"checkpoint": 42.0, "sources": []any{}}, got[1])
	require.Equal(t, map[string]any{"event": "DMSend", "proc": "n1", "epoch": 1.0, "seq": 0.0, "sessions": 0.0,
		"statuses": []any{ // d1 started, and the tick's heartbeat
			map[string]any{"id": "d1", "state": "Working", "checkpoint": 42.0},
			map[string]any{"id": "d1", "state": "Working", "checkpoint": 42.0},
		}}, got[2])
	require.Equal(t, map[string]any{"event": "DMAnswer", "proc": "n1", "epoch": 3.0, "seq": 0.0, "sessions": 0.0,
		"dispatchers": 1.0, "removes": []any{}, "merges": []any{}}, got[4])
	require.Equal(t, map[string]any{"event": "DMDeliver", "proc": "n1", "epoch": 2.0, "seq": 3.0, "owner": 3.0, "kind": "Create",
		"reqEpoch": 2.0, "id": "d2", "op": "add", "span": "2[,)",
		"refused": `node n1: Create of "d2" from epoch 2 refused: fenced: not from the maintainer the node obeys: epoch 2, the node obeys 3`},
		got[5])

	m := scrape(t, srv.URL)
	require.Equal(t, 1.0, m.sum(t, "opfsm_node_requests_refused_total", "reason", "fenced"))
	require.Equal(t, 1.0, m.sum(t, "opfsm_node_requests_refused_total"))
	require.Equal(t, 2.0, m.sum(t, "opfsm_node_statuses_total", "outcome", "dropped"))
	require.Equal(t, 0.0, m.sum(t, "opfsm_node_statuses_total", "outcome", "sent"))
	require.Equal(t, 1.0, m.sum(t, "opfsm_node_dispatchers", "state", "Working"))
	require.Equal(t, 1.0, m.sum(t, "opfsm_node_dispatchers"))
	require.Equal(t, 3.0, m.sum(t, "opfsm_node_owner_epoch"))
}

// TestMaintainerHostState proves what a maintainer process serves at /state: its name
// alone before it is elected; elected, its epoch, whether it boots, its tasks, its
// operators by kind and in flight, and the checkpoint it stored.
func TestMaintainerHostState(t *testing.T) {
	h := &maintainerHost{}
	require.Equal(t, MaintainerState{Name: "c1"}, h.state("c1"))

	boot, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 5, Nodes: []ops.NodeID{"A"}})
	require.NoError(t, err)
	h.m = boot
	require.Equal(t, MaintainerState{Name: "c1", Elected: true, Epoch: 5, Booting: true}, h.state("c1"))

	m := maintaining(t, []ops.NodeID{"A", "B"}, task("a", xy, "A"), task("b", yz, "A"), task("c", ops.Span{Table: 2}, "B"))
	h.m, h.ckpt = m, 17
	require.Equal(t, MaintainerState{Name: "c1", Elected: true, Epoch: 2, Operators: map[string]int{}, Checkpoint: 17, Tasks: []TaskState{
		{ID: "a", Table: 1, Start: "x", End: "y", Sched: "Replicating", Node: "A"},
		{ID: "b", Table: 1, Start: "y", End: "z", Sched: "Replicating", Node: "A"},
		{ID: "c", Table: 2, Sched: "Replicating", Node: "B"},
	}}, sortedTasks(h.state("c1")))

	require.NoError(t, m.Merge([]ops.DispatcherID{"a", "b"}, "m"))
	require.NoError(t, m.Move("c", "A"))
	st := sortedTasks(h.state("c1"))
	require.Equal(t, map[string]int{"merge": 1, "occupy": 2, "move": 1}, st.Operators)
	require.Equal(t, []OperatorState{
		{ID: "a", Kind: "occupy", State: "Holding", Table: 1},
		{ID: "b", Kind: "occupy", State: "Holding", Table: 1},
		{ID: "c", Kind: "move", State: "RemoveOrigin", Table: 2},
		{ID: "m", Kind: "merge", State: "Running", Table: 1},
	}, st.InFlight)
	require.Equal(t, []TaskState{
		{ID: "a", Table: 1, Start: "x", End: "y", Sched: "Scheduling", Node: "A"},
		{ID: "b", Table: 1, Start: "y", End: "z", Sched: "Scheduling", Node: "A"},
		{ID: "c", Table: 2, Sched: "Scheduling", Node: "B"},
		{ID: "m", Table: 1, Start: "x", End: "z", Sched: "Scheduling", Node: "A"},
	}, st.Tasks)
}

// sortedTasks orders a state's tasks by id (the controller lists them in no order).
func sortedTasks(st MaintainerState) MaintainerState {
	for i := range st.Tasks {
		for j := i + 1; j < len(st.Tasks); j++ {
			if st.Tasks[j].ID < st.Tasks[i].ID {
				st.Tasks[i], st.Tasks[j] = st.Tasks[j], st.Tasks[i]
			}
		}
	}
	return st
}

// TestServeHTTP proves a process's HTTP side: /state as JSON, /metrics from the handler
// given, a state that does not encode answered 500, other methods and paths refused, an
// address that cannot be listened on an error, and a client that never finishes its
// headers cut off.
func TestServeHTTP(t *testing.T) {
	t.Parallel()
	var state any = MaintainerState{Name: "c1", Elected: true, Epoch: 4}
	w, err := serveHTTP("127.0.0.1:0", http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(rw, "metrics\n")
	}), func() any { return state })
	require.NoError(t, err)
	t.Cleanup(w.close)

	get := func(method, path string) (int, string, string) {
		req, err := http.NewRequestWithContext(t.Context(), method, "http://"+w.addr+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get(http.MethodGet, "/state")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", ctype)
	var got MaintainerState
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, state, got)

	code, _, body = get(http.MethodGet, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "metrics\n", body)

	code, _, _ = get(http.MethodPost, "/state")
	require.Equal(t, http.StatusMethodNotAllowed, code)
	code, _, _ = get(http.MethodGet, "/other")
	require.Equal(t, http.StatusNotFound, code)

	state = func() {} // JSON has no functions
	code, _, body = get(http.MethodGet, "/state")
	require.Equal(t, http.StatusInternalServerError, code)
	require.Contains(t, body, "unsupported type")

	_, err = serveHTTP(w.addr, http.NotFoundHandler(), func() any { return nil })
	require.Error(t, err, "the address is taken")

	// A client that sends half a request is cut off after the header timeout.
	conn, err := net.Dial("tcp", w.addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, "GET /state HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(start.Add(10*time.Second)))
	_, err = io.ReadAll(conn)
	require.NoError(t, err, "the server closes the connection")
	require.GreaterOrEqual(t, time.Since(start), time.Second)
	require.Less(t, time.Since(start), 5*time.Second)
}

// TestWebClose proves that close stops serving and returns.
func TestWebClose(t *testing.T) {
	w, err := serveHTTP("127.0.0.1:0", http.NotFoundHandler(), func() any { return 1 })
	require.NoError(t, err)
	w.close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.addr+"/state", nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
}

// newMaintainerHost is the host of m, with no node reachable, logging to log.
func newMaintainerHost(t *testing.T, m *maintainer.Maintainer, log *bytes.Buffer, live map[ops.NodeID]string) *maintainerHost {
	t.Helper()
	h := &maintainerHost{m: m, metrics: metrics.NewMaintainer(), events: NewEvents(log, "c1"), live: live,
		in: make(chan inbound, 1), done: make(chan struct{})}
	h.cli = transport.NewClient(cf, m.Epoch(), "c1", h, zap.NewNop())
	t.Cleanup(h.cli.Close)
	t.Cleanup(func() { close(h.done) })
	return h
}

// TestMaintainerHostWatches proves how a maintainer host follows etcd: a node that joins
// is added once, one that leaves is removed once, a created table becomes a task named
// after it that starts no lower than the stored changefeed checkpoint, a dropped table is
// dropped, and a watch error ends the host with it.
func TestMaintainerHostWatches(t *testing.T) {
	m := maintaining(t, []ops.NodeID{"A"}, task("a", ops.Span{Table: 1}, "A"))
	var log bytes.Buffer
	h := newMaintainerHost(t, m, &log, map[ops.NodeID]string{"A": "127.0.0.1:1"})
	h.ckpt = 10

	require.NoError(t, h.onNode(coord.NodeEvent{ID: "B", Addr: "127.0.0.1:2", Joined: true, Rev: 5}))
	require.NoError(t, h.onNode(coord.NodeEvent{ID: "B", Addr: "127.0.0.1:2", Joined: true, Rev: 6}))
	require.True(t, m.Live("B"))
	require.NoError(t, h.onNode(coord.NodeEvent{ID: "C", Rev: 7}))
	require.NoError(t, h.onNode(coord.NodeEvent{ID: "A", Rev: 8}))
	require.NoError(t, h.onNode(coord.NodeEvent{ID: "A", Rev: 9}))
	require.False(t, m.Live("A"))
	require.Equal(t, map[ops.NodeID]string{"B": "127.0.0.1:2"}, h.live)

	require.NoError(t, h.onTable(coord.TableEvent{Table: 7, Checkpoint: 3, Created: true, Rev: 10}))
	require.NoError(t, h.onTable(coord.TableEvent{Table: 8, Checkpoint: 50, Created: true, Rev: 11}))
	t7, ok := m.Controller().Task("t7")
	require.True(t, ok)
	require.Equal(t, ops.Task{ID: "t7", Span: ops.Span{Table: 7}, Checkpoint: 10}, t7)
	t8, ok := m.Controller().Task("t8")
	require.True(t, ok)
	require.Equal(t, uint64(50), t8.Checkpoint)
	require.NoError(t, h.onTable(coord.TableEvent{Table: 8, Rev: 12}))
	require.Equal(t, []ops.TableID{1, 7}, m.Tables())

	got := lines(t, log.Bytes())
	var events []map[string]any
	for _, v := range got {
		if v["event"] != "MaintainerSend" {
			events = append(events, v)
		}
	}
	require.Equal(t, []map[string]any{
		{"event": "NodeAdded", "proc": "c1", "node": "B", "rev": 5.0},
		{"event": "NodeRemoved", "proc": "c1", "node": "A", "rev": 8.0},
		{"event": "CreateTable", "proc": "c1", "table": 7.0, "id": "t7", "rev": 10.0},
		{"event": "CreateTable", "proc": "c1", "table": 8.0, "id": "t8", "rev": 11.0},
		{"event": "DropTable", "proc": "c1", "table": 8.0, "rev": 12.0},
	}, events)

	lost := errors.New("compacted")
	require.ErrorIs(t, h.onNode(coord.NodeEvent{Err: lost}), lost)
	require.EqualError(t, h.onTable(coord.TableEvent{Err: lost}), "maintainer: watching tables: compacted")
}

// TestMaintainerHostRecovers proves the host's side of a bootstrap: once every live node
// answered, the maintainer recovers, the recovery is logged with its decisions by rule
// and counted in the metrics.
func TestMaintainerHostRecovers(t *testing.T) {
	m, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 4, Nodes: []ops.NodeID{"A", "B"}, Tables: []ops.TableID{1, 2}})
	require.NoError(t, err)
	var log bytes.Buffer
	h := newMaintainerHost(t, m, &log, map[ops.NodeID]string{"A": "127.0.0.1:1", "B": "127.0.0.1:2"})
	srv := httptest.NewServer(h.metrics.Handler())
	t.Cleanup(srv.Close)
	h.booted = time.Now()
	h.flush()

	h.onInbound(inbound{node: "A", seq: 1, answer: &protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 4,
		Dispatchers: []protocol.Dispatcher{{ID: "x", Span: ops.Span{Table: 1}, State: ops.Working, Checkpoint: 9}}}})
	require.True(t, m.Booting(), "B has not answered")
	h.onInbound(inbound{node: "B", seq: 1, answer: &protocol.BootstrapAnswer{Node: "B", Changefeed: cf, Epoch: 4}})
	require.False(t, m.Booting())
	h.onInbound(inbound{node: "A", seq: 2, report: &protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 4,
		Statuses: []ops.Status{{ID: "x", State: ops.Working, Checkpoint: 11}}}})
	x, ok := m.Controller().Task("x")
	require.True(t, ok)
	require.Equal(t, uint64(11), x.Checkpoint)

	var recovers, answers, statuses []map[string]any
	for _, v := range lines(t, log.Bytes()) {
		switch v["event"] {
		case "Recover":
			require.IsType(t, "", v["took"])
			delete(v, "took")
			recovers = append(recovers, v)
		case "MaintainerAnswer":
			answers = append(answers, v)
		case "MaintainerStatus":
			statuses = append(statuses, v)
		}
	}
	require.Equal(t, []map[string]any{{"event": "Recover", "proc": "c1", "epoch": 4.0, "decisions": 2.0, "rejected": 0.0,
		"rule.3.2-adopt": 1.0, "rule.3.2-hole": 1.0}}, recovers)
	require.Equal(t, []map[string]any{
		{"event": "MaintainerAnswer", "proc": "c1", "node": "A", "seq": 1.0, "epoch": 4.0, "dispatchers": 1.0, "removes": []any{}, "merges": []any{}},
		{"event": "MaintainerAnswer", "proc": "c1", "node": "B", "seq": 1.0, "epoch": 4.0, "dispatchers": 0.0, "removes": []any{}, "merges": []any{}},
	}, answers)
	require.Equal(t, []map[string]any{{"event": "MaintainerStatus", "proc": "c1", "node": "A", "seq": 2.0, "epoch": 4.0,
		"statuses": []any{map[string]any{"id": "x", "state": "Working", "checkpoint": 11.0}}}}, statuses)

	metrics := scrape(t, srv.URL)
	require.Equal(t, 1.0, metrics.sum(t, "opfsm_recoveries_total"))
	require.Equal(t, 2.0, metrics.sum(t, "opfsm_recovery_decisions_total"))
	require.Equal(t, 0.0, metrics.sum(t, "opfsm_maintainer_booting"))
	require.Equal(t, 4.0, metrics.sum(t, "opfsm_maintainer_epoch"))
}

// TestAdvanceCheckpointStays proves that a maintainer host writes no changefeed checkpoint
// while it boots, without tasks, or when the lowest task checkpoint is not above the one
// it stored: the host has no leadership here, so any write would fail the test.
func TestAdvanceCheckpointStays(t *testing.T) {
	boot, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 5, Nodes: []ops.NodeID{"A"}})
	require.NoError(t, err)
	empty := maintaining(t, []ops.NodeID{"A"})
	ten := func() *maintainer.Maintainer {
		a, b := task("a", xy, "A"), task("b", yz, "A")
		a.Checkpoint, b.Checkpoint = 12, 10
		m := maintaining(t, []ops.NodeID{"A"}, a, b)
		got, _ := m.Controller().Task("b")
		require.Equal(t, uint64(10), got.Checkpoint)
		return m
	}
	for _, tc := range []struct {
		name   string
		m      *maintainer.Maintainer
		stored uint64
	}{
		{name: "booting", m: boot},
		{name: "no task", m: empty},
		{name: "lowest equal to the stored", m: ten(), stored: 10},
		{name: "lowest below the stored", m: ten(), stored: 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			h := &maintainerHost{m: tc.m, events: NewEvents(&log, "c1"), ckpt: tc.stored}
			require.NotPanics(t, func() { h.advanceCheckpoint(t.Context()) })
			require.Equal(t, tc.stored, h.ckpt)
			require.Empty(t, log.String())
		})
	}
}
