package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/maintainer"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

// numSched is the number of task scheduling states (Absent, Scheduling, Replicating).
const numSched = int(ops.Replicating) + 1

// recoveryBuckets are the bounds, in seconds, of opfsm_recovery_duration_seconds: from a
// millisecond (a few spans) to a minute (millions of spans on a slow machine).
var recoveryBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Maintainer exports the metrics of a process that runs a maintainer.Maintainer. Build it
// with NewMaintainer, put Observer in maintainer.Config.Observer, call Update under the
// host's lock after each Ready/Advance (or on a tick), Recovered after a recovery, and
// serve Handler at /metrics. It is also a prometheus.Collector, for a host that gathers
// several exporters in a registry of its own. The zero value is not usable.
type Maintainer struct {
	reg *prometheus.Registry

	// transitions counts operator transitions with atomics; edges are what Collect reads.
	transitions *fsm.Counter
	edges       []edge

	transitionsDesc, operatorsDesc, tasksDesc, bootingDesc, epochDesc *prometheus.Desc

	recoveries prometheus.Counter
	duration   prometheus.Histogram
	decisions  *prometheus.CounterVec
	rejected   prometheus.Counter

	statuses                      *prometheus.CounterVec
	applied, fenced, dropped      prometheus.Counter
	queued, resent, held, refused prometheus.Counter
	counters                      []prometheus.Collector // the real collectors, for Describe and Collect

	kindNames  []string
	stateNames [][]string // by operator type and state; "" for a terminal state
	schedNames [numSched]string
	countTask  func(ops.Task) // built once, so that Update does not allocate it

	mu        sync.Mutex // guards what follows
	ops       [][]int    // operators by type and state
	tasks     [numSched]int
	booting   bool
	epoch     ops.Epoch
	last      maintainer.Metrics // the driver's counters at the last Update
	lastEpoch ops.Epoch
	seen      bool // last and lastEpoch are set
}

// edge is one permitted transition of an operator machine and its label values.
type edge struct {
	def     *fsm.Definition
	from    fsm.State
	trigger fsm.Trigger
	labels  []string // machine, from, to, trigger
}

// NewMaintainer returns a maintainer exporter, registered in a registry of its own with the
// Go and process collectors.
func NewMaintainer() *Maintainer {
	defs := ops.Definitions()
	x := &Maintainer{
		transitions: fsm.NewCounter(defs...),
		transitionsDesc: desc("fsm_transitions_total",
			"Operator state machine transitions, by machine (operator kind), source state, destination state and trigger.",
			"machine", "from", "to", "trigger"),
		operatorsDesc: desc("operators",
			"Operators in flight at the host's last Update, by kind and machine state.", "kind", "state"),
		tasksDesc: desc("tasks",
			"Tasks (spans the maintainer schedules) at the host's last Update, by scheduling state.", "state"),
		bootingDesc: desc("maintainer_booting",
			"1 while the maintainer waits for bootstrap answers or recovery, else 0 (at the host's last Update)."),
		epochDesc: desc("maintainer_epoch",
			"The maintainer's epoch at the host's last Update (0 when the process maintains nothing)."),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "recoveries_total",
			Help: "Recoveries of in-flight operators from bootstrap answers that the host reported."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "recovery_duration_seconds",
			Help: "How long each recovery took, as the host measured it.", Buckets: recoveryBuckets}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "recovery_decisions_total",
			Help: "Decisions recoveries made, by recovery rule (docs/recovery.md)."}, []string{"rule"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "recovery_rejections_total",
			Help: "Parts of bootstrap snapshots (answers, dispatchers, journal entries) recoveries did not use."}),
		statuses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "maintainer_statuses_total",
			Help: "Dispatcher statuses the maintainer received, by outcome: applied (fed to the operators), " +
				"fenced (sent to another maintainer epoch) or dropped (from a node that is not live)."}, []string{"outcome"}),
		queued: counter("maintainer_requests_queued_total", "Requests the maintainer handed the host to send, resends included."),
		resent: counter("maintainer_requests_resent_total", "Requests the maintainer handed the host again because they waited too long (a subset of queued)."),
		held: counter("maintainer_requests_held_total",
			"Requests the maintainer held back because a dispatcher recovery removed may still serve their keys."),
		refused: counter("maintainer_schedule_refused_total", "Scheduling calls (add, move, split, merge, remove) the maintainer refused."),
	}
	x.applied = x.statuses.WithLabelValues("applied")
	x.fenced = x.statuses.WithLabelValues("fenced")
	x.dropped = x.statuses.WithLabelValues("dropped")
	x.counters = []prometheus.Collector{x.recoveries, x.duration, x.decisions, x.rejected, x.statuses, x.queued, x.resent, x.held, x.refused}

	x.ops = make([][]int, len(defs))
	x.stateNames = make([][]string, len(defs))
	for i, d := range defs {
		x.kindNames = append(x.kindNames, ops.Type(i).String())
		names := d.States()
		x.ops[i] = make([]int, len(names))
		x.stateNames[i] = make([]string, len(names))
		for s, name := range names {
			if !d.IsTerminal(fsm.State(s)) { // a terminal operator is deleted at once
				x.stateNames[i][s] = name
			}
		}
		for _, e := range d.Edges() {
			x.edges = append(x.edges, edge{def: d, from: e.From, trigger: e.Trigger,
				labels: []string{d.Name(), d.StateName(e.From), d.StateName(e.To), d.TriggerName(e.Trigger)}})
		}
	}
	for s := range x.schedNames {
		x.schedNames[s] = ops.Sched(s).String()
	}
	x.countTask = func(t ops.Task) {
		if int(t.Sched) < numSched {
			x.tasks[t.Sched]++
		}
	}
	x.reg = newRegistry(x)
	return x
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
}

