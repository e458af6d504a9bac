package sim

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// ErrNoMessage: a delivery or loss names a stream position that holds no message.
var ErrNoMessage = errors.New("no such message")

// Stream names one request stream: from the maintainer of Epoch to Node
// (spec/failover/Network.tla, req[n][e]).
type Stream struct {
	Node  ops.NodeID
	Epoch ops.Epoch
}

// Report is a status on its way to the maintainer, tagged with the epoch of the maintainer
// the node obeyed when it sent it (a newer maintainer ignores it).
type Report struct {
	Status ops.Status
	Epoch  ops.Epoch
}

// Network holds the messages in flight: one ordered request stream per (maintainer epoch,
// node) and one ordered status stream per node. Reordering comes only from the independent
// streams of different epochs; loss and duplication are faults the simulator injects.
//
// The streams are short sorted slices, not maps. A queue's array is never written in
// place: Send and Report append to a clipped queue (so they reallocate), Deliver and
// NextStatus reslice and Lose copies, which lets copies of the network share the arrays.
// A cluster holds its network by value and shares the two lists of streams with its
// clones (share): the first change to a shared list copies that list only, so a
// successor in an exhaustive search that sends, delivers or reports copies one short
// slice.
type Network struct {
	req []requestQueue // the non-empty request streams, by node then epoch
	stq []statusQueue  // the non-empty status streams, by node
	// sharedReq and sharedStq mark req and stq shared with another network: copied
	// before they are next changed (writeReq, writeStq).
	sharedReq, sharedStq bool
}

// share marks both lists of streams shared, in a network and in the copy of it that
// copying the struct made.
func (nw *Network) share() { nw.sharedReq, nw.sharedStq = true, true }

// writeReq makes the list of request streams nw's own before a change.
func (nw *Network) writeReq() {
	if nw.sharedReq {
		nw.req, nw.sharedReq = slices.Clone(nw.req), false
	}
}

// writeStq makes the list of status streams nw's own before a change.
func (nw *Network) writeStq() {
	if nw.sharedStq {
		nw.stq, nw.sharedStq = slices.Clone(nw.stq), false
	}
}

// requestQueue is one non-empty request stream and its encoding in the cluster's
// fingerprint. The encoding is written with the queue (newRequestQueue), never in place,
// so the clones that share a queue share its encoding and never write it: an exhaustive
// search fingerprints every successor, and most successors leave most streams as they
// were.
type requestQueue struct {
	s  Stream
	q  []protocol.Request
	fp []byte // the number of requests, then each (fpWriter.request)
}

// newRequestQueue is stream s holding q, with its encoding.
func newRequestQueue(s Stream, q []protocol.Request) requestQueue {
	w := fpWriter{b: make([]byte, 0, 64*len(q)+1)}
	w.num(uint64(len(q)))
	for _, r := range q {
		w.request(r)
	}
	return requestQueue{s: s, q: q, fp: w.b}
}

// statusQueue is one node's non-empty status stream and its encoding in the cluster's
// fingerprint, written with it as a requestQueue's is.
type statusQueue struct {
	n  ops.NodeID
	q  []Report
	fp []byte // the number of reports, then each (fpWriter.report)
}

// newStatusQueue is node n's status stream holding q, with its encoding.
func newStatusQueue(n ops.NodeID, q []Report) statusQueue {
	w := fpWriter{b: make([]byte, 0, 24*len(q)+1)}
	w.num(uint64(len(q)))
	for _, r := range q {
		w.report(r)
	}
	return statusQueue{n: n, q: q, fp: w.b}
}

// NewNetwork returns an empty network.
func NewNetwork() *Network { return &Network{} }

// compareStreams orders streams by node, then epoch.
func compareStreams(a, b Stream) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Epoch, b.Epoch)
}

// findRequests is the index of stream s in nw.req, or where it would go.
func (nw *Network) findRequests(s Stream) (int, bool) {
	return slices.BinarySearchFunc(nw.req, s, func(q requestQueue, s Stream) int { return compareStreams(q.s, s) })
}

// findStatuses is the index of node n's status stream in nw.stq, or where it would go.
func (nw *Network) findStatuses(n ops.NodeID) (int, bool) {
	return slices.BinarySearchFunc(nw.stq, n, func(q statusQueue, n ops.NodeID) int { return cmp.Compare(q.n, n) })
}

// requests is stream s itself (nil when empty): read only.
func (nw *Network) requests(s Stream) []protocol.Request {
	if i, ok := nw.findRequests(s); ok {
		return nw.req[i].q
	}
	return nil
}

// statuses is node n's status stream itself (nil when empty): read only.
func (nw *Network) statuses(n ops.NodeID) []Report {
	if i, ok := nw.findStatuses(n); ok {
		return nw.stq[i].q
	}
	return nil
}

// Send appends r to stream s.
func (nw *Network) Send(s Stream, r protocol.Request) {
	nw.writeReq()
	i, ok := nw.findRequests(s)
	if !ok {
		nw.req = slices.Insert(nw.req, i, newRequestQueue(s, []protocol.Request{r}))
		return
	}
	nw.req[i] = newRequestQueue(s, append(slices.Clip(nw.req[i].q), r))
}

// InFlight reports whether r is queued on stream s (operators resend only when it is not).
func (nw *Network) InFlight(s Stream, r protocol.Request) bool {
	return slices.ContainsFunc(nw.requests(s), func(q protocol.Request) bool { return q.Identity() == r.Identity() })
}

