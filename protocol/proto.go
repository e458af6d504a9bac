package protocol

import (
	"encoding"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// The protobuf encoding (schema: protocol.proto) is hand-written on protowire rather than
// left to the generated package protocolpb, for speed: a maintainer decodes every node's
// bootstrap answer (a million dispatchers in all) before it recovers, and proto.Unmarshal
// allocates several objects per dispatcher where this decoder allocates none. The encoder
// writes exactly the bytes proto.Marshal writes for the same message; the decoder accepts
// a subset of what proto.Unmarshal accepts (it also refuses unknown enums, a known field
// of the wrong wire type and whatever Validate refuses) and, where both succeed, decodes
// the same message (of a scalar field that appears more than once the last value wins; a
// message field that appears more than once is merged). The tests check both claims
// against the generated code.
//
// Every enum is written as its Go value plus one, so 0 (UNSPECIFIED, what a missing field
// reads as) is never a valid value.

var (
	_ encoding.BinaryMarshaler   = Request{}
	_ encoding.BinaryAppender    = Request{}
	_ encoding.BinaryUnmarshaler = (*Request)(nil)
	_ encoding.BinaryMarshaler   = StatusReport{}
	_ encoding.BinaryAppender    = StatusReport{}
	_ encoding.BinaryUnmarshaler = (*StatusReport)(nil)
	_ encoding.BinaryMarshaler   = BootstrapAnswer{}
	_ encoding.BinaryAppender    = BootstrapAnswer{}
	_ encoding.BinaryUnmarshaler = (*BootstrapAnswer)(nil)
	_ encoding.BinaryMarshaler   = Snapshot{}
	_ encoding.BinaryAppender    = Snapshot{}
	_ encoding.BinaryUnmarshaler = (*Snapshot)(nil)
)

// Field numbers of protocol.proto.
const (
	spanTable protowire.Number = 1
	spanStart protowire.Number = 2
	spanEnd   protowire.Number = 3

	recChangefeed   protowire.Number = 1
	recID           protowire.Number = 2
	recType         protowire.Number = 3
	recState        protowire.Number = 4
	recEpoch        protowire.Number = 5
	recSpan         protowire.Number = 6
	recOrigin       protowire.Number = 7
	recDest         protowire.Number = 8
	recSplitSpans   protowire.Number = 9
	recSplitTargets protowire.Number = 10
	recSources      protowire.Number = 11
	recHook         protowire.Number = 12
	recCheckpoint   protowire.Number = 13

	reqVersion    protowire.Number = 1
	reqChangefeed protowire.Number = 2
	reqEpoch      protowire.Number = 3
	reqKind       protowire.Number = 4
	reqRecord     protowire.Number = 5

	stID         protowire.Number = 1
	stState      protowire.Number = 2
	stCheckpoint protowire.Number = 3

	repVersion    protowire.Number = 1
	repChangefeed protowire.Number = 2
	repNode       protowire.Number = 3
	repEpoch      protowire.Number = 4
	repStatuses   protowire.Number = 5

	dispID         protowire.Number = 1
	dispSpan       protowire.Number = 2
	dispState      protowire.Number = 3
	dispRemoving   protowire.Number = 4
	dispCheckpoint protowire.Number = 5

	ansVersion     protowire.Number = 1
	ansNode        protowire.Number = 2
	ansChangefeed  protowire.Number = 3
	ansEpoch       protowire.Number = 4
	ansDispatchers protowire.Number = 5
	ansRemoves     protowire.Number = 6
	ansMerges      protowire.Number = 7

	snapVersion    protowire.Number = 1
	snapChangefeed protowire.Number = 2
	snapEpoch      protowire.Number = 3
	snapCheckpoint protowire.Number = 4
	snapTables     protowire.Number = 5
	snapAnswers    protowire.Number = 6
)

// The names of messages in errors, as the JSON decoders name them.
const (
	msgRequest    = "request"
	msgReport     = "status report"
	msgAnswer     = "bootstrap answer"
	msgSnapshot   = "snapshot"
	msgDispatcher = "dispatcher"
	msgRecord     = "operator record"
)

// field is one field of a message in the top-level scan: its name in errors and its wire
// type. packed marks a repeated scalar, which may come packed (bytes) or not (varint).
type field struct {
	name   string
	typ    protowire.Type
	packed bool
}

// The top-level fields of each message, indexed by field number.
var (
	requestFields = [...]field{reqVersion: {"version", protowire.VarintType, false}, reqChangefeed: {"changefeed", protowire.BytesType, false},
		reqEpoch: {"epoch", protowire.VarintType, false}, reqKind: {"kind", protowire.VarintType, false}, reqRecord: {"record", protowire.BytesType, false}}
	reportFields = [...]field{repVersion: {"version", protowire.VarintType, false}, repChangefeed: {"changefeed", protowire.BytesType, false},
		repNode: {"node", protowire.BytesType, false}, repEpoch: {"epoch", protowire.VarintType, false}, repStatuses: {"statuses", protowire.BytesType, false}}
	answerFields = [...]field{ansVersion: {"version", protowire.VarintType, false}, ansNode: {"node", protowire.BytesType, false},
		ansChangefeed: {"changefeed", protowire.BytesType, false}, ansEpoch: {"epoch", protowire.VarintType, false},
		ansDispatchers: {"dispatchers", protowire.BytesType, false}, ansRemoves: {"removes", protowire.BytesType, false},
		ansMerges: {"merges", protowire.BytesType, false}}
	snapshotFields = [...]field{snapVersion: {"version", protowire.VarintType, false}, snapChangefeed: {"changefeed", protowire.BytesType, false},
		snapEpoch: {"epoch", protowire.VarintType, false}, snapCheckpoint: {"checkpoint", protowire.VarintType, false},
		snapTables: {"tables", protowire.VarintType, true}, snapAnswers: {"answers", protowire.BytesType, false}}
)

// The largest Go value of each enum; the wire value is the Go value plus one.
const (
	maxKind  = Bootstrap
	maxState = ops.Removed
	maxType  = ops.TypeOccupy
	maxHook  = ops.HookDelete
)

// decodeErr builds the *fsm.DecodeError of every decoding failure.
func decodeErr(msg, field string, err error) error {
	return &fsm.DecodeError{Record: msg, Field: field, Err: err}
}

// malformed is a wire-level failure: protowire's error code n, a wrong wire type, bad
// UTF-8.
func malformed(msg, field string, format string, args ...any) error {
	return decodeErr(msg, field, fmt.Errorf("%w: "+format, append([]any{fsm.ErrMalformed}, args...)...))
}

// wireErr turns protowire's negative length n into a malformed error.
func wireErr(msg, field string, n int) error {
	return malformed(msg, field, "%v", protowire.ParseError(n))
}

// encodeErr is the error of an encoder asked to write what the schema cannot carry.
func encodeErr(msg, field string, err error) error {
	return fmt.Errorf("protocol: encoding %s: field %q: %w", msg, field, err)
}
