package cluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/eventlog"
	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/cluster/transport"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// stamp is the wall clock of an event line, which the trace tests cut out.
var stamp = regexp.MustCompile(`"ts":"[^"]*",`)

// emitted are the lines written to log, without their wall clock.
func emitted(log *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(stamp.ReplaceAllString(log.String(), ""), "\n"), "\n")
}

// TestNodeStepJSON proves the exact JSON of a node's Step events (the contract
// docs/cluster.md states for `opfsm conform --logs`): step, id and the state after it,
// with every dispatcher and journal entry sorted by id, every span with all three keys and
// empty lists as []; a heartbeat without state.
func TestNodeStepJSON(t *testing.T) {
	halves := SpecHalves(1)
	var log bytes.Buffer
	ev := NewEvents(&log, "n1")
	n, err := node.New(node.Config{Node: "n1", Changefeed: cf})
	require.NoError(t, err)
	ev.Emit("Step", nodeStep(n, node.Action{Kind: node.ActHeartbeat, ID: "a"})...)
	ev.Emit("Step", nodeStep(n, node.Action{Kind: node.ActWorking, ID: "a"})...)

	require.NoError(t, n.Preload(protocol.Dispatcher{ID: "b", Span: halves[1], State: ops.Working, Checkpoint: 1},
		protocol.Dispatcher{ID: "a", Span: halves[0], State: ops.Working, Checkpoint: 1},
		protocol.Dispatcher{ID: "c", Span: ops.Span{Table: 2}, State: ops.Working, Checkpoint: 1}))
	require.NoError(t, n.Step(protocol.Request{Changefeed: cf, Epoch: 1, Kind: protocol.Bootstrap}))
	require.NoError(t, n.Step(mergeReq("m", t1All, "a", "b")))
	mv := record("c", ops.TypeMove, ops.Span{Table: 2})
	mv.State, mv.Origin, mv.Dest = ops.MoveRemoveOrigin, "n1", "n2"
	require.NoError(t, n.Step(protocol.Request{Changefeed: cf, Epoch: 1, Kind: protocol.Remove, Record: mv}))
	ev.Emit("Step", nodeStep(n, node.Action{Kind: node.ActPrepared, ID: "m"})...)

	require.Equal(t, []string{
		`{"event":"Step","proc":"n1","step":"DMHeartbeat","id":"a"}`,
		`{"event":"Step","proc":"n1","step":"DMWorking","id":"a","state":{"owner":0,"disp":[],"removes":[],"merges":[]}}`,
		`{"event":"Step","proc":"n1","step":"DMPrepared","id":"m","state":{"owner":1,"disp":[` +
			`{"id":"a","span":{"table":1,"start":"","end":"1"},"state":"WaitingMerge","removing":false},` +
			`{"id":"b","span":{"table":1,"start":"1","end":""},"state":"WaitingMerge","removing":false},` +
			`{"id":"c","span":{"table":2,"start":"","end":""},"state":"Working","removing":true},` +
			`{"id":"m","span":{"table":1,"start":"","end":""},"state":"Preparing","removing":false}],` +
			`"removes":[{"id":"c","span":{"table":2,"start":"","end":""},"op":"move","epoch":1,"dest":"n2"}],` +
			`"merges":[{"id":"m","span":{"table":1,"start":"","end":""},"epoch":1,"sources":["a","b"]}]}}`,
	}, emitted(&log))
}

// TestMaintainerStepJSON proves the exact JSON of a maintainer's Step events: the
// MaintainerCrash that starts a booting epoch (tasks and operators [] while it boots), a
// status taken (with the status and the report's epoch), a step with a table, and a
// running maintainer's tasks and operators sorted by id.
func TestMaintainerStepJSON(t *testing.T) {
	var log bytes.Buffer
	ev := NewEvents(&log, "c1")
	boot, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 5, Nodes: []ops.NodeID{"A"}})
	require.NoError(t, err)
	ev.Emit("Step", maintainerCrash(boot)...)
	ev.Emit("Step", maintainerStep(boot, maintainer.Step{Action: maintainer.StepStatus, Node: "A",
		Status: ops.Status{ID: "a", State: ops.Working, Checkpoint: 9}, Epoch: 4})...)

	halves := SpecHalves(1)
	m := maintaining(t, []ops.NodeID{"A", "B"}, task("b", halves[1], "A"), task("a", halves[0], "A"))
	require.NoError(t, m.Merge([]ops.DispatcherID{"a", "b"}, "m"))
	ev.Emit("Step", maintainerStep(m, maintainer.Step{Action: maintainer.StepDropTable, Table: 7})...)

	require.Equal(t, []string{
		`{"event":"Step","proc":"c1","step":"MaintainerCrash","epoch":5,"state":{"epoch":5,"booting":true,"tasks":[],"ops":[]}}`,
		`{"event":"Step","proc":"c1","step":"MaintainerStatus","id":"","node":"A","status":{"id":"a","state":"Working"},"reportEpoch":4,` +
			`"state":{"epoch":5,"booting":true,"tasks":[],"ops":[]}}`,
		`{"event":"Step","proc":"c1","step":"DropTable","id":"","node":"","table":7,"state":{"epoch":2,"booting":false,"tasks":[` +
			`{"id":"a","span":{"table":1,"start":"","end":"1"},"sched":"Scheduling","node":"A"},` +
			`{"id":"b","span":{"table":1,"start":"1","end":""},"sched":"Scheduling","node":"A"},` +
			`{"id":"m","span":{"table":1,"start":"","end":""},"sched":"Scheduling","node":"A"}],"ops":[` +
			`{"id":"a","span":{"table":1,"start":"","end":"1"},"type":"occupy","state":"Holding","origin":"A","dest":""},` +
			`{"id":"b","span":{"table":1,"start":"1","end":""},"type":"occupy","state":"Holding","origin":"A","dest":""},` +
			`{"id":"m","span":{"table":1,"start":"","end":""},"type":"merge","state":"Running","origin":"A","dest":""}]}}`,
	}, emitted(&log))
}