// AnswerPending reports whether node n has a status queued for the maintainer of epoch e:
// the answer to a request that maintainer sent n may still be on its way, so an operator
// does not resend (spec/failover/Maintainer.tla, AnswerPending). Any status counts, as in
// the spec, which names dispatchers by span and so cannot tell an answer from a late status
// of an earlier dispatcher of the same span.
func (nw *Network) AnswerPending(n ops.NodeID, e ops.Epoch) bool {
	return slices.ContainsFunc(nw.statuses(n), func(r Report) bool { return r.Epoch == e })
}

// Requests returns a copy of stream s.
func (nw *Network) Requests(s Stream) []protocol.Request { return slices.Clone(nw.requests(s)) }

// Len is the number of requests queued on stream s.
func (nw *Network) Len(s Stream) int { return len(nw.requests(s)) }

// Request is the i-th request (from 0) queued on stream s; false when there is none.
func (nw *Network) Request(s Stream, i int) (protocol.Request, bool) {
	q := nw.requests(s)
	if i < 0 || i >= len(q) {
		return protocol.Request{}, false
	}
	return q[i], true
}

// EachRequest calls f with every queued request, by node, then epoch, then position in
// its stream: Streams and Requests without copying the queues.
func (nw *Network) EachRequest(f func(s Stream, r protocol.Request)) {
	for _, q := range nw.req {
		for _, r := range q.q {
			f(q.s, r)
		}
	}
}

// Streams lists the non-empty request streams, by node then epoch.
func (nw *Network) Streams() []Stream {
	out := make([]Stream, len(nw.req))
	for i, q := range nw.req {
		out[i] = q.s
	}
	return out
}

// Deliver takes the head of stream s (DMDeliver); with dup the head stays queued, so it
// will be delivered again (DMDeliverDup).
func (nw *Network) Deliver(s Stream, dup bool) (protocol.Request, error) {
	i, ok := nw.findRequests(s)
	if !ok {
		return protocol.Request{}, fmt.Errorf("sim: deliver on %s/%d: %w", s.Node, s.Epoch, ErrNoMessage)
	}
	q := nw.req[i].q
	if !dup {
		nw.setRequests(i, q[1:])
	}
	r := q[0]
	r.Record = r.Record.Clone() // the queue's arrays are shared with clones of the network
	return r, nil
}

// setRequests replaces the queue at index i of nw.req, dropping the stream when q is empty.
func (nw *Network) setRequests(i int, q []protocol.Request) {
	nw.writeReq()
	if len(q) == 0 {
		nw.req = slices.Delete(nw.req, i, i+1)
		return
	}
	nw.req[i] = newRequestQueue(nw.req[i].s, q)
}

// Lose drops the i-th request (from 0) of stream s (Lose). Bootstrap requests are resent by
// the maintainer until answered, so they are not lost.
func (nw *Network) Lose(s Stream, i int) error {
	k, ok := nw.findRequests(s)
	var q []protocol.Request
	if ok {
		q = nw.req[k].q
	}
	if i < 0 || i >= len(q) || q[i].Kind == protocol.Bootstrap {
		return fmt.Errorf("sim: lose %d on %s/%d: %w", i, s.Node, s.Epoch, ErrNoMessage)
	}
	nw.setRequests(k, slices.Delete(slices.Clone(q), i, i+1))
	return nil
}

// Report queues node n's status for the maintainer of epoch e. Heartbeats aggregate
// statuses, so a report equal to the last one still queued adds nothing.
func (nw *Network) Report(n ops.NodeID, st ops.Status, e ops.Epoch) {
	r := Report{Status: st, Epoch: e}
	i, ok := nw.findStatuses(n)
	if ok && nw.stq[i].q[len(nw.stq[i].q)-1] == r {
		return // nothing changes: a shared list stays shared
	}
	nw.writeStq()
	if !ok {
		nw.stq = slices.Insert(nw.stq, i, newStatusQueue(n, []Report{r}))
		return
	}
	nw.stq[i] = newStatusQueue(n, append(slices.Clip(nw.stq[i].q), r))
}

// Longest is the length of the longest stream, requests or statuses: what a bound on
// the streams (the spec's StreamBound) compares.
func (nw *Network) Longest() int {
	n := 0
	for _, q := range nw.req {
		n = max(n, len(q.q))
	}
	for _, q := range nw.stq {
		n = max(n, len(q.q))
	}
	return n
}

// Statuses returns a copy of node n's status stream.
func (nw *Network) Statuses(n ops.NodeID) []Report { return slices.Clone(nw.statuses(n)) }

// NextStatus takes the head of node n's status stream (MaintainerStatus).
func (nw *Network) NextStatus(n ops.NodeID) (Report, error) {
	i, ok := nw.findStatuses(n)
	if !ok {
		return Report{}, fmt.Errorf("sim: status from %s: %w", n, ErrNoMessage)
	}
	q := nw.stq[i].q
	nw.setStatuses(i, q[1:])
	return q[0], nil
}

// setStatuses replaces the queue at index i of nw.stq, dropping the stream when q is empty.
func (nw *Network) setStatuses(i int, q []Report) {
	nw.writeStq()
	if len(q) == 0 {
		nw.stq = slices.Delete(nw.stq, i, i+1)
		return
	}
	nw.stq[i] = newStatusQueue(nw.stq[i].n, q)
}

// DropStatuses empties every status stream: they were addressed to a maintainer that died.
func (nw *Network) DropStatuses() { nw.stq, nw.sharedStq = nil, false }

// NodeGone empties every stream to and from node n (NodeCrash).
func (nw *Network) NodeGone(n ops.NodeID) {
	nw.writeReq()
	nw.writeStq()
	nw.req = slices.DeleteFunc(nw.req, func(q requestQueue) bool { return q.s.Node == n })
	nw.stq = slices.DeleteFunc(nw.stq, func(q statusQueue) bool { return q.n == n })
}
