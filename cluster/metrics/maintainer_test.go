package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

var (
	left  = ops.Span{Table: 1, End: "m"}
	right = ops.Span{Table: 1, Start: "m"}
	whole = ops.Span{Table: 1}
)

// mergeWorld is a running maintainer of epoch 2 over nodes A and B, with tasks l and r on
// A (their dispatchers working there), observed by x and by rec.
func mergeWorld(t *testing.T, x *metrics.Maintainer, rec *fsm.Recorder) *world {
	t.Helper()
	w := newWorld(t, 2, "A", "B")
	require.NoError(t, w.nodes["A"].Preload(
		protocol.Dispatcher{ID: "l", Span: left, State: ops.Working, Checkpoint: 10},
		protocol.Dispatcher{ID: "r", Span: right, State: ops.Working, Checkpoint: 12}))
	m, err := maintainer.NewWithTasks(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: w.names, Tables: []ops.TableID{1},
		Observer: fsm.Observers{x.Observer(), rec}},
		[]ops.Task{{ID: "l", Span: left, Node: "A", Checkpoint: 10}, {ID: "r", Span: right, Node: "A", Checkpoint: 12}})
	require.NoError(t, err)
	w.m = m
	w.after = func() { x.Update(w.m) }
	return w
}

// transitions aggregates recorded transitions as the exporter labels them.
func transitions(recs []fsm.TransitionRecord) map[string]float64 {
	out := map[string]float64{}
	for _, r := range recs {
		out[fmt.Sprintf("from=%s,machine=%s,to=%s,trigger=%s", r.From, r.Machine, r.To, r.Trigger)]++
	}
	return out
}

// TestMaintainerMerge: a merge in flight shows as one merge operator Running and an occupy
// operator Holding per source, and as nothing once it finished; every transition is
// counted exactly once; the driver's counters are exported as they are.
func TestMaintainerMerge(t *testing.T) {
	x := metrics.NewMaintainer()
	url := serve(t, x.Handler())
	rec := &fsm.Recorder{}
	w := mergeWorld(t, x, rec)

	x.Update(w.m)
	s := get(t, url)
	require.Equal(t, map[string]float64{"state=Replicating": 2}, s.nonZero(t, "opfsm_tasks"))
	require.Empty(t, s.nonZero(t, "opfsm_operators"))
	require.Empty(t, s.nonZero(t, "opfsm_fsm_transitions_total"))
	require.Equal(t, 2.0, s.value(t, "opfsm_maintainer_epoch"))
	require.Equal(t, 0.0, s.value(t, "opfsm_maintainer_booting"))

	require.NoError(t, w.m.Merge([]ops.DispatcherID{"l", "r"}, "lr"))
	x.Update(w.m)
	s = get(t, url)
	require.Equal(t, 1.0, s.value(t, "opfsm_operators", "kind=merge", "state=Running"))
	require.Equal(t, 2.0, s.value(t, "opfsm_operators", "kind=occupy", "state=Holding"))
	require.Equal(t, 0.0, s.value(t, "opfsm_operators", "kind=move", "state=RemoveOrigin"))
	require.Equal(t, map[string]float64{"kind=merge,state=Running": 1, "kind=occupy,state=Holding": 2}, s.nonZero(t, "opfsm_operators"))
	require.Equal(t, map[string]float64{"state=Scheduling": 3}, s.nonZero(t, "opfsm_tasks"), "the sources and the merged task")

	w.settle(10)
	s = get(t, url)
	require.Empty(t, s.nonZero(t, "opfsm_operators"), "the merge finished")
	require.Equal(t, map[string]float64{"state=Replicating": 1}, s.nonZero(t, "opfsm_tasks"))
	require.Equal(t, map[string]float64{
		"from=Running,machine=merge,to=DoneOK,trigger=MergedWorking": 1,
		"from=Holding,machine=occupy,to=Released,trigger=Release":    2,
	}, s.nonZero(t, "opfsm_fsm_transitions_total"))
	require.Equal(t, transitions(rec.Records()), s.nonZero(t, "opfsm_fsm_transitions_total"), "what the observer saw")
	require.Equal(t, 0.0, s.value(t, "opfsm_fsm_transitions_total", "machine=move", "from=RemoveOrigin", "to=AddDest", "trigger=OriginStopped"),
		"every edge is exported, fired or not")

	mm := w.m.Metrics()
	require.NotZero(t, mm.StatusesApplied)
	require.NotZero(t, mm.RequestsQueued)
	require.Equal(t, float64(mm.StatusesApplied), s.value(t, "opfsm_maintainer_statuses_total", "outcome=applied"))
	require.Equal(t, 0.0, s.value(t, "opfsm_maintainer_statuses_total", "outcome=fenced"))
	require.Equal(t, float64(mm.RequestsQueued), s.value(t, "opfsm_maintainer_requests_queued_total"))
	require.Equal(t, float64(mm.Resends), s.value(t, "opfsm_maintainer_requests_resent_total"))

	// A report sent to the old maintainer is fenced; one from a node that is not live
	// is dropped; a scheduling call for a node that is not live is refused.
	require.NoError(t, w.m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 1,
		Statuses: []ops.Status{{ID: "lr", State: ops.Working}, {ID: "x", State: ops.Working}}}))
	require.NoError(t, w.m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "Z", Epoch: 2, Statuses: []ops.Status{{ID: "lr", State: ops.Working}}}))
	require.ErrorIs(t, w.m.Move("lr", "Z"), maintainer.ErrUnknownNode)
	x.Update(w.m)
	s = get(t, url)
	require.Equal(t, 2.0, s.value(t, "opfsm_maintainer_statuses_total", "outcome=fenced"))
	require.Equal(t, 1.0, s.value(t, "opfsm_maintainer_statuses_total", "outcome=dropped"))
	require.Equal(t, float64(mm.StatusesApplied), s.value(t, "opfsm_maintainer_statuses_total", "outcome=applied"))
	require.Equal(t, 1.0, s.value(t, "opfsm_maintainer_schedule_refused_total"))
	x.Update(w.m)
	require.Equal(t, 2.0, get(t, url).value(t, "opfsm_maintainer_statuses_total", "outcome=fenced"), "an Update without news adds nothing")
}

