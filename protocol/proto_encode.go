package protocol

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
)

// Encoding: check (the schema can carry the message: strings are UTF-8, enums known),
// size, grow the buffer once, append. Fields go in field-number order; zero scalars are
// left out, the version, the enums (never 0 on the wire) and the required spans and
// records are always written: the bytes proto.Marshal writes for the same message.

// MarshalBinary encodes the request in its protobuf form (protocol.proto's Request).
// It fails on a string that is not UTF-8 or an unknown enum value, which the schema
// cannot carry; it does not validate the request otherwise. A Bootstrap is written
// without its record, as in JSON.
func (r Request) MarshalBinary() ([]byte, error) { return r.AppendBinary(nil) }

// AppendBinary appends the request's protobuf form to b (see MarshalBinary). On error
// it returns b unchanged.
func (r Request) AppendBinary(b []byte) ([]byte, error) {
	if err := r.checkProto(); err != nil {
		return b, err
	}
	b = slices.Grow(b, r.protoSize())
	b = appendVersion(b, reqVersion)
	b = appendStr(b, reqChangefeed, string(r.Changefeed))
	b = appendVar(b, reqEpoch, uint64(r.Epoch))
	b = appendVar(b, reqKind, uint64(r.Kind)+1)
	if r.Kind != Bootstrap {
		b = protowire.AppendTag(b, reqRecord, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeRecord(&r.Record)))
		b = appendRecord(b, &r.Record)
	}
	return b, nil
}

func (r *Request) checkProto() error {
	switch {
	case r.Kind > maxKind:
		return encodeErr(msgRequest, "kind", fmt.Errorf("%w: %d", ErrUnknownKind, r.Kind))
	case !utf8.ValidString(string(r.Changefeed)):
		return badUTF8(msgRequest, "changefeed")
	case r.Kind != Bootstrap:
		return checkRecord(&r.Record)
	}
	return nil
}

func (r *Request) protoSize() int {
	n := sizeVersion(reqVersion) + sizeStr(reqChangefeed, string(r.Changefeed)) + sizeVar(reqEpoch, uint64(r.Epoch)) +
		sizeVar(reqKind, uint64(r.Kind)+1)
	if r.Kind != Bootstrap {
		n += sizeMsg(reqRecord, sizeRecord(&r.Record))
	}
	return n
}

// MarshalBinary encodes the report in its protobuf form (protocol.proto's StatusReport).
// It fails on a string that is not UTF-8 or an unknown state, which the schema cannot
// carry; it does not validate the report otherwise.
func (s StatusReport) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the report's protobuf form to b (see MarshalBinary). On error it
// returns b unchanged.
func (s StatusReport) AppendBinary(b []byte) ([]byte, error) {
	if err := s.checkProto(); err != nil {
		return b, err
	}
	b = slices.Grow(b, s.protoSize())
	b = appendVersion(b, repVersion)
	b = appendStr(b, repChangefeed, string(s.Changefeed))
	b = appendStr(b, repNode, string(s.Node))
	b = appendVar(b, repEpoch, uint64(s.Epoch))
	for i := range s.Statuses {
		st := &s.Statuses[i]
		b = protowire.AppendTag(b, repStatuses, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeStatus(st)))
		b = appendStr(b, stID, string(st.ID))
		b = appendVar(b, stState, uint64(st.State)+1)
		b = appendVar(b, stCheckpoint, st.Checkpoint)
	}
	return b, nil
}

func (s *StatusReport) checkProto() error {
	if !utf8.ValidString(string(s.Changefeed)) {
		return badUTF8(msgReport, "changefeed")
	}
	if !utf8.ValidString(string(s.Node)) {
		return badUTF8(msgReport, "node")
	}
	for i := range s.Statuses {
		st := &s.Statuses[i]
		if st.State > maxState {
			return encodeErr(msgReport, "state", fmt.Errorf("%w: %d", ops.ErrUnknownComponentState, st.State))
		}
		if !utf8.ValidString(string(st.ID)) {
			return badUTF8(msgReport, "statuses")
		}
	}
	return nil
}

