package protocol

import (
	"fmt"
	"strconv"
	"unicode/utf8"

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

// recordState is what decoding a record keeps until its last field: a record field may
// come in pieces (protobuf merges repeated occurrences of a message field), so the enums
// are checked and converted, and the span's presence judged, once all are read.
type recordState struct {
	typ, hook uint64
	hasSpan   bool
}

// record decodes (merges) one Record into r.
func (d *decoder) record(p, end int, r *ops.Record, st *recordState) error {
	var (
		v   uint64
		s   string
		err error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msgRecord, p, end); err != nil {
			return err
		}
		switch num {
		case recChangefeed:
			s, p, err = d.str(msgRecord, "changefeed", typ, p, end)
			r.Changefeed = ops.ChangefeedID(s)
		case recID:
			s, p, err = d.str(msgRecord, "id", typ, p, end)
			r.ID = ops.DispatcherID(s)
		case recType:
			st.typ, p, err = d.varint(msgRecord, "type", typ, p, end)
		case recState:
			r.State, p, err = d.str(msgRecord, "state", typ, p, end)
		case recEpoch:
			v, p, err = d.varint(msgRecord, "epoch", typ, p, end)
			r.Epoch = ops.Epoch(v)
		case recSpan:
			var start int
			if start, p, err = d.bytes(msgRecord, "span", typ, p, end); err == nil {
				err = d.span(msgRecord, "span", start, p, &r.Span)
				st.hasSpan = true
			}
		case recOrigin:
			s, p, err = d.str(msgRecord, "origin", typ, p, end)
			r.Origin = ops.NodeID(s)
		case recDest:
			s, p, err = d.str(msgRecord, "dest", typ, p, end)
			r.Dest = ops.NodeID(s)
		case recSplitSpans:
			var start int
			if start, p, err = d.bytes(msgRecord, "splitSpans", typ, p, end); err == nil {
				r.SplitSpans = append(r.SplitSpans, ops.Span{})
				err = d.span(msgRecord, "splitSpans", start, p, &r.SplitSpans[len(r.SplitSpans)-1])
			}
		case recSplitTargets:
			s, p, err = d.str(msgRecord, "splitTargets", typ, p, end)
			r.SplitTargets = append(r.SplitTargets, ops.NodeID(s))
		case recSources:
			s, p, err = d.str(msgRecord, "sources", typ, p, end)
			r.Sources = append(r.Sources, ops.DispatcherID(s))
		case recHook:
			st.hook, p, err = d.varint(msgRecord, "hook", typ, p, end)
		case recCheckpoint:
			r.Checkpoint, p, err = d.varint(msgRecord, "checkpoint", typ, p, end)
		default:
			p, err = d.skip(msgRecord, "", num, typ, p, end)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finish checks a decoded record's enums and span, converts its enums, and validates it.
func (st *recordState) finish(r *ops.Record) error {
	switch {
	case st.typ == 0 || st.typ > uint64(maxType)+1:
		return decodeErr(msgRecord, "type", fmt.Errorf("%w: %s", ops.ErrUnknownType, enumValue("OPERATOR_TYPE", st.typ)))
	case st.hook == 0 || st.hook > uint64(maxHook)+1:
		return decodeErr(msgRecord, "hook", fmt.Errorf("%w: %s", ops.ErrInvalidRecord, enumValue("REMOVE_HOOK", st.hook)))
	case !st.hasSpan:
		return decodeErr(msgRecord, "span", fsm.ErrMissingField)
	}
	r.Type, r.Hook = ops.Type(st.typ-1), ops.RemoveHook(st.hook-1)
	return r.Validate()
}

// span decodes (merges) one Span into sp; msg and name are its message and field.
func (d *decoder) span(msg, name string, p, end int, sp *ops.Span) error {
	var (
		v   uint64
		err error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msg, p, end); err != nil {
			return err
		}
		switch num {
		case spanTable:
			v, p, err = d.varint(msg, name, typ, p, end)
			sp.Table = ops.TableID(v)
		case spanStart:
			sp.Start, p, err = d.str(msg, name, typ, p, end)
		case spanEnd:
			sp.End, p, err = d.str(msg, name, typ, p, end)
		default:
			p, err = d.skip(msg, "", num, typ, p, end)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scan walks the top-level fields of the message in [p, end): it checks their framing
// and the wire types of the known ones (fields, indexed by number), counts the
// occurrences of each known field (the elements, for a packed one) into counts, and
// checks the version (field 1 of every top-level message; the last one counts, as in
// protobuf).
func (d *decoder) scan(msg string, fields []field, p, end int, counts []int) error {
	var (
		version uint64
		err     error
	)
	for p < end {
		var num protowire.Number
		var typ protowire.Type
		if num, typ, p, err = d.tag(msg, p, end); err != nil {
			return err
		}
		if int(num) >= len(fields) || fields[num].name == "" {
			if p, err = d.skip(msg, "", num, typ, p, end); err != nil {
				return err
			}
			continue
		}
		f := &fields[num]
		switch {
		case f.packed && typ == protowire.BytesType:
			var start int
			if start, p, err = d.bytes(msg, f.name, typ, p, end); err != nil {
				return err
			}
			for _, c := range d.b[start:p] {
				if c < 0x80 {
					counts[num]++
				}
			}
			continue
		case typ != f.typ:
			return malformed(msg, f.name, "wire type %d, want %d", typ, f.typ)
		case num == 1:
			version, p, err = d.varint(msg, f.name, typ, p, end)
		default:
			p, err = d.skip(msg, f.name, num, typ, p, end)
		}
		if err != nil {
			return err
		}
		counts[num]++
	}
	if version != Version {
		return decodeErr(msg, "version", fmt.Errorf("%w: %d (want %d)", fsm.ErrUnknownVersion, version, Version))
	}
	return nil
}

// tag reads a field's tag at p and returns the position after it.
func (d *decoder) tag(msg string, p, end int) (protowire.Number, protowire.Type, int, error) {
	b := d.b[p:end]
	if len(b) > 0 && b[0] < 0x80 && b[0] >= 1<<3 { // one byte, field number 1 to 15
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), p + 1, nil
	}
	num, typ, n := protowire.ConsumeTag(b)
	switch {
	case n < 0:
		return 0, 0, 0, wireErr(msg, "", n)
	case num > protowire.MaxValidNumber: // ConsumeTag lets these through; protobuf does not
		return 0, 0, 0, malformed(msg, "", "field number %d", num)
	}
	return num, typ, p + n, nil
}

// varint reads the value of a varint field (name) of wire type typ at p.
func (d *decoder) varint(msg, name string, typ protowire.Type, p, end int) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, malformed(msg, name, "wire type %d, want %d", typ, protowire.VarintType)
	}
	b := d.b[p:end]
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), p + 1, nil
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, wireErr(msg, name, n)
	}
	return v, p + n, nil
}