// Observer is what the host puts in maintainer.Config.Observer (alone, or in fsm.Observers
// with others): it counts every operator transition with one atomic add and no allocation.
// It serves every maintainer the process runs, one after another or at once.
func (x *Maintainer) Observer() fsm.Observer { return x.transitions }

// Update takes a snapshot of m: its operators by kind and state, its tasks by scheduling
// state, whether it boots, its epoch, and its counters, which the exporter's counters
// follow. Call it where m is driven (it reads m, which is not safe for concurrent use),
// after each Ready/Advance or on a tick. It costs O(tasks + operators log operators) and
// keeps no reference to m.
//
// The exported counters grow by what m's grew since the last Update, or by all of m's
// when m is a new driver (another epoch than the last Update's, or a counter lower than
// it saw), so they keep growing across failovers. Update(nil) zeroes the gauges: the
// process maintains nothing now.
func (x *Maintainer) Update(m *maintainer.Maintainer) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, states := range x.ops {
		clear(states)
	}
	x.tasks = [numSched]int{}
	x.booting, x.epoch = false, 0
	if m == nil {
		return
	}
	x.booting, x.epoch = m.Booting(), m.Epoch()
	x.follow(m.Epoch(), m.Metrics())
	c := m.Controller()
	if c == nil {
		return
	}
	c.EachTask(x.countTask)
	if _, n := c.Len(); n > 0 {
		for _, r := range c.Operators() {
			if int(r.Type) < len(x.ops) && int(r.State) < len(x.ops[r.Type]) {
				x.ops[r.Type][r.State]++
			}
		}
	}
}

// follow adds to the exported counters what the driver's grew since the last Update.
func (x *Maintainer) follow(e ops.Epoch, cur maintainer.Metrics) {
	base := x.last
	if !x.seen || e != x.lastEpoch || behind(cur, base) {
		base = maintainer.Metrics{}
	}
	grow(x.applied, cur.StatusesApplied, base.StatusesApplied)
	grow(x.fenced, cur.StatusesFenced, base.StatusesFenced)
	grow(x.dropped, cur.StatusesDropped, base.StatusesDropped)
	grow(x.queued, cur.RequestsQueued, base.RequestsQueued)
	grow(x.resent, cur.Resends, base.Resends)
	grow(x.held, cur.RequestsHeld, base.RequestsHeld)
	grow(x.refused, cur.Refused, base.Refused)
	x.last, x.lastEpoch, x.seen = cur, e, true
}

