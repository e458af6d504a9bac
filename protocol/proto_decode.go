package protocol

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// Decoding: the input is copied into one string, and every decoded string (ids, keys,
// names) is a substring of it, so a dispatcher or status costs no allocation of its own.
// A top-level message is walked twice: a scan checks its framing and the wire types of
// its known fields, reads its version and counts its repeated fields, so every list is
// allocated once at its length; then the fields are decoded. Nested messages are decoded
// in one pass. Checks: the version, wire types, UTF-8, required fields and enums here;
// then the same Validate methods the JSON decoders run.

// UnmarshalBinary decodes a request's protobuf form and validates it like UnmarshalJSON
// (Request.Validate, and Record.Validate for its record). Errors are *fsm.DecodeError
// values; on error r is left as it was. The decoded strings share one copy of data.
func (r *Request) UnmarshalBinary(data []byte) error {
	d := decoder{b: data, s: string(data)}
	req, err := d.request(0, len(data))
	if err != nil {
		return err
	}
	*r = req
	return nil
}

// UnmarshalBinary decodes a report's protobuf form and validates it like UnmarshalJSON.
// Errors are *fsm.DecodeError values; on error s is left as it was. The decoded strings
// share one copy of data.
func (s *StatusReport) UnmarshalBinary(data []byte) error {
	d := decoder{b: data, s: string(data)}
	rep, err := d.report(0, len(data))
	if err != nil {
		return err
	}
	*s = rep
	return nil
}

// UnmarshalBinary decodes an answer's protobuf form and validates it like UnmarshalJSON
// (every dispatcher's id, span and state, Record.Validate for every journaled record,
// BootstrapAnswer.Validate). Errors are *fsm.DecodeError values; on error a is left as it
// was. The decoded strings share one copy of data; a dispatcher costs no allocation.
func (a *BootstrapAnswer) UnmarshalBinary(data []byte) error {
	d := decoder{b: data, s: string(data)}
	ans, err := d.answer(0, len(data))
	if err != nil {
		return err
	}
	*a = ans
	return nil
}

// UnmarshalBinary decodes a snapshot's protobuf form, every answer checked as
// BootstrapAnswer.UnmarshalBinary checks one. Errors are *fsm.DecodeError values; on error
// s is left as it was. The decoded strings share one copy of data.
func (s *Snapshot) UnmarshalBinary(data []byte) error {
	d := decoder{b: data, s: string(data)}
	snap, err := d.snapshot(0, len(data))
	if err != nil {
		return err
	}
	*s = snap
	return nil
}

// decoder reads protobuf from b; s is the same bytes as a string, the backing of every
// decoded string. Positions are indexes into both; a message is the range [p, end).
type decoder struct {
	b []byte
	s string
}

func (d *decoder) request(p, end int) (Request, error) {
	var counts [len(requestFields)]int
	if err := d.scan(msgRequest, requestFields[:], p, end, counts[:]); err != nil {
		return Request{}, err
	}
	var (
		req       Request
		kind      uint64
		rec       recordState
		hasRecord bool
		v         uint64
		s         string
		err       error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgRequest, p, end); err != nil {
			return Request{}, err
		}
		switch num {
		case reqChangefeed:
			s, p, err = d.str(msgRequest, "changefeed", typ, p, end)
			req.Changefeed = ops.ChangefeedID(s)
		case reqEpoch:
			v, p, err = d.varint(msgRequest, "epoch", typ, p, end)
			req.Epoch = ops.Epoch(v)
		case reqKind:
			kind, p, err = d.varint(msgRequest, "kind", typ, p, end)
		case reqRecord:
			var start int
			if start, p, err = d.bytes(msgRequest, "record", typ, p, end); err == nil {
				err = d.record(start, p, &req.Record, &rec)
				hasRecord = true
			}
		default: // the version, checked by scan, and unknown fields
			p, err = d.skip(msgRequest, "", num, typ, p, end)
		}
		if err != nil {
			return Request{}, err
		}
	}
	if kind == 0 || kind > uint64(maxKind)+1 {
		return Request{}, decodeErr(msgRequest, "kind", fmt.Errorf("%w: %s", ErrUnknownKind, enumValue("KIND", kind)))
	}
	req.Kind = Kind(kind - 1)
	switch {
	case hasRecord:
		if err := rec.finish(&req.Record); err != nil {
			return Request{}, err
		}
	case req.Kind != Bootstrap:
		return Request{}, decodeErr(msgRequest, "record", fsm.ErrMissingField)
	}
	if err := req.Validate(); err != nil {
		return Request{}, err
	}
	return req, nil
}

