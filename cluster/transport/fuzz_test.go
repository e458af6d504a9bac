package transport

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/opfsm/opfsm/cluster/transport/clusterpb"
	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/protocol"
)

// The fuzz targets, one per frame decoder. Each asserts that the decoder does not panic,
// fails only with a *fsm.DecodeError, and that what it accepts re-encodes to a frame that
// decodes to the same content; and, against the generated code, that proto.Unmarshal
// accepts what the decoder accepts and reads the same frame. The seed corpus is every
// frame the unit tests encode, plus a few broken ones.

func FuzzToNode(f *testing.F) {
	for _, seq := range seqs {
		f.Add(encodeHelloFrame(seq, hello{changefeed: testCF, epoch: 3, maintainer: "m"}))
		for _, req := range requests(3) {
			b, err := encodeRequestFrame(seq, req)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x1a, 0x00})             // an empty request
	f.Add([]byte{0x12, 0x02, 0x10, 0x01}) // a hello without changefeed
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeToNode(b)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		var pb clusterpb.ToNode
		if err := proto.Unmarshal(b, &pb); err != nil {
			t.Fatalf("the hand decoder accepts what proto.Unmarshal refuses: %v", err)
		}
		if pb.GetSeq() != got.seq {
			t.Fatalf("seq: proto.Unmarshal reads %d, the hand decoder %d", pb.GetSeq(), got.seq)
		}
		var again []byte
		if got.isHello {
			h := pb.GetHello()
			if h == nil || h.GetChangefeed() != string(got.hello.changefeed) || h.GetEpoch() != uint64(got.hello.epoch) ||
				h.GetMaintainer() != got.hello.maintainer {
				t.Fatalf("hello: proto.Unmarshal reads %v, the hand decoder %+v", h, got.hello)
			}
			again = encodeHelloFrame(got.seq, got.hello)
		} else {
			r := pb.GetRequest()
			if r == nil {
				t.Fatalf("proto.Unmarshal reads no request: %v", &pb)
			}
			sameMessage(t, r, got.request, &protocol.Request{})
			if again, err = encodeRequestFrame(got.seq, got.request); err != nil {
				t.Fatalf("a decoded request does not encode: %v", err)
			}
		}
		back, err := decodeToNode(again)
		if err != nil {
			t.Fatalf("a re-encoded frame does not decode: %v", err)
		}
		if back.seq != got.seq || back.isHello != got.isHello || back.hello != got.hello ||
			string(reencode(t, back.request)) != string(reencode(t, got.request)) {
			t.Fatalf("round trip: %+v, then %+v", got, back)
		}
	})
}

func FuzzFromNode(f *testing.F) {
	for _, seq := range seqs {
		for _, r := range []protocol.StatusReport{report("B", 3, 0), report("B", 3, 8)} {
			b, err := encodeStatusFrame(seq, r)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
		for _, a := range answers(3)[:3] {
			b, err := encodeAnswerFrame(seq, a)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x00}) // an empty status report
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeFromNode(b)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		var pb clusterpb.FromNode
		if err := proto.Unmarshal(b, &pb); err != nil {
			t.Fatalf("the hand decoder accepts what proto.Unmarshal refuses: %v", err)
		}
		if pb.GetSeq() != got.seq {
			t.Fatalf("seq: proto.Unmarshal reads %d, the hand decoder %d", pb.GetSeq(), got.seq)
		}
		var again []byte
		if got.isAnswer {
			if pb.GetAnswer() == nil {
				t.Fatalf("proto.Unmarshal reads no answer: %v", &pb)
			}
			sameMessage(t, pb.GetAnswer(), got.answer, &protocol.BootstrapAnswer{})
			again, err = encodeAnswerFrame(got.seq, got.answer)
		} else {
			if pb.GetStatus() == nil {
				t.Fatalf("proto.Unmarshal reads no status: %v", &pb)
			}
			sameMessage(t, pb.GetStatus(), got.status, &protocol.StatusReport{})
			again, err = encodeStatusFrame(got.seq, got.status)
		}
		if err != nil {
			t.Fatalf("a decoded message does not encode: %v", err)
		}
		back, err := decodeFromNode(again)
		if err != nil {
			t.Fatalf("a re-encoded frame does not decode: %v", err)
		}
		if back.seq != got.seq || back.isAnswer != got.isAnswer ||
			string(reencode(t, back.status)) != string(reencode(t, got.status)) ||
			string(reencode(t, back.answer)) != string(reencode(t, got.answer)) {
			t.Fatalf("round trip: %+v, then %+v", got, back)
		}
	})
}

// checkDecodeError fails unless err is a *fsm.DecodeError of a frame.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *fsm.DecodeError
	if !errors.As(err, &de) || (de.Record != recToNode && de.Record != recFromNode) {
		t.Fatalf("not a frame's *fsm.DecodeError: %T %v", err, err)
	}
}

// sameMessage fails unless the generated message pb, written by proto.Marshal and read by
// the hand decoder into fresh, is the message the hand decoder read from the frame (both
// compared in their canonical encoding, which leaves unknown fields out).
func sameMessage[M interface {
	MarshalBinary() ([]byte, error)
}](t *testing.T, pb proto.Message, got M, fresh interface {
	UnmarshalBinary([]byte) error
	MarshalBinary() ([]byte, error)
}) {
	t.Helper()
	b, err := proto.Marshal(pb)
	if err != nil {
		t.Fatalf("proto.Marshal: %v", err)
	}
	if err := fresh.UnmarshalBinary(b); err != nil {
		t.Fatalf("the generated code's encoding of the body does not decode: %v", err)
	}
	if string(reencode(t, fresh)) != string(reencode(t, got)) {
		t.Fatalf("the generated code and the hand decoder read different bodies")
	}
}
