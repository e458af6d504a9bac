package transport

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The largest message either end sends is MaxFrameSize-headroom bytes, so that its frame
// (the message and a header of at most headroom bytes) fits in MaxFrameSize: a message of
// that size is sent, one byte more is dropped and counted, on both ends.

// sized returns a message of exactly n encoded bytes made by grow from a string of some
// length: the string's length prefix takes 4 bytes for every n from 2 MiB to 256 MiB, so
// the size grows with the string byte for byte there.
func sized[M interface{ AppendBinary([]byte) ([]byte, error) }](t *testing.T, pad string, n int, grow func(string) M) M {
	t.Helper()
	const probe = 4 << 20
	b, err := encodeBody(0, grow(pad[:probe]))
	require.NoError(t, err)
	m := grow(pad[:n-(b.size()-probe)])
	b, err = encodeBody(0, m)
	require.NoError(t, err)
	require.Equal(t, n, b.size())
	return m
}

func TestLargestMessage(t *testing.T) {
	const limit = MaxFrameSize - headroom
	pad := strings.Repeat("x", limit)
	bigRequest := func(id string) protocol.Request {
		r := createRequest(1, 0)
		r.Record.ID = ops.DispatcherID(id)
		return r
	}
	bigReport := func(node string) protocol.StatusReport { return report(ops.NodeID(node), 1, 1) }
	for _, tc := range []struct {
		name    string
		size    int
		dropped uint64
	}{
		{"the largest that fits", limit, 0},
		{"one byte more", limit + 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("client", func(t *testing.T) {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				addr := l.Addr().String()
				require.NoError(t, l.Close()) // nothing listens: the frame stays queued
				c := newClient(t, 1, "m", &maintRec{})
				c.SetNode("A", addr)
				req := sized(t, pad+"x", tc.size, bigRequest)
				seq, ok := c.Send("A", req)
				require.Equal(t, tc.dropped == 0, ok)
				require.Equal(t, uint64(1-tc.dropped), seq, "a refused message takes no seq")
				require.Equal(t, Stats{Dropped: tc.dropped}, c.Stats())
			})
			t.Run("server", func(t *testing.T) {
				srv := NewServer(testCF, &nodeRec{}, nil)
				t.Cleanup(srv.Stop)
				r := sized(t, pad+"x", tc.size, bigReport)
				seq, n := srv.SendReport(1, r) // no session of epoch 1: queued nowhere
				require.Zero(t, seq)
				require.Zero(t, n)
				require.Equal(t, Stats{Dropped: tc.dropped}, srv.Stats())
			})
		})
	}
}