func (d *decoder) report(p, end int) (StatusReport, error) {
	var counts [len(reportFields)]int
	if err := d.scan(msgReport, reportFields[:], p, end, counts[:]); err != nil {
		return StatusReport{}, err
	}
	var (
		rep StatusReport
		v   uint64
		s   string
		err error
	)
	if n := counts[repStatuses]; n > 0 {
		rep.Statuses = make([]ops.Status, 0, n)
	}
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgReport, p, end); err != nil {
			return StatusReport{}, err
		}
		switch num {
		case repChangefeed:
			s, p, err = d.str(msgReport, "changefeed", typ, p, end)
			rep.Changefeed = ops.ChangefeedID(s)
		case repNode:
			s, p, err = d.str(msgReport, "node", typ, p, end)
			rep.Node = ops.NodeID(s)
		case repEpoch:
			v, p, err = d.varint(msgReport, "epoch", typ, p, end)
			rep.Epoch = ops.Epoch(v)
		case repStatuses:
			var start int
			if start, p, err = d.bytes(msgReport, "statuses", typ, p, end); err == nil {
				rep.Statuses = append(rep.Statuses, ops.Status{})
				err = d.status(start, p, &rep.Statuses[len(rep.Statuses)-1])
			}
		default:
			p, err = d.skip(msgReport, "", num, typ, p, end)
		}
		if err != nil {
			return StatusReport{}, err
		}
	}
	if err := rep.Validate(); err != nil {
		return StatusReport{}, err
	}
	return rep, nil
}

// status decodes one Status of a report into st.
func (d *decoder) status(p, end int, st *ops.Status) error {
	var (
		state uint64
		s     string
		err   error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgReport, p, end); err != nil {
			return err
		}
		switch num {
		case stID:
			s, p, err = d.str(msgReport, "statuses", typ, p, end)
			st.ID = ops.DispatcherID(s)
		case stState:
			state, p, err = d.varint(msgReport, "state", typ, p, end)
		case stCheckpoint:
			st.Checkpoint, p, err = d.varint(msgReport, "statuses", typ, p, end)
		default:
			p, err = d.skip(msgReport, "", num, typ, p, end)
		}
		if err != nil {
			return err
		}
	}
	if state == 0 || state > uint64(maxState)+1 {
		return decodeErr(msgReport, "state", fmt.Errorf("%w: %s", ops.ErrUnknownComponentState, enumValue("COMPONENT_STATE", state)))
	}
	st.State = ops.ComponentState(state - 1)
	return nil
}

func (d *decoder) answer(p, end int) (BootstrapAnswer, error) {
	var counts [len(answerFields)]int
	if err := d.scan(msgAnswer, answerFields[:], p, end, counts[:]); err != nil {
		return BootstrapAnswer{}, err
	}
	var (
		a          BootstrapAnswer
		nd, nr, nm int
		v          uint64
		s          string
		err        error
	)
	if n := counts[ansDispatchers]; n > 0 {
		a.Dispatchers = make([]Dispatcher, n)
	}
	if n := counts[ansRemoves]; n > 0 {
		a.Removes = make([]ops.Record, n)
	}
	if n := counts[ansMerges]; n > 0 {
		a.Merges = make([]ops.Record, n)
	}
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgAnswer, p, end); err != nil {
			return BootstrapAnswer{}, err
		}
		switch num {
		case ansNode:
			s, p, err = d.str(msgAnswer, "node", typ, p, end)
			a.Node = ops.NodeID(s)
		case ansChangefeed:
			s, p, err = d.str(msgAnswer, "changefeed", typ, p, end)
			a.Changefeed = ops.ChangefeedID(s)
		case ansEpoch:
			v, p, err = d.varint(msgAnswer, "epoch", typ, p, end)
			a.Epoch = ops.Epoch(v)
		case ansDispatchers:
			var start int
			if start, p, err = d.bytes(msgAnswer, "dispatchers", typ, p, end); err == nil && nd < len(a.Dispatchers) {
				err = d.dispatcher(start, p, &a.Dispatchers[nd])
				nd++
			}
		case ansRemoves, ansMerges:
			list, n, name := a.Removes, &nr, "removes"
			if num == ansMerges {
				list, n, name = a.Merges, &nm, "merges"
			}
			var start int
			if start, p, err = d.bytes(msgAnswer, name, typ, p, end); err == nil && *n < len(list) {
				var st recordState
				if err = d.record(start, p, &list[*n], &st); err == nil {
					err = st.finish(&list[*n])
				}
				*n++
			}
		default:
			p, err = d.skip(msgAnswer, "", num, typ, p, end)
		}
		if err != nil {
			return BootstrapAnswer{}, err
		}
	}
	if nd != len(a.Dispatchers) || nr != len(a.Removes) || nm != len(a.Merges) { // cannot happen: scan counted these
		return BootstrapAnswer{}, malformed(msgAnswer, "", "%d dispatchers, %d removes and %d merges decoded of %d, %d and %d",
			nd, nr, nm, len(a.Dispatchers), len(a.Removes), len(a.Merges))
	}
	if err := a.Validate(); err != nil {
		return BootstrapAnswer{}, err
	}
	return a, nil
}

