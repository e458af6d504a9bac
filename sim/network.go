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
type Network struct {
	req map[Stream][]protocol.Request
	stq map[ops.NodeID][]Report
	// streams caches the sorted non-empty request streams while listed is set: a stream
	// that becomes empty or non-empty clears it. Clones share the slice, which is never
	// written in place.
	streams []Stream
	listed  bool
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{req: map[Stream][]protocol.Request{}, stq: map[ops.NodeID][]Report{}}
}

// Send appends r to stream s.
func (nw *Network) Send(s Stream, r protocol.Request) {
	if len(nw.req[s]) == 0 {
		nw.listed = false
	}
	nw.req[s] = append(nw.req[s], r)
}

// InFlight reports whether r is queued on stream s (operators resend only when it is not).
func (nw *Network) InFlight(s Stream, r protocol.Request) bool {
	return slices.ContainsFunc(nw.req[s], func(q protocol.Request) bool { return q.Identity() == r.Identity() })
}

// AnswerPending reports whether node n has a status queued for the maintainer of epoch e:
// the answer to a request that maintainer sent n may still be on its way, so an operator
// does not resend (spec/failover/Maintainer.tla, AnswerPending). Any status counts, as in
// the spec, which names dispatchers by span and so cannot tell an answer from a late status
// of an earlier dispatcher of the same span.
func (nw *Network) AnswerPending(n ops.NodeID, e ops.Epoch) bool {
	return slices.ContainsFunc(nw.stq[n], func(r Report) bool { return r.Epoch == e })
}

// Requests returns a copy of stream s.
func (nw *Network) Requests(s Stream) []protocol.Request { return slices.Clone(nw.req[s]) }

// Streams lists the non-empty request streams, by node then epoch. It caches the list, so
// it must not run concurrently with other uses of nw.
func (nw *Network) Streams() []Stream { return slices.Clone(nw.sortedStreams()) }

// sortedStreams is Streams' list itself, from the cache: read only.
func (nw *Network) sortedStreams() []Stream {
	if nw.listed {
		return nw.streams
	}
	var out []Stream
	for s, q := range nw.req {
		if len(q) > 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Stream) int {
		if c := cmp.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		return cmp.Compare(a.Epoch, b.Epoch)
	})
	nw.streams, nw.listed = out, true
	return out
}

// Deliver takes the head of stream s (DMDeliver); with dup the head stays queued, so it
// will be delivered again (DMDeliverDup).
func (nw *Network) Deliver(s Stream, dup bool) (protocol.Request, error) {
	q := nw.req[s]
	if len(q) == 0 {
		return protocol.Request{}, fmt.Errorf("sim: deliver on %s/%d: %w", s.Node, s.Epoch, ErrNoMessage)
	}
	if !dup {
		nw.req[s] = q[1:]
		nw.listed = nw.listed && len(q) > 1
	}
	r := q[0]
	r.Record = r.Record.Clone() // the queue's arrays are shared with clones of the network
	return r, nil
}

// Lose drops the i-th request (from 0) of stream s (Lose). Bootstrap requests are resent by
// the maintainer until answered, so they are not lost.
func (nw *Network) Lose(s Stream, i int) error {
	q := nw.req[s]
	if i < 0 || i >= len(q) || q[i].Kind == protocol.Bootstrap {
		return fmt.Errorf("sim: lose %d on %s/%d: %w", i, s.Node, s.Epoch, ErrNoMessage)
	}
	nw.req[s] = slices.Delete(slices.Clone(q), i, i+1)
	nw.listed = nw.listed && len(q) > 1
	return nil
}

// Report queues node n's status for the maintainer of epoch e. Heartbeats aggregate
// statuses, so a report equal to the last one still queued adds nothing.
func (nw *Network) Report(n ops.NodeID, st ops.Status, e ops.Epoch) {
	r := Report{Status: st, Epoch: e}
	q := nw.stq[n]
	if len(q) > 0 && q[len(q)-1] == r {
		return
	}
	nw.stq[n] = append(q, r)
}

// Longest is the length of the longest stream, requests or statuses: what a bound on
// the streams (the spec's StreamBound) compares.
func (nw *Network) Longest() int {
	n := 0
	for _, q := range nw.req {
		n = max(n, len(q))
	}
	for _, q := range nw.stq {
		n = max(n, len(q))
	}
	return n
}

// Statuses returns a copy of node n's status stream.
func (nw *Network) Statuses(n ops.NodeID) []Report { return slices.Clone(nw.stq[n]) }

// NextStatus takes the head of node n's status stream (MaintainerStatus).
func (nw *Network) NextStatus(n ops.NodeID) (Report, error) {
	q := nw.stq[n]
	if len(q) == 0 {
		return Report{}, fmt.Errorf("sim: status from %s: %w", n, ErrNoMessage)
	}
	nw.stq[n] = q[1:]
	return q[0], nil
}

// DropStatuses empties every status stream: they were addressed to a maintainer that died.
func (nw *Network) DropStatuses() { clear(nw.stq) }

// NodeGone empties every stream to and from node n (NodeCrash).
func (nw *Network) NodeGone(n ops.NodeID) {
	nw.listed = false
	for s := range nw.req {
		if s.Node == n {
			delete(nw.req, s)
		}
	}
	delete(nw.stq, n)
}