// behind reports whether any counter of cur is lower than base's: another driver.
func behind(cur, base maintainer.Metrics) bool {
	return cur.RequestsQueued < base.RequestsQueued || cur.Resends < base.Resends ||
		cur.StatusesApplied < base.StatusesApplied || cur.StatusesFenced < base.StatusesFenced ||
		cur.StatusesDropped < base.StatusesDropped || cur.Recoveries < base.Recoveries ||
		cur.Refused < base.Refused || cur.RequestsHeld < base.RequestsHeld
}

func grow(c prometheus.Counter, cur, base uint64) {
	if cur > base {
		c.Add(float64(cur - base))
	}
}

// Recovered records one recovery that took d (as the host measured it, around Recover or
// the Tick that recovered, or FromSnapshot) with its result r, normally m.Recovery():
// the recovery counter and duration, r's decisions by rule and its rejections. It reads r
// and keeps nothing of it. It is safe for concurrent use.
func (x *Maintainer) Recovered(d time.Duration, r recovery.Result) {
	x.recoveries.Inc()
	x.duration.Observe(max(d, 0).Seconds())
	x.rejected.Add(float64(len(r.Rejected)))
	n := r.Decisions.Len()
	if n == 0 {
		return
	}
	// Rules are few and a recovery's decisions come in runs of one rule: count runs.
	counts := make(map[string]int)
	rule, run := r.Decisions.At(0).Rule, 0
	for i := range n {
		if next := r.Decisions.At(i).Rule; next != rule {
			counts[rule] += run
			rule, run = next, 0
		}
		run++
	}
	counts[rule] += run
	for rule, c := range counts {
		x.decisions.WithLabelValues(rule).Add(float64(c))
	}
}

// Registry is the exporter's own registry (never prometheus.DefaultRegisterer): the
// exporter, the Go and process collectors, and whatever the host registers in it.
func (x *Maintainer) Registry() *prometheus.Registry { return x.reg }

// Handler serves Registry in the Prometheus exposition formats, for /metrics.
func (x *Maintainer) Handler() http.Handler { return handler(x.reg) }

// Describe implements prometheus.Collector.
func (x *Maintainer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{x.transitionsDesc, x.operatorsDesc, x.tasksDesc, x.bootingDesc, x.epochDesc} {
		ch <- d
	}
	for _, c := range x.counters {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector: the transitions counted so far, the gauges of
// the last Update and the counters.
func (x *Maintainer) Collect(ch chan<- prometheus.Metric) {
	for _, e := range x.edges {
		ch <- prometheus.MustNewConstMetric(x.transitionsDesc, prometheus.CounterValue,
			float64(x.transitions.Count(e.def, e.from, e.trigger)), e.labels...)
	}
	for _, c := range x.counters {
		c.Collect(ch)
	}
	// Build the gauges under the lock, send them after it: a slow scrape must not hold
	// up the host's Update.
	x.mu.Lock()
	gauges := make([]prometheus.Metric, 0, 16)
	for t, states := range x.ops {
		for s, n := range states {
			if name := x.stateNames[t][s]; name != "" {
				gauges = append(gauges, prometheus.MustNewConstMetric(x.operatorsDesc, prometheus.GaugeValue, float64(n), x.kindNames[t], name))
			}
		}
	}
	for s, n := range x.tasks {
		gauges = append(gauges, prometheus.MustNewConstMetric(x.tasksDesc, prometheus.GaugeValue, float64(n), x.schedNames[s]))
	}
	gauges = append(gauges,
		prometheus.MustNewConstMetric(x.bootingDesc, prometheus.GaugeValue, b2f(x.booting)),
		prometheus.MustNewConstMetric(x.epochDesc, prometheus.GaugeValue, float64(x.epoch)))
	x.mu.Unlock()
	for _, g := range gauges {
		ch <- g
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
