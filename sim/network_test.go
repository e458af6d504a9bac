package sim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func req(e ops.Epoch, k protocol.Kind, id ops.DispatcherID) protocol.Request {
	return protocol.Request{Epoch: e, Kind: k, Record: ops.Record{ID: id}}
}

func TestNetworkStreams(t *testing.T) {
	nw := NewNetwork()
	b1, b2, a1 := Stream{"B", 1}, Stream{"B", 2}, Stream{"A", 1}
	nw.Send(b1, req(1, protocol.Create, "d"))
	nw.Send(b1, req(1, protocol.Remove, "d"))
	nw.Send(b2, req(2, protocol.Bootstrap, ""))
	nw.Send(a1, req(1, protocol.Merge, "m"))
	require.Equal(t, []Stream{a1, b1, b2}, nw.Streams(), "sorted by node, then epoch")
	require.True(t, nw.InFlight(b1, req(1, protocol.Remove, "d")))
	require.Equal(t, 2, nw.Len(b1))
	require.Zero(t, nw.Len(Stream{"C", 1}))
	r, ok := nw.Request(b1, 1)
	require.True(t, ok)
	require.Equal(t, protocol.Remove, r.Kind)
	for _, i := range []int{-1, 2} {
		_, ok = nw.Request(b1, i)
		require.False(t, ok, "position %d", i)
	}
	var each []string
	nw.EachRequest(func(s Stream, r protocol.Request) {
		each = append(each, fmt.Sprintf("%s/%d %s %s", s.Node, s.Epoch, r.Kind, r.Record.ID))
	})
	require.Equal(t, []string{"A/1 Merge m", "B/1 Create d", "B/1 Remove d", "B/2 Bootstrap "}, each)
	require.False(t, nw.InFlight(b2, req(1, protocol.Remove, "d")))

	// Order within a stream is kept; a duplicate delivery leaves the head queued.
	r, err := nw.Deliver(b1, true)
	require.NoError(t, err)
	require.Equal(t, protocol.Create, r.Kind)
	r, err = nw.Deliver(b1, false)
	require.NoError(t, err)
	require.Equal(t, protocol.Create, r.Kind)
	r, err = nw.Deliver(b1, false)
	require.NoError(t, err)
	require.Equal(t, protocol.Remove, r.Kind)
	_, err = nw.Deliver(b1, false)
	require.ErrorIs(t, err, ErrNoMessage)
	require.Equal(t, []Stream{a1, b2}, nw.Streams(), "an emptied stream is no longer listed")

	// Bootstrap requests are never lost; other requests are, by position.
	require.ErrorIs(t, nw.Lose(b2, 0), ErrNoMessage)
	require.ErrorIs(t, nw.Lose(a1, 3), ErrNoMessage)
	require.NoError(t, nw.Lose(a1, 0))
	require.Empty(t, nw.Requests(a1))
	require.Equal(t, []Stream{b2}, nw.Streams())
	nw.Send(a1, req(1, protocol.Create, "e"))
	require.Equal(t, []Stream{a1, b2}, nw.Streams(), "a stream that fills again is listed again")

	nw.NodeGone("B")
	require.Equal(t, []Stream{a1}, nw.Streams())
}

func TestNetworkStatuses(t *testing.T) {
	nw := NewNetwork()
	w := ops.Status{ID: "d", State: ops.Working}
	s := ops.Status{ID: "d", State: ops.Stopped}
	nw.Report("B", w, 1)
	nw.Report("B", w, 1) // coalesced with the identical last report
	nw.Report("B", s, 1)
	nw.Report("B", w, 1) // not the last one: kept, order matters
	require.Equal(t, []Report{{w, 1}, {s, 1}, {w, 1}}, nw.Statuses("B"))
	got, err := nw.NextStatus("B")
	require.NoError(t, err)
	require.Equal(t, Report{w, 1}, got)
	nw.DropStatuses()
	_, err = nw.NextStatus("B")
	require.ErrorIs(t, err, ErrNoMessage)
}

