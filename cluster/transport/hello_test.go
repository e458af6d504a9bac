package transport

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
)

// TestHelloUnknownFields: a Hello skips fields it does not know, as protobuf does, and a
// malformed one is a *fsm.DecodeError naming it by number.
func TestHelloUnknownFields(t *testing.T) {
	h := hello{changefeed: testCF, epoch: 4, maintainer: "m"}
	known, err := h.AppendBinary(nil)
	require.NoError(t, err)
	frame := func(payload []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, toNodeHello, protowire.BytesType), payload)
	}
	withField := func(b []byte, num protowire.Number, typ protowire.Type, value []byte) []byte {
		return append(protowire.AppendTag(append([]byte(nil), b...), num, typ), value...)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		field   string // of the error; "" when the hello decodes to h
	}{
		{"a varint field", withField(known, 9, protowire.VarintType, protowire.AppendVarint(nil, 300)), ""},
		{"a string field first", append(withField(nil, 4, protowire.BytesType, protowire.AppendString(nil, "x")), known...), ""},
		{"a fixed64 field", withField(known, 15, protowire.Fixed64Type, protowire.AppendFixed64(nil, 1)), ""},
		{"a truncated fixed64 field", withField(known, 9, protowire.Fixed64Type, []byte{1, 2}), "hello.9"},
		{"a truncated string field", withField(known, 12, protowire.BytesType, []byte{5, 'a'}), "hello.12"},
		{"an end group without its start", withField(known, 9, protowire.EndGroupType, nil), "hello.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeToNode(frame(tc.payload))
			if tc.field == "" {
				require.NoError(t, err)
				require.Equal(t, toNode{isHello: true, hello: h}, got)
				return
			}
			var de *fsm.DecodeError
			require.True(t, errors.As(err, &de), "%T: %v", err, err)
			require.Equal(t, recToNode, de.Record)
			require.Equal(t, tc.field, de.Field)
			require.ErrorIs(t, err, fsm.ErrMalformed)
		})
	}
}
