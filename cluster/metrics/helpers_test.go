package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
)

const cf = ops.ChangefeedID("cf")

// scrape is one GET /metrics, parsed.
type scrape map[string]*dto.MetricFamily

// serve starts an HTTP server for h at /metrics, closed with the test.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// get scrapes url over HTTP and parses the text exposition format.
func get(t *testing.T, url string) scrape {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// labels turns "k=v" pairs into a map.
func labels(t *testing.T, pairs []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		require.True(t, ok, "label %q", p)
		out[k] = v
	}
	return out
}

// metric returns the sample of family name whose labels are exactly pairs ("k=v").
func (s scrape) metric(t *testing.T, name string, pairs ...string) *dto.Metric {
	t.Helper()
	fam, ok := s[name]
	require.True(t, ok, "no family %s", name)
	want := labels(t, pairs)
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) == len(want) {
			match := true
			for k, v := range want {
				if got[k] != v {
					match = false
				}
			}
			if match {
				return m
			}
		}
	}
	require.Failf(t, "no sample", "%s%v", name, pairs)
	return nil
}

// value is the sample's value, whatever its type (a histogram's: its count).
func (s scrape) value(t *testing.T, name string, pairs ...string) float64 {
	t.Helper()
	m := s.metric(t, name, pairs...)
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	require.Fail(t, "unknown sample type", name)
	return 0
}

// nonZero lists family name's samples with a non-zero value as "l1=v1,l2=v2" -> value,
// label names sorted.
func (s scrape) nonZero(t *testing.T, name string) map[string]float64 {
	t.Helper()
	fam, ok := s[name]
	require.True(t, ok, "no family %s", name)
	out := map[string]float64{}
	for _, m := range fam.GetMetric() {
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if v == 0 {
			continue
		}
		var parts []string
		for _, lp := range m.GetLabel() {
			parts = append(parts, lp.GetName()+"="+lp.GetValue())
		}
		sort.Strings(parts)
		out[strings.Join(parts, ",")] = v
	}
	return out
}

// world is a maintainer and its node cores in one process, with a host loop that does
// what a real host does: requests into the nodes, effects applied to make-believe
// dispatchers (a created or merged dispatcher works one round later, a prepared merge is
// ready at once, a closed one is closed at once), statuses and answers back.
type world struct {
	t        *testing.T
	m        *maintainer.Maintainer
	nodes    map[ops.NodeID]*node.Node
	names    []ops.NodeID
	starting map[ops.NodeID][]ops.DispatcherID
	after    func() // what the host does after each round (Update)
}

func newWorld(t *testing.T, owner ops.Epoch, names ...ops.NodeID) *world {
	t.Helper()
	w := &world{t: t, nodes: map[ops.NodeID]*node.Node{}, names: names, starting: map[ops.NodeID][]ops.DispatcherID{}}
	for _, n := range names {
		core, err := node.New(node.Config{Node: n, Changefeed: cf, Owner: owner})
		require.NoError(t, err)
		w.nodes[n] = core
	}
	return w
}

// round delivers the maintainer's requests, runs every node's checks and host events,
// returns their statuses and answers, and ticks the maintainer.
func (w *world) round() {
	t := w.t
	for _, msg := range w.m.Ready() {
		if err := w.nodes[msg.To].Step(msg.Request); err != nil {
			t.Logf("refused: %v", err)
		}
	}
	w.m.Advance()
	for _, name := range w.names {
		n := w.nodes[name]
		for _, id := range w.starting[name] {
			_ = n.Working(id)
		}
		w.starting[name] = nil
		n.Tick()
		for n.HasReady() {
			rd := n.Ready()
			var closed []ops.DispatcherID
			var prepared []ops.DispatcherID
			for _, e := range rd.Effects {
				switch e.Kind {
				case node.EffectCreate:
					w.starting[name] = append(w.starting[name], e.ID)
				case node.EffectClose:
					closed = append(closed, e.ID)
				case node.EffectPrepareMerge:
					prepared = append(prepared, e.ID)
				case node.EffectCommitMerge:
					closed = append(closed, e.Sources...)
					w.starting[name] = append(w.starting[name], e.ID)
				case node.EffectAbortMerge:
					closed = append(closed, e.ID)
				}
			}
			for _, a := range rd.Answers {
				require.NoError(t, w.m.StepAnswer(a))
			}
			for _, r := range rd.Reports {
				require.NoError(t, w.m.StepStatus(r))
			}
			n.Advance()
			for _, id := range prepared {
				require.NoError(t, n.Prepared(id))
			}
			for _, id := range closed {
				require.NoError(t, n.Closed(id, 0))
			}
		}
	}
	w.m.Tick()
	if w.after != nil {
		w.after()
	}
}

// settle runs rounds until the maintainer has no operator left (at most limit rounds).
func (w *world) settle(limit int) {
	w.t.Helper()
	for range limit {
		w.round()
		if c := w.m.Controller(); c != nil {
			if _, n := c.Len(); n == 0 && !w.m.HasReady() {
				return
			}
		}
	}
	require.FailNow(w.t, "operators did not finish", "%v", w.m.Controller().Operators())
}
