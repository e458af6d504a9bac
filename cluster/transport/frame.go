package transport

import (
	"encoding"
	"fmt"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Frames (cluster.proto's ToNode and FromNode) are encoded by hand on protowire: a frame
// is its seq (field 1, left out when 0, as proto.Marshal does) and one body (a Hello, or a
// message of package protocol, whose AppendBinary already writes the schema's bytes). The
// decoders accept a subset of what proto.Unmarshal accepts: like package protocol's, they
// refuse a known field of the wrong wire type, a missing body, and also a second body
// (protobuf would merge or replace it), so where both succeed they read the same frame.
// The tests hold both claims against the generated package clusterpb.

// Field numbers of cluster.proto.
const (
	seqField protowire.Number = 1 // ToNode.seq and FromNode.seq

	toNodeHello   protowire.Number = 2
	toNodeRequest protowire.Number = 3

	helloChangefeed protowire.Number = 1
	helloEpoch      protowire.Number = 2
	helloMaintainer protowire.Number = 3

	fromNodeStatus protowire.Number = 2
	fromNodeAnswer protowire.Number = 3
)

// The names of frames in errors, as the schema names them.
const (
	recToNode   = "ToNode frame"
	recFromNode = "FromNode frame"
)

// The body fields of each frame by number, as errors name them.
var (
	toNodeBodies   = [...]string{toNodeHello: "hello", toNodeRequest: "request"}
	fromNodeBodies = [...]string{fromNodeStatus: "status", fromNodeAnswer: "answer"}
)

// hello is a decoded Hello.
type hello struct {
	changefeed ops.ChangefeedID
	epoch      ops.Epoch
	maintainer string
}

// toNode is a decoded ToNode frame: a hello, or a request.
type toNode struct {
	seq     uint64
	isHello bool
	hello   hello
	request protocol.Request
}

// fromNode is a decoded FromNode frame: a status report, or a bootstrap answer.
type fromNode struct {
	seq      uint64
	isAnswer bool
	status   protocol.StatusReport
	answer   protocol.BootstrapAnswer
}

// headroom is the most a frame's header takes: the seq field and the body's tag and
// length, two one-byte tags and two ten-byte varints. A body is encoded after this much
// room, and its header is written into the end of the room once its seq is known, so a
// frame is built without copying its body (and a sender encodes before it takes a lock).
const headroom = 2 * (1 + 10)

// body is a frame's body encoded after headroom bytes, waiting for its seq.
type body struct {
	buf []byte           // headroom, then the embedded message
	num protowire.Number // the body's field number in its frame
}

// encodeBody encodes m as the body field num of a frame.
func encodeBody(num protowire.Number, m encoding.BinaryAppender) (body, error) {
	buf, err := m.AppendBinary(make([]byte, headroom, headroom+256))
	if err != nil {
		return body{}, err
	}
	return body{buf: buf, num: num}, nil
}

// size is the length of the embedded message.
func (b body) size() int { return len(b.buf) - headroom }

// frame writes the header for seq into the room before the body and returns the whole
// frame, which shares b's memory: call it once per body.
func (b body) frame(seq uint64) []byte {
	n := uint64(b.size())
	h := protowire.SizeTag(b.num) + protowire.SizeVarint(n)
	if seq != 0 {
		h += protowire.SizeTag(seqField) + protowire.SizeVarint(seq)
	}
	start := headroom - h
	p := b.buf[start:start:headroom]
	if seq != 0 {
		p = protowire.AppendTag(p, seqField, protowire.VarintType)
		p = protowire.AppendVarint(p, seq)
	}
	p = protowire.AppendTag(p, b.num, protowire.BytesType)
	protowire.AppendVarint(p, n)
	return b.buf[start:]
}

// AppendBinary appends the Hello message (not a frame) to b. Strings are written as they
// are; a node refuses a Hello that is not UTF-8.
func (h hello) AppendBinary(b []byte) ([]byte, error) {
	if h.changefeed != "" {
		b = protowire.AppendTag(b, helloChangefeed, protowire.BytesType)
		b = protowire.AppendString(b, string(h.changefeed))
	}
	if h.epoch != 0 {
		b = protowire.AppendTag(b, helloEpoch, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(h.epoch))
	}
	if h.maintainer != "" {
		b = protowire.AppendTag(b, helloMaintainer, protowire.BytesType)
		b = protowire.AppendString(b, h.maintainer)
	}
	return b, nil
}

// encodeHelloFrame returns the ToNode frame of seq that carries h (a Client sends seq 0).
func encodeHelloFrame(seq uint64, h hello) []byte {
	b, _ := encodeBody(toNodeHello, h) // never fails
	return b.frame(seq)
}

// errTooLarge is the error of a message that would make a frame over MaxFrameSize.
func errTooLarge(n int) error {
	return fmt.Errorf("a message of %d bytes does not fit in a frame (MaxFrameSize %d)", n, MaxFrameSize)
}

// encodeRequestFrame returns the ToNode frame of seq that carries req.
func encodeRequestFrame(seq uint64, req protocol.Request) ([]byte, error) {
	b, err := encodeBody(toNodeRequest, req)
	if err != nil {
		return nil, err
	}
	return b.frame(seq), nil
}

// encodeStatusFrame returns the FromNode frame of seq that carries r.
func encodeStatusFrame(seq uint64, r protocol.StatusReport) ([]byte, error) {
	b, err := encodeBody(fromNodeStatus, r)
	if err != nil {
		return nil, err
	}
	return b.frame(seq), nil
}

// encodeAnswerFrame returns the FromNode frame of seq that carries a.
func encodeAnswerFrame(seq uint64, a protocol.BootstrapAnswer) ([]byte, error) {
	b, err := encodeBody(fromNodeAnswer, a)
	if err != nil {
		return nil, err
	}
	return b.frame(seq), nil
}

// decodeToNode decodes a ToNode frame. Errors are *fsm.DecodeError values naming the frame
// and field; a bad request wraps the request's own *fsm.DecodeError.
func decodeToNode(b []byte) (toNode, error) {
	seq, num, payload, err := scanFrame(recToNode, toNodeBodies[:], b)
	if err != nil {
		return toNode{}, err
	}
	f := toNode{seq: seq}
	switch num {
	case toNodeHello:
		f.isHello = true
		f.hello, err = decodeHello(payload)
	default:
		if err = f.request.UnmarshalBinary(payload); err != nil {
			err = &fsm.DecodeError{Record: recToNode, Field: "request", Err: err}
		}
	}
	if err != nil {
		return toNode{}, err
	}
	return f, nil
}

// decodeFromNode decodes a FromNode frame. Errors are *fsm.DecodeError values naming the
// frame and field; a bad report or answer wraps the message's own *fsm.DecodeError.
func decodeFromNode(b []byte) (fromNode, error) {
	seq, num, payload, err := scanFrame(recFromNode, fromNodeBodies[:], b)
	if err != nil {
		return fromNode{}, err
	}
	f := fromNode{seq: seq}
	switch num {
	case fromNodeAnswer:
		f.isAnswer = true
		if err = f.answer.UnmarshalBinary(payload); err != nil {
			err = &fsm.DecodeError{Record: recFromNode, Field: "answer", Err: err}
		}
	default:
		if err = f.status.UnmarshalBinary(payload); err != nil {
			err = &fsm.DecodeError{Record: recFromNode, Field: "status", Err: err}
		}
	}
	if err != nil {
		return fromNode{}, err
	}
	return f, nil
}

// scanFrame walks a frame's fields: the seq (the last one counts, as in protobuf), exactly
// one body (bodies names the body fields by number) and unknown fields, which it skips.
// It returns the seq, the body's field number and the body's bytes.
func scanFrame(rec string, bodies []string, b []byte) (seq uint64, num protowire.Number, payload []byte, err error) {
	for len(b) > 0 {
		n, typ, l, err := consumeTag(rec, b)
		if err != nil {
			return 0, 0, nil, err
		}
		b = b[l:]
		switch {
		case n == seqField:
			if typ != protowire.VarintType {
				return 0, 0, nil, wrongType(rec, "seq", typ, protowire.VarintType)
			}
			v, l := protowire.ConsumeVarint(b)
			if l < 0 {
				return 0, 0, nil, wireErr(rec, "seq", l)
			}
			seq, b = v, b[l:]
		case int(n) < len(bodies) && bodies[n] != "":
			name := bodies[n]
			if typ != protowire.BytesType {
				return 0, 0, nil, wrongType(rec, name, typ, protowire.BytesType)
			}
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return 0, 0, nil, wireErr(rec, name, l)
			}
			if num != 0 {
				return 0, 0, nil, malformed(rec, name, "a second body after %s", bodies[num])
			}
			num, payload, b = n, v, b[l:]
		default:
			l := protowire.ConsumeFieldValue(n, typ, b)
			if l < 0 {
				return 0, 0, nil, wireErr(rec, strconv.Itoa(int(n)), l)
			}
			b = b[l:]
		}
	}
	if num == 0 {
		return 0, 0, nil, &fsm.DecodeError{Record: rec, Field: "body", Err: fsm.ErrMissingField}
	}
	return seq, num, payload, nil
}

// decodeHello decodes a Hello: changefeed and epoch are required, strings UTF-8.
func decodeHello(b []byte) (hello, error) {
	var h hello
	for len(b) > 0 {
		n, typ, l, err := consumeTag(recToNode, b)
		if err != nil {
			return hello{}, err
		}
		b = b[l:]
		switch n {
		case helloChangefeed, helloMaintainer:
			name := "hello.changefeed"
			if n == helloMaintainer {
				name = "hello.maintainer"
			}
			if typ != protowire.BytesType {
				return hello{}, wrongType(recToNode, name, typ, protowire.BytesType)
			}
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return hello{}, wireErr(recToNode, name, l)
			}
			if !utf8.Valid(v) {
				return hello{}, malformed(recToNode, name, "a string is not UTF-8")
			}
			if n == helloChangefeed {
				h.changefeed = ops.ChangefeedID(v)
			} else {
				h.maintainer = string(v)
			}
			b = b[l:]
		case helloEpoch:
			if typ != protowire.VarintType {
				return hello{}, wrongType(recToNode, "hello.epoch", typ, protowire.VarintType)
			}
			v, l := protowire.ConsumeVarint(b)
			if l < 0 {
				return hello{}, wireErr(recToNode, "hello.epoch", l)
			}
			h.epoch, b = ops.Epoch(v), b[l:]
		default:
			l := protowire.ConsumeFieldValue(n, typ, b)
			if l < 0 {
				return hello{}, wireErr(recToNode, "hello."+strconv.Itoa(int(n)), l)
			}
			b = b[l:]
		}
	}
	switch {
	case h.changefeed == "":
		return hello{}, &fsm.DecodeError{Record: recToNode, Field: "hello.changefeed", Err: fsm.ErrMissingField}
	case h.epoch == 0:
		return hello{}, &fsm.DecodeError{Record: recToNode, Field: "hello.epoch", Err: fsm.ErrMissingField}
	}
	return h, nil
}

// consumeTag reads a tag of frame rec and returns its length.
func consumeTag(rec string, b []byte) (protowire.Number, protowire.Type, int, error) {
	n, typ, l := protowire.ConsumeTag(b)
	switch {
	case l < 0:
		return 0, 0, 0, wireErr(rec, "", l)
	case n > protowire.MaxValidNumber: // ConsumeTag lets these through; protobuf does not
		return 0, 0, 0, malformed(rec, "", "field number %d", n)
	}
	return n, typ, l, nil
}

// malformed is a wire-level failure of field name of frame rec.
func malformed(rec, name, format string, args ...any) error {
	return &fsm.DecodeError{Record: rec, Field: name, Err: fmt.Errorf("%w: "+format, append([]any{fsm.ErrMalformed}, args...)...)}
}

// wireErr turns protowire's negative length l into a malformed error.
func wireErr(rec, name string, l int) error {
	return malformed(rec, name, "%v", protowire.ParseError(l))
}

func wrongType(rec, name string, got, want protowire.Type) error {
	return malformed(rec, name, "wire type %d, want %d", got, want)
}