// TestNodeHostTrace proves a traced node host's log: DMDeliver with the state after the
// request, and the local steps of a tick (the data plane's first, then the core's
// heartbeats) as Step events before the DMSend that ships their statuses.
func TestNodeHostTrace(t *testing.T) {
	var log bytes.Buffer
	h := &nodeHost{data: NewDataPlane(), metrics: metrics.NewNode(), events: NewEvents(&log, "n1"), cf: cf, trace: true}
	core, err := node.New(node.Config{Node: "n1", Changefeed: cf, Owner: 1, Trace: h.traceStep})
	require.NoError(t, err)
	h.core = core
	h.srv = transport.NewServer(cf, h, zap.NewNop())
	t.Cleanup(h.srv.Stop)

	h.Request(transport.SessionInfo{Epoch: 1}, 1, createReq("d1", t1All, 42))
	h.tick()
	var got []string
	for _, line := range emitted(&log) {
		got = append(got, line[:strings.Index(line, `"proc"`)]+"...")
	}
	require.Equal(t, []string{`{"event":"DMDeliver",...`, `{"event":"DMEffect",...`, `{"event":"Step",...`, `{"event":"Step",...`,
		`{"event":"DMSend",...`}, got)
	lines := emitted(&log)
	require.True(t, strings.HasSuffix(lines[0], `"span":"1[,)","dest":"n1","state":{"owner":1,"disp":[`+
		`{"id":"d1","span":{"table":1,"start":"","end":""},"state":"Initializing","removing":false}],"removes":[],"merges":[]}}`), lines[0])
	require.True(t, strings.HasSuffix(lines[2], `"step":"DMWorking","id":"d1","state":{"owner":1,"disp":[`+
		`{"id":"d1","span":{"table":1,"start":"","end":""},"state":"Working","removing":false}],"removes":[],"merges":[]}}`), lines[2])
	require.True(t, strings.HasSuffix(lines[3], `"step":"DMHeartbeat","id":"d1"}`), lines[3])
}

// TestMaintainerHostTrace proves a traced maintainer host's log: a status report's
// receive first, then one Step per status it took; a report the maintainer refuses is
// logged with why, and takes no step.
func TestMaintainerHostTrace(t *testing.T) {
	var log bytes.Buffer
	h := &maintainerHost{metrics: metrics.NewMaintainer(), events: NewEvents(&log, "c1"), live: map[ops.NodeID]string{"A": "127.0.0.1:1"},
		in: make(chan inbound, 1), done: make(chan struct{})}
	m, err := maintainer.NewWithTasks(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1},
		Trace: h.traceStep}, []ops.Task{task("x", t1All, "A")})
	require.NoError(t, err)
	h.m = m
	h.cli = transport.NewClient(cf, m.Epoch(), "c1", h, zap.NewNop())
	t.Cleanup(h.cli.Close)
	t.Cleanup(func() { close(h.done) })

	h.onInbound(inbound{node: "A", seq: 1, report: &protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2,
		Statuses: []ops.Status{{ID: "x", State: ops.Working, Checkpoint: 5}, {ID: "x", State: ops.Working, Checkpoint: 6}}}})
	h.onInbound(inbound{node: "A", seq: 2, report: &protocol.StatusReport{Changefeed: "other", Node: "A", Epoch: 2}})
	state := `"state":{"epoch":2,"booting":false,"tasks":[{"id":"x","span":{"table":1,"start":"","end":""},"sched":"Replicating","node":"A"}],"ops":[]}}`
	require.Equal(t, []string{
		`{"event":"MaintainerStatus","proc":"c1","node":"A","seq":1,"epoch":2,"statuses":[{"id":"x","state":"Working","checkpoint":5},` +
			`{"id":"x","state":"Working","checkpoint":6}]}`,
		`{"event":"Step","proc":"c1","step":"MaintainerStatus","id":"","node":"A","status":{"id":"x","state":"Working"},"reportEpoch":2,` + state,
		`{"event":"Step","proc":"c1","step":"MaintainerStatus","id":"","node":"A","status":{"id":"x","state":"Working"},"reportEpoch":2,` + state,
		`{"event":"MaintainerStatus","proc":"c1","node":"A","seq":2,"epoch":2,"statuses":[],` +
			`"error":"maintainer: status report of node A: message of another changefeed: \"other\""}`,
	}, emitted(&log))
	// The error logged is StepStatus's own.
	err = m.StepStatus(protocol.StatusReport{Changefeed: "other", Node: "A", Epoch: 2})
	require.EqualError(t, err, `maintainer: status report of node A: message of another changefeed: "other"`)
	err = m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2, Statuses: []ops.Status{{}}})
	require.Equal(t, err, m.CheckStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2, Statuses: []ops.Status{{}}}))
}