// bytes reads the length of a length-delimited field (name) of wire type typ at p and
// returns its payload's range [start, stop).
func (d *decoder) bytes(msg, name string, typ protowire.Type, p, end int) (int, int, error) {
	if typ != protowire.BytesType {
		return 0, 0, malformed(msg, name, "wire type %d, want %d", typ, protowire.BytesType)
	}
	b := d.b[p:end]
	var (
		l uint64
		n int
	)
	if len(b) > 0 && b[0] < 0x80 {
		l, n = uint64(b[0]), 1
	} else if l, n = protowire.ConsumeVarint(b); n < 0 {
		return 0, 0, wireErr(msg, name, n)
	}
	if l > uint64(len(b)-n) {
		return 0, 0, malformed(msg, name, "%d bytes announced, %d left", l, len(b)-n)
	}
	return p + n, p + n + int(l), nil
}

// str reads a string field (name) at p: a substring of d.s, checked to be UTF-8.
func (d *decoder) str(msg, name string, typ protowire.Type, p, end int) (string, int, error) {
	start, stop, err := d.bytes(msg, name, typ, p, end)
	if err != nil {
		return "", 0, err
	}
	s := d.s[start:stop]
	if !utf8.ValidString(s) {
		return "", 0, malformed(msg, name, "a string is not UTF-8")
	}
	return s, stop, nil
}

// skip skips the value of field num at p: an unknown field (name "": errors name its
// number), or a known one already read.
func (d *decoder) skip(msg, name string, num protowire.Number, typ protowire.Type, p, end int) (int, error) {
	n := protowire.ConsumeFieldValue(num, typ, d.b[p:end])
	if n < 0 {
		if name == "" {
			name = strconv.Itoa(int(num))
		}
		return 0, wireErr(msg, name, n)
	}
	return p + n, nil
}

// enumValue names a wire enum value in errors: 0 is the UNSPECIFIED value.
func enumValue(enum string, v uint64) string {
	if v == 0 {
		return enum + "_UNSPECIFIED (missing)"
	}
	return strconv.FormatUint(v, 10)
}