// TestMaintainerMove: a move shows in its states as it goes, and its transitions are
// counted edge by edge.
func TestMaintainerMove(t *testing.T) {
	x := metrics.NewMaintainer()
	url := serve(t, x.Handler())
	rec := &fsm.Recorder{}
	w := mergeWorld(t, x, rec)
	require.NoError(t, w.m.Move("l", "B"))
	x.Update(w.m)
	require.Equal(t, map[string]float64{"kind=move,state=RemoveOrigin": 1}, get(t, url).nonZero(t, "opfsm_operators"))
	w.round() // the Remove reaches A, which closes l and reports it Stopped: the move adds it on B
	require.Equal(t, map[string]float64{"kind=move,state=AddDest": 1}, get(t, url).nonZero(t, "opfsm_operators"))
	w.settle(10)
	s := get(t, url)
	require.Empty(t, s.nonZero(t, "opfsm_operators"))
	require.Equal(t, map[string]float64{
		"from=RemoveOrigin,machine=move,to=AddDest,trigger=OriginStopped": 1,
		"from=AddDest,machine=move,to=DoneSuccess,trigger=DestWorking":    1,
	}, s.nonZero(t, "opfsm_fsm_transitions_total"))
	require.Equal(t, transitions(rec.Records()), s.nonZero(t, "opfsm_fsm_transitions_total"))
	task, ok := w.m.Controller().Task("l")
	require.True(t, ok)
	require.Equal(t, ops.NodeID("B"), task.Node)
}