func (s *StatusReport) protoSize() int {
	n := sizeVersion(repVersion) + sizeStr(repChangefeed, string(s.Changefeed)) + sizeStr(repNode, string(s.Node)) +
		sizeVar(repEpoch, uint64(s.Epoch))
	for i := range s.Statuses {
		n += sizeMsg(repStatuses, sizeStatus(&s.Statuses[i]))
	}
	return n
}

func sizeStatus(st *ops.Status) int {
	return sizeStr(stID, string(st.ID)) + sizeVar(stState, uint64(st.State)+1) + sizeVar(stCheckpoint, st.Checkpoint)
}

// MarshalBinary encodes the answer in its protobuf form (protocol.proto's
// BootstrapAnswer). It fails on a string that is not UTF-8 or an unknown enum value,
// which the schema cannot carry; it does not validate the answer otherwise.
func (a BootstrapAnswer) MarshalBinary() ([]byte, error) { return a.AppendBinary(nil) }

// AppendBinary appends the answer's protobuf form to b (see MarshalBinary). On error it
// returns b unchanged.
func (a BootstrapAnswer) AppendBinary(b []byte) ([]byte, error) {
	if err := a.checkProto(); err != nil {
		return b, err
	}
	b = slices.Grow(b, a.protoSize())
	return a.appendProto(b), nil
}

func (a *BootstrapAnswer) checkProto() error {
	if !utf8.ValidString(string(a.Node)) {
		return badUTF8(msgAnswer, "node")
	}
	if !utf8.ValidString(string(a.Changefeed)) {
		return badUTF8(msgAnswer, "changefeed")
	}
	for i := range a.Dispatchers {
		d := &a.Dispatchers[i]
		switch {
		case d.State > maxState:
			return encodeErr(msgDispatcher, "state", fmt.Errorf("%w: %d", ops.ErrUnknownComponentState, d.State))
		case !utf8.ValidString(string(d.ID)):
			return badUTF8(msgDispatcher, "id")
		}
		if err := checkSpan(msgDispatcher, "span", d.Span); err != nil {
			return err
		}
	}
	for i := range a.Removes {
		if err := checkRecord(&a.Removes[i]); err != nil {
			return err
		}
	}
	for i := range a.Merges {
		if err := checkRecord(&a.Merges[i]); err != nil {
			return err
		}
	}
	return nil
}

func (a *BootstrapAnswer) protoSize() int {
	n := sizeVersion(ansVersion) + sizeStr(ansNode, string(a.Node)) + sizeStr(ansChangefeed, string(a.Changefeed)) +
		sizeVar(ansEpoch, uint64(a.Epoch))
	for i := range a.Dispatchers {
		n += sizeMsg(ansDispatchers, sizeDispatcher(&a.Dispatchers[i]))
	}
	for i := range a.Removes {
		n += sizeMsg(ansRemoves, sizeRecord(&a.Removes[i]))
	}
	for i := range a.Merges {
		n += sizeMsg(ansMerges, sizeRecord(&a.Merges[i]))
	}
	return n
}

func (a *BootstrapAnswer) appendProto(b []byte) []byte {
	b = appendVersion(b, ansVersion)
	b = appendStr(b, ansNode, string(a.Node))
	b = appendStr(b, ansChangefeed, string(a.Changefeed))
	b = appendVar(b, ansEpoch, uint64(a.Epoch))
	for i := range a.Dispatchers {
		d := &a.Dispatchers[i]
		b = protowire.AppendTag(b, ansDispatchers, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeDispatcher(d)))
		b = appendStr(b, dispID, string(d.ID))
		b = appendSpan(b, dispSpan, d.Span)
		b = appendVar(b, dispState, uint64(d.State)+1)
		if d.Removing {
			b = appendVar(b, dispRemoving, 1)
		}
		b = appendVar(b, dispCheckpoint, d.Checkpoint)
	}
	for i := range a.Removes {
		b = protowire.AppendTag(b, ansRemoves, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeRecord(&a.Removes[i])))
		b = appendRecord(b, &a.Removes[i])
	}
	for i := range a.Merges {
		b = protowire.AppendTag(b, ansMerges, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeRecord(&a.Merges[i])))
		b = appendRecord(b, &a.Merges[i])
	}
	return b
}

