package transport

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
)

// TestFrameFieldNumberEdges: the field numbers at the edges of what a frame knows are
// unknown fields to skip: the first one past the bodies (4: the body table must not be
// read past its end) and the largest valid one; one past that is refused.
func TestFrameFieldNumberEdges(t *testing.T) {
	req := requests(2)[1]
	rep := report("B", 2, 2)
	for _, tc := range []struct {
		name string
		num  protowire.Number
		ok   bool
	}{
		{"the first past the bodies", protowire.Number(len(toNodeBodies)), true},
		{"the first past the FromNode bodies", protowire.Number(len(fromNodeBodies)), true},
		{"the largest valid", protowire.MaxValidNumber, true},
		{"past the largest valid", protowire.MaxValidNumber + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := protowire.AppendVarint(protowire.AppendTag(nil, tc.num, protowire.VarintType), 1)

			to, err := encodeRequestFrame(9, req)
			require.NoError(t, err)
			gotTo, err := decodeToNode(append(extra, to...))
			fromB, ferr := encodeStatusFrame(9, rep)
			require.NoError(t, ferr)
			gotFrom, ferr := decodeFromNode(append(append([]byte(nil), fromB...), extra...))
			if !tc.ok {
				for _, err := range []error{err, ferr} {
					require.ErrorIs(t, err, fsm.ErrMalformed)
					require.ErrorContains(t, err, "field number 536870912")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, uint64(9), gotTo.seq)
			require.Equal(t, reencode(t, req), reencode(t, gotTo.request))
			require.NoError(t, ferr)
			require.Equal(t, uint64(9), gotFrom.seq)
			require.Equal(t, reencode(t, rep), reencode(t, gotFrom.status))
			require.False(t, gotFrom.isAnswer)
		})
	}
}