// TestTracedCluster runs a traced cluster in this process: an embedded etcd, node n1
// preloaded with the halves of table 1, node n2, and a maintainer on the spec workload.
// The first maintainer adopts the preloaded halves; n1's log starts with the state it
// started from; the maintainer's epoch starts with MaintainerCrash right after Bootstrap;
// every status report's receive comes before the Steps that take its statuses; and the
// logs, Step events and all, merge.
func TestTracedCluster(t *testing.T) {
	dir := t.TempDir()
	etcd := startEtcd(t, dir)
	cli, err := coord.Dial(etcd)
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	require.NoError(t, coord.New(cli, cf).CreateTable(t.Context(), 1, 1))

	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.Mkdir(logs, 0o755))
	halves := SpecHalves(1)
	n1 := runNode(t, logs, NodeOptions{Name: "n1", Changefeed: cf, Etcd: etcd, Trace: true, Preload: []protocol.Dispatcher{
		{ID: "a", Span: halves[0], State: ops.Working, Checkpoint: 1}, {ID: "b", Span: halves[1], State: ops.Working, Checkpoint: 1}}})
	n2 := runNode(t, logs, NodeOptions{Name: "n2", Changefeed: cf, Etcd: etcd, Trace: true})
	c1 := startMaintainer(t, etcd, logs, "c1", MaintainerOptions{Trace: true, SpecWork: true, Work: 20 * time.Millisecond})
	c1.epoch(t)
	poll(t, 30*time.Second, func() error {
		var st MaintainerState
		if err := getState(c1, &st); err != nil {
			return err
		}
		if sched := scheduled(t, c1.events); sched["move"]+sched["merge"]+sched["split"] < 3 {
			return fmt.Errorf("the workload started %v", sched)
		}
		return nil
	})
	for _, p := range []*process{c1, n1, n2} {
		require.NoError(t, p.stop(t))
	}

	b, err := os.ReadFile(n1.events)
	require.NoError(t, err)
	first := emitted(bytes.NewBuffer(b))[0]
	require.True(t, strings.HasSuffix(first, `"state":{"owner":0,"disp":[`+
		`{"id":"a","span":{"table":1,"start":"","end":"1"},"state":"Working","removing":false},`+
		`{"id":"b","span":{"table":1,"start":"1","end":""},"state":"Working","removing":false}],"removes":[],"merges":[]}}`), first)
	require.True(t, strings.HasPrefix(first, `{"event":"NodeStarted",`), first)

	var got []map[string]any
	b, err = os.ReadFile(c1.events)
	require.NoError(t, err)
	got = lines(t, b)
	require.Equal(t, []any{"CandidateStarted", "Elected", "Bootstrap", "Step"},
		[]any{got[0]["event"], got[1]["event"], got[2]["event"], got[3]["event"]})
	require.Equal(t, "MaintainerCrash", got[3]["step"])
	// Statuses are stepped after their report's receive: while the maintainer boots they
	// wait for recovery, then each report's right after it.
	recovered := false
	pending := 0 // statuses received and not yet stepped
	for _, v := range got {
		switch {
		case v["event"] == "Step" && v["step"] == "Recover":
			recovered = true
			tasks := v["state"].(map[string]any)["tasks"].([]any)
			require.Len(t, tasks, 2, "the preloaded halves are adopted")
			require.Equal(t, "a", tasks[0].(map[string]any)["id"])
			require.Equal(t, "b", tasks[1].(map[string]any)["id"])
		case v["event"] == "MaintainerStatus":
			if recovered {
				require.Zero(t, pending, "every status of a report is stepped before the next report")
			}
			pending += len(v["statuses"].([]any))
		case v["event"] == "Step" && v["step"] == "MaintainerStatus":
			require.Positive(t, pending, "a status stepped before its report was logged")
			pending--
		}
	}
	require.True(t, recovered)

	procs, err := eventlog.ReadDir(logs)
	require.NoError(t, err)
	_, err = eventlog.Merge(procs)
	require.NoError(t, err)
}
