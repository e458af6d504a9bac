package transport

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/protocol"
)

// seqs are the seqs every round trip is tried with: 0 (left out), one- and
// multi-byte varints, the largest.
var seqs = []uint64{0, 1, 127, 128, 1 << 35, math.MaxUint64}

// TestFrameRoundTrip: every frame decodes to what was encoded.
func TestFrameRoundTrip(t *testing.T) {
	for _, seq := range seqs {
		h := hello{changefeed: testCF, epoch: 9, maintainer: "maint\u00e9-1"}
		got, err := decodeToNode(encodeHelloFrame(seq, h))
		require.NoError(t, err)
		require.Equal(t, toNode{seq: seq, isHello: true, hello: h}, got)

		for _, req := range requests(9) {
			b, err := encodeRequestFrame(seq, req)
			require.NoError(t, err)
			got, err := decodeToNode(b)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.False(t, got.isHello)
			require.Equal(t, reencode(t, req), reencode(t, got.request), req.Kind)
		}
		for _, r := range []protocol.StatusReport{report("B", 9, 0), report("B", 9, 50)} {
			b, err := encodeStatusFrame(seq, r)
			require.NoError(t, err)
			got, err := decodeFromNode(b)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.False(t, got.isAnswer)
			require.Equal(t, reencode(t, r), reencode(t, got.status))
		}
		for _, a := range answers(9) {
			b, err := encodeAnswerFrame(seq, a)
			require.NoError(t, err)
			got, err := decodeFromNode(b)
			require.NoError(t, err)
			require.Equal(t, seq, got.seq)
			require.True(t, got.isAnswer)
			require.Equal(t, reencode(t, a), reencode(t, got.answer))
		}
	}
}

// TestFrameUnknownFieldsAndRepeatedSeq: unknown fields are skipped, and of two seqs the
// last counts, as protobuf reads them.
func TestFrameUnknownFieldsAndRepeatedSeq(t *testing.T) {
	req := requests(3)[2]
	b, err := encodeRequestFrame(5, req)
	require.NoError(t, err)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 6)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendString(b, "future field")
	b = protowire.AppendTag(b, 100, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 1)
	got, err := decodeToNode(b)
	require.NoError(t, err)
	require.Equal(t, uint64(6), got.seq)
	require.Equal(t, reencode(t, req), reencode(t, got.request))
}

// TestBadFrames: bad bytes decode to a *fsm.DecodeError naming the frame and the field,
// wrapping a sentinel (the embedded message's own error, for a bad message).
func TestBadFrames(t *testing.T) {
	tag := func(b []byte, num protowire.Number, typ protowire.Type) []byte {
		return protowire.AppendTag(b, num, typ)
	}
	msg := func(b []byte, num protowire.Number, payload []byte) []byte {
		return protowire.AppendBytes(tag(b, num, protowire.BytesType), payload)
	}
	helloOf := func(h hello) []byte { p, _ := h.AppendBinary(nil); return p }
	okHello := helloOf(hello{changefeed: testCF, epoch: 1})
	okReq := reencode(t, requests(1)[0])
	okRep := reencode(t, report("B", 1, 1))
	badVersion := func(m []byte) []byte { // the same message with version 2 appended (the last one counts)
		return protowire.AppendVarint(tag(append([]byte(nil), m...), 1, protowire.VarintType), 2)
	}
	noNode := reencode(t, protocol.StatusReport{Changefeed: testCF, Epoch: 1})

	const to, from = recToNode, recFromNode
	cases := []struct {
		name  string
		rec   string // which decoder
		b     []byte
		field string
		want  error
	}{
		{"empty frame", to, nil, "body", fsm.ErrMissingField},
		{"only a seq", from, protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 4), "body", fsm.ErrMissingField},
		{"truncated tag", to, []byte{0x80}, "", fsm.ErrMalformed},
		{"field number 0", to, []byte{0x02, 0x00}, "", fsm.ErrMalformed},
		{"field number too large", from, tag(nil, protowire.MaxValidNumber+1, protowire.VarintType), "", fsm.ErrMalformed},
		{"seq of wire type bytes", to, msg(nil, 1, []byte{1}), "seq", fsm.ErrMalformed},
		{"seq truncated", from, []byte{0x08, 0x80}, "seq", fsm.ErrMalformed},
		{"body of wire type varint", to, protowire.AppendVarint(tag(nil, 3, protowire.VarintType), 1), "request", fsm.ErrMalformed},
		{"body longer than the frame", from, []byte{0x12, 0x05, 0x08}, "status", fsm.ErrMalformed},
		{"two bodies", to, msg(msg(nil, 2, okHello), 3, okReq), "request", fsm.ErrMalformed},
		{"the same body twice", from, msg(msg(nil, 2, okRep), 2, okRep), "status", fsm.ErrMalformed},
		{"unknown field truncated", to, append(tag(nil, 9, protowire.Fixed64Type), 1, 2), "9", fsm.ErrMalformed},
		{"unknown end group", from, tag(nil, 9, protowire.EndGroupType), "9", fsm.ErrMalformed},
		{"hello without changefeed", to, msg(nil, 2, helloOf(hello{epoch: 1})), "hello.changefeed", fsm.ErrMissingField},
		{"hello without epoch", to, msg(nil, 2, helloOf(hello{changefeed: testCF})), "hello.epoch", fsm.ErrMissingField},
		{"hello not UTF-8", to, msg(nil, 2, helloOf(hello{changefeed: "\xff", epoch: 1})), "hello.changefeed", fsm.ErrMalformed},
		{"hello name not UTF-8", to, msg(nil, 2, helloOf(hello{changefeed: testCF, epoch: 1, maintainer: "\xc3"})), "hello.maintainer", fsm.ErrMalformed},
		{"hello epoch of wire type bytes", to, msg(nil, 2, msg(nil, 2, nil)), "hello.epoch", fsm.ErrMalformed},
		{"hello truncated", to, msg(nil, 2, []byte{0x0a, 0x09}), "hello.changefeed", fsm.ErrMalformed},
		{"request of version 2", to, msg(nil, 3, badVersion(okReq)), "request", fsm.ErrUnknownVersion},
		{"request not protobuf", to, msg(nil, 3, []byte{0xff}), "request", fsm.ErrMalformed},
		{"status without node", from, msg(nil, 2, noNode), "status", fsm.ErrMissingField},
		{"answer empty", from, msg(nil, 3, nil), "answer", fsm.ErrUnknownVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.rec == to {
				_, err = decodeToNode(c.b)
			} else {
				_, err = decodeFromNode(c.b)
			}
			require.Error(t, err)
			var de *fsm.DecodeError
			require.True(t, errors.As(err, &de), "%T: %v", err, err)
			require.Equal(t, c.rec, de.Record, err.Error())
			require.Equal(t, c.field, de.Field, err.Error())
			require.ErrorIs(t, err, c.want)
		})
	}
}

// TestFrameShare: a body's frame is built in place, without copying the body, and one
// frame serves every session it is queued on.
func TestFrameShare(t *testing.T) {
	b, err := encodeBody(fromNodeStatus, report("B", 1, 3))
	require.NoError(t, err)
	f := b.frame(1 << 40)
	require.Equal(t, &b.buf[len(b.buf)-1], &f[len(f)-1])
	want, err := encodeStatusFrame(1<<40, report("B", 1, 3))
	require.NoError(t, err)
	require.Equal(t, want, f)
}