// TestNetworkCloneIsIndependent: a copy of the network shares its queues' arrays, and
// neither side's sends, reports, deliveries or crashes show in the other.
func TestNetworkCloneIsIndependent(t *testing.T) {
	a1, b1 := Stream{"A", 1}, Stream{"B", 1}
	nw := NewNetwork()
	for _, id := range []ops.DispatcherID{"d1", "d2", "d3"} { // the third append leaves spare capacity
		nw.Send(a1, req(1, protocol.Create, id))
		nw.Report("A", ops.Status{ID: id, State: ops.Working}, 1)
	}
	nw.Send(b1, req(1, protocol.Remove, "e"))
	d := nw.Clone()

	nw.Send(a1, req(1, protocol.Create, "mine"))
	d.Send(a1, req(1, protocol.Create, "theirs"))
	nw.Report("A", ops.Status{ID: "mine", State: ops.Working}, 1)
	d.Report("A", ops.Status{ID: "theirs", State: ops.Working}, 1)
	require.Equal(t, ops.DispatcherID("mine"), nw.Requests(a1)[3].Record.ID)
	require.Equal(t, ops.DispatcherID("theirs"), d.Requests(a1)[3].Record.ID)
	require.Equal(t, ops.DispatcherID("mine"), nw.Statuses("A")[3].Status.ID)
	require.Equal(t, ops.DispatcherID("theirs"), d.Statuses("A")[3].Status.ID)

	_, err := d.Deliver(b1, false)
	require.NoError(t, err)
	_, err = d.NextStatus("A")
	require.NoError(t, err)
	d.NodeGone("A")
	require.Empty(t, d.Streams())
	require.Equal(t, []Stream{a1, b1}, nw.Streams())
	require.Len(t, nw.Requests(a1), 4)
	require.Len(t, nw.Statuses("A"), 4)
	nw.DropStatuses()
	require.Empty(t, nw.Statuses("A"))
}

// TestNetworkShared: a network and the copy a cluster's clone makes of it (the struct
// copied, both marked shared) share their lists of streams until one changes: each kind
// of change, made to either, leaves the other as it was, copies only the list it changes,
// and a report that changes nothing copies nothing.
func TestNetworkShared(t *testing.T) {
	b1, a1 := Stream{"B", 1}, Stream{"A", 1}
	base := func() *Network {
		nw := NewNetwork()
		nw.Send(b1, req(1, protocol.Create, "d"))
		nw.Send(b1, req(1, protocol.Remove, "d"))
		nw.Send(a1, req(1, protocol.Merge, "m"))
		nw.Report("A", ops.Status{ID: "a", State: ops.Working}, 1)
		nw.Report("B", ops.Status{ID: "b", State: ops.Stopped}, 1)
		return nw
	}
	view := func(nw *Network) string { return fmt.Sprint(nw.req, nw.stq) }
	for _, ch := range []struct {
		name     string
		do       func(nw *Network) error
		req, stq bool // the lists it changes
	}{
		{"send to a stream", func(nw *Network) error { nw.Send(b1, req(1, protocol.Merge, "x")); return nil }, true, false},
		{"send to a new stream", func(nw *Network) error { nw.Send(Stream{"C", 2}, req(2, protocol.Create, "x")); return nil }, true, false},
		{"deliver", func(nw *Network) error { _, err := nw.Deliver(b1, false); return err }, true, false},
		{"deliver the last", func(nw *Network) error { _, err := nw.Deliver(a1, false); return err }, true, false},
		{"lose", func(nw *Network) error { return nw.Lose(b1, 1) }, true, false},
		{"report", func(nw *Network) error { nw.Report("A", ops.Status{ID: "a", State: ops.Stopped}, 1); return nil }, false, true},
		{"report a new node", func(nw *Network) error { nw.Report("C", ops.Status{ID: "c", State: ops.Working}, 1); return nil }, false, true},
		{"next status", func(nw *Network) error { _, err := nw.NextStatus("A"); return err }, false, true},
		{"drop statuses", func(nw *Network) error { nw.DropStatuses(); return nil }, false, true},
		{"node gone", func(nw *Network) error { nw.NodeGone("B"); return nil }, true, true},
	} {
		for _, writeCopy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/copy=%v", ch.name, writeCopy), func(t *testing.T) {
				nw := base()
				cp := *nw
				nw.share()
				cp.share()
				first, second := nw, &cp
				if writeCopy {
					first, second = &cp, nw
				}
				was := view(second)
				req, stq := first.req, first.stq
				require.NoError(t, ch.do(first))
				require.NotEqual(t, was, view(first))
				require.Equal(t, was, view(second), "the other network")
				require.Equal(t, !ch.req, sameArray(req, first.req), "request streams copied")
				require.Equal(t, !ch.stq, sameArray(stq, first.stq), "status streams copied")
				require.Equal(t, ch.req, !first.sharedReq)
				require.Equal(t, ch.stq, !first.sharedStq)
				require.NoError(t, ch.do(second)) // and the other way round, after
				require.Equal(t, view(first), view(second))
			})
		}
	}
	nw := base()
	cp := *nw
	nw.share()
	cp.share()
	cp.Report("A", ops.Status{ID: "a", State: ops.Working}, 1) // the last one again: aggregated
	require.True(t, cp.sharedStq, "a report that adds nothing copies nothing")
	require.Zero(t, testing.AllocsPerRun(10, func() { cp.Report("A", ops.Status{ID: "a", State: ops.Working}, 1) }))
}

// sameArray reports whether a and b are the same slice (same array and length); two nil
// slices are.
func sameArray[T any](a, b []T) bool {
	if len(a) != len(b) || cap(a) != cap(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}
