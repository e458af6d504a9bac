package protocol

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// The pieces every message decoder uses: records and spans nested anywhere, the scan of a
// top-level message, and the reads of single fields with their checks.

// recordState is what decoding a record keeps until its last field: a record field may
// come in pieces (protobuf merges repeated occurrences of a message field), so the enums
// are checked and converted, and the span's presence judged, once all are read.
type recordState struct {
	typ, hook uint64
	state     string
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
			st.state, p, err = d.str(msgRecord, "state", typ, p, end)
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
	def, err := ops.Definition(r.Type)
	if err != nil {
		return decodeErr(msgRecord, "type", err)
	}
	if r.State, err = def.StateByName(st.state); err != nil {
		return decodeErr(msgRecord, "state", err)
	}
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