func sizeDispatcher(d *Dispatcher) int {
	n := sizeStr(dispID, string(d.ID)) + sizeMsg(dispSpan, sizeSpan(d.Span)) + sizeVar(dispState, uint64(d.State)+1) +
		sizeVar(dispCheckpoint, d.Checkpoint)
	if d.Removing {
		n += 2
	}
	return n
}

// MarshalBinary encodes the snapshot in its protobuf form (protocol.proto's Snapshot),
// its tables packed. It fails on a string that is not UTF-8 or an unknown enum value,
// which the schema cannot carry; it does not validate the snapshot otherwise.
func (s Snapshot) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the snapshot's protobuf form to b (see MarshalBinary). On error
// it returns b unchanged.
func (s Snapshot) AppendBinary(b []byte) ([]byte, error) {
	if !utf8.ValidString(string(s.Changefeed)) {
		return b, badUTF8(msgSnapshot, "changefeed")
	}
	for i := range s.Answers {
		if err := s.Answers[i].checkProto(); err != nil {
			return b, err
		}
	}
	tables := 0
	for _, t := range s.Tables {
		tables += protowire.SizeVarint(uint64(t))
	}
	n := sizeVersion(snapVersion) + sizeStr(snapChangefeed, string(s.Changefeed)) + sizeVar(snapEpoch, uint64(s.Epoch)) +
		sizeVar(snapCheckpoint, s.Checkpoint)
	if tables > 0 {
		n += sizeMsg(snapTables, tables)
	}
	for i := range s.Answers {
		n += sizeMsg(snapAnswers, s.Answers[i].protoSize())
	}
	b = slices.Grow(b, n)
	b = appendVersion(b, snapVersion)
	b = appendStr(b, snapChangefeed, string(s.Changefeed))
	b = appendVar(b, snapEpoch, uint64(s.Epoch))
	b = appendVar(b, snapCheckpoint, s.Checkpoint)
	if tables > 0 {
		b = protowire.AppendTag(b, snapTables, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(tables))
		for _, t := range s.Tables {
			b = protowire.AppendVarint(b, uint64(t))
		}
	}
	for i := range s.Answers {
		a := &s.Answers[i]
		b = protowire.AppendTag(b, snapAnswers, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(a.protoSize()))
		b = a.appendProto(b)
	}
	return b, nil
}

// stateDeclared reports whether r's state is one of its type's states.
func stateDeclared(r *ops.Record) bool {
	def, err := ops.Definition(r.Type)
	return err == nil && def.Declares(r.State)
}

// checkRecord checks that the schema can carry r.
func checkRecord(r *ops.Record) error {
	switch {
	case r.Type > maxType:
		return encodeErr(msgRecord, "type", fmt.Errorf("%w: %d", ops.ErrUnknownType, r.Type))
	case r.Hook > maxHook:
		return encodeErr(msgRecord, "hook", fmt.Errorf("%w: hook %d", ops.ErrInvalidRecord, r.Hook))
	case !utf8.ValidString(string(r.Changefeed)):
		return badUTF8(msgRecord, "changefeed")
	case !utf8.ValidString(string(r.ID)):
		return badUTF8(msgRecord, "id")
	case !stateDeclared(r):
		return encodeErr(msgRecord, "state", fmt.Errorf("%w: %s", fsm.ErrUnknownState, r.StateName()))
	case !utf8.ValidString(string(r.Origin)):
		return badUTF8(msgRecord, "origin")
	case !utf8.ValidString(string(r.Dest)):
		return badUTF8(msgRecord, "dest")
	}
	if err := checkSpan(msgRecord, "span", r.Span); err != nil {
		return err
	}
	for _, sp := range r.SplitSpans {
		if err := checkSpan(msgRecord, "splitSpans", sp); err != nil {
			return err
		}
	}
	for _, t := range r.SplitTargets {
		if !utf8.ValidString(string(t)) {
			return badUTF8(msgRecord, "splitTargets")
		}
	}
	for _, s := range r.Sources {
		if !utf8.ValidString(string(s)) {
			return badUTF8(msgRecord, "sources")
		}
	}
	return nil
}

