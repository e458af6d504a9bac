package sim

import (
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