// TestMaintainerRecovery: a new maintainer boots (booting 1), recovers the move its
// predecessor started from the origin's remove journal, and the host reports the recovery:
// one recovery, its duration, its decisions by rule. The counters keep growing across
// the change of driver.
func TestMaintainerRecovery(t *testing.T) {
	x := metrics.NewMaintainer()
	url := serve(t, x.Handler())
	rec := &fsm.Recorder{}
	old := mergeWorld(t, x, rec)
	require.NoError(t, old.m.Move("l", "B"))
	for _, msg := range old.m.Ready() { // A journals the move's Remove; then the maintainer dies
		require.NoError(t, old.nodes[msg.To].Step(msg.Request))
	}
	old.m.Advance()
	require.NoError(t, old.m.StepStatus(protocol.StatusReport{Changefeed: cf, Node: "A", Epoch: 2,
		Statuses: []ops.Status{{ID: "l", State: ops.Working}, {ID: "r", State: ops.Working}}}))
	x.Update(old.m)
	before := old.m.Metrics()
	require.Equal(t, float64(before.StatusesApplied), get(t, url).value(t, "opfsm_maintainer_statuses_total", "outcome=applied"))

	w := &world{t: t, nodes: old.nodes, names: old.names, starting: map[ops.NodeID][]ops.DispatcherID{}}
	m, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 3, Nodes: w.names, Tables: []ops.TableID{1},
		Observer: fsm.Observers{x.Observer(), rec}})
	require.NoError(t, err)
	w.m = m
	x.Update(m)
	s := get(t, url)
	require.Equal(t, 1.0, s.value(t, "opfsm_maintainer_booting"))
	require.Equal(t, 3.0, s.value(t, "opfsm_maintainer_epoch"))
	require.Empty(t, s.nonZero(t, "opfsm_tasks"), "no tasks while booting")

	start := time.Now()
	for i := 0; i < 5 && m.Booting(); i++ {
		w.round()
	}
	require.False(t, m.Booting())
	x.Recovered(time.Since(start), m.Recovery())
	x.Update(m)
	s = get(t, url)
	require.Equal(t, 0.0, s.value(t, "opfsm_maintainer_booting"))
	require.Equal(t, 1.0, s.value(t, "opfsm_recoveries_total"))
	require.Equal(t, 1.0, s.value(t, "opfsm_recovery_duration_seconds"), "one observation")
	rules := map[string]float64{}
	for d := range m.Recovery().Decisions.All() {
		rules["rule="+d.Rule]++
	}
	require.Equal(t, map[string]float64{"rule=3.2-adopt": 1, "rule=3.3-remove-resume": 1}, rules, "r adopted, l's move resumed")
	require.Equal(t, map[string]float64{"kind=move,state=AddDest": 1}, s.nonZero(t, "opfsm_operators"),
		"the move resumed, and the Stopped that arrived while booting moved it on")
	require.Equal(t, rules, s.nonZero(t, "opfsm_recovery_decisions_total"))
	require.Equal(t, float64(len(m.Recovery().Rejected)), s.value(t, "opfsm_recovery_rejections_total"))

	w.after = func() { x.Update(w.m) }
	w.settle(10)
	s = get(t, url)
	require.Empty(t, s.nonZero(t, "opfsm_operators"))
	after := m.Metrics()
	require.NotZero(t, before.StatusesApplied)
	require.NotZero(t, after.StatusesApplied)
	require.Equal(t, float64(before.StatusesApplied+after.StatusesApplied), s.value(t, "opfsm_maintainer_statuses_total", "outcome=applied"),
		"the new driver's statuses add to the old one's")
	require.Equal(t, float64(before.RequestsQueued+after.RequestsQueued), s.value(t, "opfsm_maintainer_requests_queued_total"))
	require.Equal(t, transitions(rec.Records()), s.nonZero(t, "opfsm_fsm_transitions_total"))
	require.Equal(t, map[string]float64{
		"from=RemoveOrigin,machine=move,to=AddDest,trigger=OriginStopped": 1,
		"from=AddDest,machine=move,to=DoneSuccess,trigger=DestWorking":    1,
	}, s.nonZero(t, "opfsm_fsm_transitions_total"), "the restored move's, after recovery")

	x.Update(nil)
	s = get(t, url)
	require.Empty(t, s.nonZero(t, "opfsm_tasks"))
	require.Equal(t, 0.0, s.value(t, "opfsm_maintainer_epoch"))
	require.Equal(t, float64(before.StatusesApplied+after.StatusesApplied), s.value(t, "opfsm_maintainer_statuses_total", "outcome=applied"),
		"counters survive the process stepping down")
}