func sizeRecord(r *ops.Record) int {
	n := sizeStr(recChangefeed, string(r.Changefeed)) + sizeStr(recID, string(r.ID)) + sizeVar(recType, uint64(r.Type)+1) +
		sizeStr(recState, r.StateName()) + sizeVar(recEpoch, uint64(r.Epoch)) + sizeMsg(recSpan, sizeSpan(r.Span)) +
		sizeStr(recOrigin, string(r.Origin)) + sizeStr(recDest, string(r.Dest)) + sizeVar(recHook, uint64(r.Hook)+1) +
		sizeVar(recCheckpoint, r.Checkpoint)
	for _, sp := range r.SplitSpans {
		n += sizeMsg(recSplitSpans, sizeSpan(sp))
	}
	// Repeated strings are written even when empty (proto3 omits only singular zeros).
	for _, t := range r.SplitTargets {
		n += protowire.SizeTag(recSplitTargets) + protowire.SizeBytes(len(t))
	}
	for _, s := range r.Sources {
		n += protowire.SizeTag(recSources) + protowire.SizeBytes(len(s))
	}
	return n
}

func appendRecord(b []byte, r *ops.Record) []byte {
	b = appendStr(b, recChangefeed, string(r.Changefeed))
	b = appendStr(b, recID, string(r.ID))
	b = appendVar(b, recType, uint64(r.Type)+1)
	b = appendStr(b, recState, r.StateName())
	b = appendVar(b, recEpoch, uint64(r.Epoch))
	b = appendSpan(b, recSpan, r.Span)
	b = appendStr(b, recOrigin, string(r.Origin))
	b = appendStr(b, recDest, string(r.Dest))
	for _, sp := range r.SplitSpans {
		b = appendSpan(b, recSplitSpans, sp)
	}
	for _, t := range r.SplitTargets {
		b = protowire.AppendTag(b, recSplitTargets, protowire.BytesType)
		b = protowire.AppendString(b, string(t))
	}
	for _, s := range r.Sources {
		b = protowire.AppendTag(b, recSources, protowire.BytesType)
		b = protowire.AppendString(b, string(s))
	}
	b = appendVar(b, recHook, uint64(r.Hook)+1)
	return appendVar(b, recCheckpoint, r.Checkpoint)
}

func checkSpan(msg, field string, s ops.Span) error {
	if !utf8.ValidString(s.Start) || !utf8.ValidString(s.End) {
		return badUTF8(msg, field)
	}
	return nil
}

func sizeSpan(s ops.Span) int {
	return sizeVar(spanTable, uint64(s.Table)) + sizeStr(spanStart, s.Start) + sizeStr(spanEnd, s.End)
}

// appendSpan appends span s as field num, always (a span is required where it appears).
func appendSpan(b []byte, num protowire.Number, s ops.Span) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(sizeSpan(s)))
	b = appendVar(b, spanTable, uint64(s.Table))
	b = appendStr(b, spanStart, s.Start)
	return appendStr(b, spanEnd, s.End)
}

func badUTF8(msg, field string) error {
	return encodeErr(msg, field, fmt.Errorf("%w: a string is not UTF-8", ErrInvalidMessage))
}

// sizeVersion and appendVersion write the version, always.
func sizeVersion(num protowire.Number) int {
	return protowire.SizeTag(num) + protowire.SizeVarint(Version)
}

func appendVersion(b []byte, num protowire.Number) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), Version)
}

// sizeStr, sizeVar, appendStr and appendVar leave a zero scalar out.
func sizeStr(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

func sizeVar(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func sizeMsg(num protowire.Number, n int) int { return protowire.SizeTag(num) + protowire.SizeBytes(n) }

func appendStr(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendVar(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}
