package eventlog

import (
	"bytes"
	"cmp"
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"
)

// Run is the merged log of one run.
type Run struct {
	Changefeed string
	Processes  []*Process
	// Events are every event of every process, in one order consistent with each
	// process's own order and with every message's send before its receive.
	Events []Event
	// Sent and Received count messages; Lost counts those sent and never received.
	Sent, Received, Lost int
}

// requestKey names a request on its stream: the node, the maintainer epoch, the number.
type requestKey struct {
	node  string
	epoch uint64
	seq   uint64
}

// statusKey names a status report or bootstrap answer: the node and its number.
type statusKey struct {
	node string
	seq  uint64
}

// ref is an event by process and position.
type ref struct{ p, i int }

// MergeOption changes how Merge orders events.
type MergeOption func(*mergeOptions)

type mergeOptions struct{ elections bool }

// ElectionOrder orders every event of the maintainer elected at one epoch before the
// Elected event of the next epoch's maintainer. That holds when a leader is replaced only
// after it died (the next is elected once the dead one's etcd lease expired), as in a
// chaos run that only kills maintainers; a leader deposed alive may log on after its
// successor was elected, and then the option orders what did not happen in that order.
func ElectionOrder() MergeOption { return func(o *mergeOptions) { o.elections = true } }

// Merge checks the logs of one run against each other and merges them.
func Merge(procs []*Process, opts ...MergeOption) (*Run, error) {
	var o mergeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if len(procs) == 0 {
		return nil, ErrNoLogs
	}
	run := &Run{Changefeed: procs[0].Changefeed, Processes: procs}
	nodeProc := map[string]int{}
	for pi, p := range procs {
		if p.Changefeed != run.Changefeed {
			return nil, lineErr(p.File, firstLine(p), ErrChangefeed, "changefeed %q, but %s is of %q", p.Changefeed, procs[0].File, run.Changefeed)
		}
		if p.Node != "" {
			if other, dup := nodeProc[p.Node]; dup {
				return nil, lineErr(p.File, firstLine(p), ErrMalformed, "node %s also started in %s", p.Node, procs[other].File)
			}
			nodeProc[p.Node] = pi
		}
	}
	requests := map[requestKey]ref{}
	statuses := map[statusKey]ref{}
	for pi, p := range procs {
		if err := indexSends(p, pi, requests, statuses); err != nil {
			return nil, err
		}
	}
	// after[x] lists the events that must come after x besides its successor in its file.
	after := map[ref][]ref{}
	indeg := map[ref]int{}
	received := map[ref]bool{}
	for pi, p := range procs {
		for i := range p.Events {
			ev := &p.Events[i]
			var send ref
			var ok bool
			switch actions[ev.Action].role {
			case roleRecvRequest:
				send, ok = requests[requestKey{p.Node, ev.Epoch, ev.Seq}]
				if !ok {
					return nil, lineErr(p.File, ev.Line, ErrUnmatched, "%s of epoch %d, seq %d on node %s: no MaintainerSend logged it", ev.Action, ev.Epoch, ev.Seq, p.Node)
				}
			case roleRecvStatus:
				send, ok = statuses[statusKey{ev.Node, ev.Seq}]
				if !ok {
					return nil, lineErr(p.File, ev.Line, ErrUnmatched, "%s from %s seq %d: that node logged no send of it", ev.Action, ev.Node, ev.Seq)
				}
			default:
				continue
			}
			if err := sameMessage(procs[send.p].Events[send.i], *ev); err != nil {
				return nil, err
			}
			r := ref{pi, i}
			if received[send] && actions[ev.Action].role == roleRecvRequest {
				return nil, lineErr(p.File, ev.Line, ErrUnmatched, "%s seq %d received twice", ev.Action, ev.Seq)
			}
			received[send] = true
			after[send] = append(after[send], r)
			indeg[r]++
			run.Received++
		}
	}
	run.Sent = len(requests) + len(statuses)
	run.Lost = run.Sent - len(received)
	if o.elections {
		orderElections(procs, after, indeg)
	}
	order, err := topo(procs, after, indeg)
	if err != nil {
		return nil, err
	}
	run.Events = order
	return run, nil
}

// orderElections adds an edge from the last event of each elected maintainer to the
// Elected event of the maintainer of the next higher epoch.
func orderElections(procs []*Process, after map[ref][]ref, indeg map[ref]int) {
	type elected struct {
		epoch uint64
		at    ref
	}
	var els []elected
	for pi, p := range procs {
		for i, ev := range p.Events {
			if ev.Action == Elected {
				els = append(els, elected{ev.Epoch, ref{pi, i}})
			}
		}
	}
	slices.SortFunc(els, func(a, b elected) int { return cmp.Compare(a.epoch, b.epoch) })
	for k := 1; k < len(els); k++ {
		prev := els[k-1].at.p
		if prev == els[k].at.p {
			continue
		}
		last := ref{prev, len(procs[prev].Events) - 1}
		after[last] = append(after[last], els[k].at)
		indeg[els[k].at]++
	}
}