// TestExposition: every opfsm_ family has help text and the type its name promises, no
// label names an id, promlint finds nothing, and the Go and process collectors are
// served too.
func TestExposition(t *testing.T) {
	x := metrics.NewMaintainer()
	n := metrics.NewNode()
	x.Recovered(time.Millisecond, w0(t).Recovery())
	for _, h := range []string{serve(t, x.Handler()), serve(t, n.Handler())} {
		s := get(t, h)
		require.Contains(t, s, "go_goroutines")
		require.Contains(t, s, "process_cpu_seconds_total")
		var fams []*dto.MetricFamily
		for name, fam := range s {
			if len(name) < 6 || name[:6] != "opfsm_" {
				continue
			}
			fams = append(fams, fam)
			require.NotEmpty(t, fam.GetHelp(), name)
			for _, m := range fam.GetMetric() {
				for _, lp := range m.GetLabel() {
					require.NotContains(t, []string{"id", "dispatcher", "node", "changefeed", "span"}, lp.GetName(), name)
				}
			}
		}
		require.NotEmpty(t, fams)
		problems, err := promlint.NewWithMetricFamilies(fams).Lint()
		require.NoError(t, err)
		require.Empty(t, problems)
	}
	// Both exporters in one host registry, and twice over under a changefeed label.
	reg := prometheus.NewRegistry()
	require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"changefeed": "a"}, reg).Register(x))
	require.NoError(t, prometheus.WrapRegistererWith(prometheus.Labels{"changefeed": "b"}, reg).Register(metrics.NewMaintainer()))
	require.NoError(t, reg.Register(n))
	_, err := reg.Gather()
	require.NoError(t, err)
}

// w0 is a maintainer that recovered from one node's answer, for a Recovery result.
func w0(t *testing.T) *maintainer.Maintainer {
	t.Helper()
	m, err := maintainer.New(maintainer.Config{Changefeed: cf, Epoch: 2, Nodes: []ops.NodeID{"A"}, Tables: []ops.TableID{1}})
	require.NoError(t, err)
	require.NoError(t, m.StepAnswer(protocol.BootstrapAnswer{Node: "A", Changefeed: cf, Epoch: 2,
		Dispatchers: []protocol.Dispatcher{{ID: "d", Span: whole, State: ops.Working}}}))
	require.NoError(t, m.Recover())
	return m
}

// TestConcurrentScrape: scrapes run while the host drives a maintainer and a node, feeds
// them and updates the exporters (run with -race).
func TestConcurrentScrape(t *testing.T) {
	x := metrics.NewMaintainer()
	nx := metrics.NewNode()
	urls := []string{serve(t, x.Handler()), serve(t, nx.Handler())}
	scraped := make(chan error, 1)
	go func() {
		for range 20 {
			for _, u := range urls {
				resp, err := http.Get(u)
				if err != nil {
					scraped <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		scraped <- nil
	}()
	merges := 0
	for running := true; running || merges < 20; merges++ {
		w := mergeWorld(t, x, &fsm.Recorder{})
		w.after = func() {
			x.Update(w.m)
			nx.Update(w.nodes["A"])
			nx.StatusesSent(1)
			nx.Refused(node.ErrFenced)
		}
		require.NoError(t, w.m.Merge([]ops.DispatcherID{"l", "r"}, "lr"))
		w.settle(10)
		x.Recovered(time.Millisecond, w0(t).Recovery())
		select {
		case err := <-scraped:
			require.NoError(t, err)
			running = false
		default:
		}
	}
	s := get(t, urls[0])
	require.Equal(t, float64(merges), s.value(t, "opfsm_fsm_transitions_total", "machine=merge", "from=Running", "to=DoneOK", "trigger=MergedWorking"))
	require.Equal(t, float64(merges), s.value(t, "opfsm_recoveries_total"))
}
