package metrics

import (
	"errors"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// numComponent is the number of dispatcher component states (Initializing ... Removed).
const numComponent = int(ops.Removed) + 1

// Closing is the state label of dispatchers the node is closing (protocol.Dispatcher's
// Removing: a Remove accepted, or a committed merge's source), whatever their own state.
const Closing = "closing"

// The reason label values of opfsm_node_requests_refused_total.
const (
	// ReasonFenced: a request of a maintainer the node does not obey (node.ErrFenced).
	ReasonFenced = "fenced"
	// ReasonOverlap: a Create over a dispatcher that is not closing (node.ErrOverlap).
	ReasonOverlap = "overlap"
	// ReasonBadMerge: a Merge whose sources do not tile its span (node.ErrBadMerge).
	ReasonBadMerge = "bad_merge"
	// ReasonOther: any other refusal (another changefeed, an invalid request).
	ReasonOther = "other"
)

// Node exports the metrics of a process that runs a node.Node. Build it with NewNode, call
// Update under the host's lock after each Ready/Advance (or on a tick), Refused with what
// Step returned, StatusesSent and StatusesDropped from the transport, and serve Handler at
// /metrics. It is also a prometheus.Collector, for a host that gathers several exporters
// in a registry of its own. The zero value is not usable.
type Node struct {
	reg *prometheus.Registry

	dispatchersDesc, removesDesc, mergesDesc, ownerDesc *prometheus.Desc

	refused                          *prometheus.CounterVec
	fenced, overlap, badMerge, other prometheus.Counter
	statuses                         *prometheus.CounterVec
	sent, dropped                    prometheus.Counter

	stateNames      [numComponent + 1]string  // the last is Closing
	countDispatcher func(protocol.Dispatcher) // built once, so that Update does not allocate it

	mu              sync.Mutex            // guards what follows
	dispatchers     [numComponent + 1]int // by state; the last counts closing ones
	removes, merges int
	owner           ops.Epoch
}

// NewNode returns a node exporter, registered in a registry of its own with the Go and
// process collectors.
func NewNode() *Node {
	x := &Node{
		dispatchersDesc: desc("node_dispatchers",
			"Dispatchers of the node at the host's last Update, by component state; \"closing\" counts those the node is closing, whatever their state.",
			"state"),
		removesDesc: desc("node_remove_journal_entries",
			"Entries of the node's remove journal (accepted Removes whose dispatcher still exists) at the host's last Update."),
		mergesDesc: desc("node_merge_journal_entries",
			"Entries of the node's merge journal (accepted merges not yet cleaned up) at the host's last Update."),
		ownerDesc: desc("node_owner_epoch",
			"The maintainer epoch the node obeys at the host's last Update (0 before any bootstrap)."),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "node_requests_refused_total",
			Help: "Maintainer requests the node refused, by reason: fenced (another maintainer epoch), " +
				"overlap (a Create over a live dispatcher), bad_merge (sources that do not tile the merge) or other."},
			[]string{"reason"}),
		statuses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "node_statuses_total",
			Help: "Dispatcher statuses the node's transport handled, by outcome: sent to the maintainer, or dropped."},
			[]string{"outcome"}),
	}
	x.fenced = x.refused.WithLabelValues(ReasonFenced)
	x.overlap = x.refused.WithLabelValues(ReasonOverlap)
	x.badMerge = x.refused.WithLabelValues(ReasonBadMerge)
	x.other = x.refused.WithLabelValues(ReasonOther)
	x.sent = x.statuses.WithLabelValues("sent")
	x.dropped = x.statuses.WithLabelValues("dropped")
	for s := range numComponent {
		x.stateNames[s] = ops.ComponentState(s).String()
	}
	x.stateNames[numComponent] = Closing
	x.countDispatcher = func(d protocol.Dispatcher) {
		switch {
		case d.Removing:
			x.dispatchers[numComponent]++
		case int(d.State) < numComponent:
			x.dispatchers[d.State]++
		}
	}
	x.reg = newRegistry(x)
	return x
}

// Update takes a snapshot of n: its dispatchers by state, its journal lengths and the
// epoch it obeys. Call it where n is driven (it reads n, which is not safe for concurrent
// use), after each Ready/Advance or on a tick. It costs O(dispatchers), allocates nothing
// and keeps no reference to n. Update(nil) zeroes the gauges: the process hosts no node
// core now.
func (x *Node) Update(n *node.Node) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dispatchers = [numComponent + 1]int{}
	x.removes, x.merges, x.owner = 0, 0, 0
	if n == nil {
		return
	}
	n.EachDispatcher(x.countDispatcher)
	_, x.removes, x.merges = n.Len()
	x.owner = n.Owner()
}

// Refused counts a request the node refused: the host passes what Step returned. A nil
// error counts nothing; the reason is found with errors.Is (node.ErrFenced, ErrOverlap,
// ErrBadMerge), anything else is ReasonOther. It is safe for concurrent use.
func (x *Node) Refused(err error) {
	if err == nil {
		return
	}
	x.refusedCounter(err).Inc()
}

func (x *Node) refusedCounter(err error) prometheus.Counter {
	switch {
	case errors.Is(err, node.ErrFenced):
		return x.fenced
	case errors.Is(err, node.ErrOverlap):
		return x.overlap
	case errors.Is(err, node.ErrBadMerge):
		return x.badMerge
	}
	return x.other
}

// StatusesSent counts n statuses the transport delivered to the maintainer (the host
// passes len(report.Statuses) for each report it sent). It is safe for concurrent use.
func (x *Node) StatusesSent(n int) {
	if n > 0 {
		x.sent.Add(float64(n))
	}
}

// StatusesDropped counts n statuses the transport gave up on (the maintainer was
// unreachable, a queue was full). It is safe for concurrent use.
func (x *Node) StatusesDropped(n int) {
	if n > 0 {
		x.dropped.Add(float64(n))
	}
}

// Registry is the exporter's own registry (never prometheus.DefaultRegisterer): the
// exporter, the Go and process collectors, and whatever the host registers in it.
func (x *Node) Registry() *prometheus.Registry { return x.reg }

// Handler serves Registry in the Prometheus exposition formats, for /metrics.
func (x *Node) Handler() http.Handler { return handler(x.reg) }

// Describe implements prometheus.Collector.
func (x *Node) Describe(ch chan<- *prometheus.Desc) {
	ch <- x.dispatchersDesc
	ch <- x.removesDesc
	ch <- x.mergesDesc
	ch <- x.ownerDesc
	x.refused.Describe(ch)
	x.statuses.Describe(ch)
}

// Collect implements prometheus.Collector: the gauges of the last Update and the
// counters.
func (x *Node) Collect(ch chan<- prometheus.Metric) {
	x.refused.Collect(ch)
	x.statuses.Collect(ch)
	x.mu.Lock()
	gauges := make([]prometheus.Metric, 0, len(x.dispatchers)+3)
	for s, n := range x.dispatchers {
		gauges = append(gauges, prometheus.MustNewConstMetric(x.dispatchersDesc, prometheus.GaugeValue, float64(n), x.stateNames[s]))
	}
	gauges = append(gauges,
		prometheus.MustNewConstMetric(x.removesDesc, prometheus.GaugeValue, float64(x.removes)),
		prometheus.MustNewConstMetric(x.mergesDesc, prometheus.GaugeValue, float64(x.merges)),
		prometheus.MustNewConstMetric(x.ownerDesc, prometheus.GaugeValue, float64(x.owner)))
	x.mu.Unlock()
	for _, g := range gauges {
		ch <- g
	}
}