// dispatcher decodes one Dispatcher into out, which is zero.
func (d *decoder) dispatcher(p, end int, out *Dispatcher) error {
	var (
		state, v uint64
		hasSpan  bool
		s        string
		err      error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgDispatcher, p, end); err != nil {
			return err
		}
		switch num {
		case dispID:
			s, p, err = d.str(msgDispatcher, "id", typ, p, end)
			out.ID = ops.DispatcherID(s)
		case dispSpan:
			var start int
			if start, p, err = d.bytes(msgDispatcher, "span", typ, p, end); err == nil {
				err = d.span(msgDispatcher, "span", start, p, &out.Span)
				hasSpan = true
			}
		case dispState:
			state, p, err = d.varint(msgDispatcher, "state", typ, p, end)
		case dispRemoving:
			v, p, err = d.varint(msgDispatcher, "removing", typ, p, end)
			out.Removing = v != 0
		case dispCheckpoint:
			out.Checkpoint, p, err = d.varint(msgDispatcher, "checkpoint", typ, p, end)
		default:
			p, err = d.skip(msgDispatcher, "", num, typ, p, end)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case out.ID == "":
		return decodeErr(msgDispatcher, "id", fsm.ErrMissingField)
	case !hasSpan:
		return decodeErr(msgDispatcher, "span", fsm.ErrMissingField)
	case state == 0 || state > uint64(maxState)+1:
		return decodeErr(msgDispatcher, "state", fmt.Errorf("%w: %s", ops.ErrUnknownComponentState, enumValue("COMPONENT_STATE", state)))
	}
	out.State = ops.ComponentState(state - 1)
	return nil
}

func (d *decoder) snapshot(p, end int) (Snapshot, error) {
	var counts [len(snapshotFields)]int
	if err := d.scan(msgSnapshot, snapshotFields[:], p, end, counts[:]); err != nil {
		return Snapshot{}, err
	}
	var (
		snap Snapshot
		na   int
		v    uint64
		s    string
		err  error
	)
	if n := counts[snapTables]; n > 0 {
		snap.Tables = make([]ops.TableID, 0, n)
	}
	if n := counts[snapAnswers]; n > 0 {
		snap.Answers = make([]BootstrapAnswer, n)
	}
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgSnapshot, p, end); err != nil {
			return Snapshot{}, err
		}
		switch num {
		case snapChangefeed:
			s, p, err = d.str(msgSnapshot, "changefeed", typ, p, end)
			snap.Changefeed = ops.ChangefeedID(s)
		case snapEpoch:
			v, p, err = d.varint(msgSnapshot, "epoch", typ, p, end)
			snap.Epoch = ops.Epoch(v)
		case snapCheckpoint:
			snap.Checkpoint, p, err = d.varint(msgSnapshot, "checkpoint", typ, p, end)
		case snapTables:
			if typ == protowire.VarintType {
				v, p, err = d.varint(msgSnapshot, "tables", typ, p, end)
				snap.Tables = append(snap.Tables, ops.TableID(v))
				break
			}
			var start int
			if start, p, err = d.bytes(msgSnapshot, "tables", typ, p, end); err == nil {
				for q := start; q < p && err == nil; {
					v, q, err = d.varint(msgSnapshot, "tables", protowire.VarintType, q, p)
					snap.Tables = append(snap.Tables, ops.TableID(v))
				}
			}
		case snapAnswers:
			var start int
			if start, p, err = d.bytes(msgSnapshot, "answers", typ, p, end); err == nil && na < len(snap.Answers) {
				snap.Answers[na], err = d.answer(start, p)
				na++
			}
		default:
			p, err = d.skip(msgSnapshot, "", num, typ, p, end)
		}
		if err != nil {
			return Snapshot{}, err
		}
	}
	return snap, nil
}