// indexSends records p's sends and checks that each of p's streams counts up.
func indexSends(p *Process, pi int, requests map[requestKey]ref, statuses map[statusKey]ref) error {
	last := map[string]uint64{}
	for i, ev := range p.Events {
		spec := actions[ev.Action]
		var stream string
		switch spec.role {
		case roleSendRequest:
			var sent bool
			if err := json.Unmarshal(ev.Fields["sent"], &sent); err != nil {
				return lineErr(p.File, ev.Line, ErrMalformed, "%s needs \"sent\"", ev.Action)
			}
			if !sent {
				continue // refused by the transport: never on the wire
			}
			stream = fmt.Sprintf("requests to %s", ev.Node)
			requests[requestKey{ev.Node, ev.Epoch, ev.Seq}] = ref{pi, i}
		case roleRecvRequest:
			stream = fmt.Sprintf("requests of epoch %d", ev.Epoch)
		case roleSendStatus:
			var sessions int
			if err := json.Unmarshal(ev.Fields["sessions"], &sessions); err != nil {
				return lineErr(p.File, ev.Line, ErrMalformed, "%s needs \"sessions\"", ev.Action)
			}
			if sessions == 0 {
				continue // no maintainer session of its epoch: never on the wire
			}
			stream = "statuses"
			statuses[statusKey{p.Node, ev.Seq}] = ref{pi, i}
		case roleRecvStatus:
			stream = "statuses from " + ev.Node
		default:
			continue
		}
		if ev.Seq <= last[stream] {
			return lineErr(p.File, ev.Line, ErrOrder, "%s seq %d after seq %d on %s", ev.Action, ev.Seq, last[stream], stream)
		}
		last[stream] = ev.Seq
	}
	return nil
}

// sameMessage checks that a receive logged what its send logged.
func sameMessage(send, recv Event) error {
	keys := []string{"kind", "id", "reqEpoch"}
	if send.Action == DMSend || send.Action == DMAnswer {
		want := map[string]string{DMSend: MaintainerStatus, DMAnswer: MaintainerAnswer}[send.Action]
		if recv.Action != want {
			return lineErr(recv.File, recv.Line, ErrUnmatched, "%s of what %s:%d sent as %s", recv.Action, send.File, send.Line, send.Action)
		}
		keys = []string{"epoch", "statuses"}
	}
	for _, k := range keys {
		if !bytes.Equal(send.Fields[k], recv.Fields[k]) {
			return lineErr(recv.File, recv.Line, ErrUnmatched, "%s %s is %s, but %s:%d sent %s", recv.Action, k, recv.Fields[k], send.File, send.Line, send.Fields[k])
		}
	}
	return nil
}

// topo merges the processes' events: Kahn's algorithm, the ready event with the earliest
// timestamp first (only for readability; any choice is a valid order).
func topo(procs []*Process, after map[ref][]ref, indeg map[ref]int) ([]Event, error) {
	total := 0
	h := &readyHeap{procs: procs}
	next := make([]int, len(procs)) // the next event of each process not yet in the order
	for pi, p := range procs {
		total += len(p.Events)
		if len(p.Events) > 0 && indeg[ref{pi, 0}] == 0 {
			heap.Push(h, ref{pi, 0})
		}
	}
	out := make([]Event, 0, total)
	release := func(r ref) {
		if indeg[r]--; indeg[r] == 0 && next[r.p] == r.i {
			heap.Push(h, r)
		}
	}
	for h.Len() > 0 {
		r := heap.Pop(h).(ref)
		out = append(out, procs[r.p].Events[r.i])
		next[r.p] = r.i + 1
		// The successor first: if it is a receive of r itself (a process that sent to
		// itself), it waits for release below, which pushes it once.
		if n := r.i + 1; n < len(procs[r.p].Events) && indeg[ref{r.p, n}] == 0 {
			heap.Push(h, ref{r.p, n})
		}
		for _, x := range after[r] {
			release(x)
		}
	}
	if len(out) < total {
		for pi, p := range procs {
			if next[pi] < len(p.Events) {
				ev := p.Events[next[pi]]
				return nil, lineErr(p.File, ev.Line, ErrCycle, "%s waits for a send that waits for it (%d of %d events ordered)", ev.Action, len(out), total)
			}
		}
	}
	return out, nil
}

type readyHeap struct {
	procs []*Process
	refs  []ref
}

func (h *readyHeap) Len() int { return len(h.refs) }
func (h *readyHeap) Less(i, j int) bool {
	a, b := h.procs[h.refs[i].p].Events[h.refs[i].i], h.procs[h.refs[j].p].Events[h.refs[j].i]
	if !a.TS.Equal(b.TS) {
		return a.TS.Before(b.TS)
	}
	return h.refs[i].p < h.refs[j].p
}
func (h *readyHeap) Swap(i, j int) { h.refs[i], h.refs[j] = h.refs[j], h.refs[i] }
func (h *readyHeap) Push(x any)    { h.refs = append(h.refs, x.(ref)) }
func (h *readyHeap) Pop() any {
	x := h.refs[len(h.refs)-1]
	h.refs = h.refs[:len(h.refs)-1]
	return x
}

// firstLine is the line of p's first event, 0 for a process without events.
func firstLine(p *Process) int {
	if len(p.Events) == 0 {
		return 0
	}
	return p.Events[0].Line
}
