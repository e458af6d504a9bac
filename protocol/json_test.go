package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestJSONRoundTrip: random messages of every type decode to what was encoded.
func TestJSONRoundTrip(t *testing.T) {
	g := newGen(1)
	for i := range 300 {
		req := g.request()
		var gotReq protocol.Request
		roundTripJSON(t, req, &gotReq)
		require.Equal(t, normRequest(req), normRequest(gotReq), "request %d", i)

		rep := g.report(g.r.IntN(20))
		var gotRep protocol.StatusReport
		roundTripJSON(t, rep, &gotRep)
		require.Equal(t, normReport(rep), normReport(gotRep), "report %d", i)

		ans := g.answer(g.r.IntN(20), 3)
		var gotAns protocol.BootstrapAnswer
		roundTripJSON(t, ans, &gotAns)
		require.Equal(t, normAnswer(ans), normAnswer(gotAns), "answer %d", i)

		snap := g.snapshot()
		var gotSnap protocol.Snapshot
		roundTripJSON(t, snap, &gotSnap)
		require.Equal(t, normSnapshot(snap), normSnapshot(gotSnap), "snapshot %d", i)
	}
}

func roundTripJSON(t *testing.T, v any, out any) {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, out), "%s", data)
}

// requireDecodeError checks that err is a *fsm.DecodeError of message msg and field
// field, wrapping sentinel.
func requireDecodeError(t *testing.T, err error, sentinel error, msg, field string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var de *fsm.DecodeError
	require.True(t, errors.As(err, &de), "%T is not a *fsm.DecodeError: %v", err, err)
	require.Equal(t, msg, de.Record, "%v", err)
	require.Equal(t, field, de.Field, "%v", err)
}

const (
	addRecordJSON    = `{"v":1,"type":"add","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"},"dest":"B"}`
	removeRecordJSON = `{"v":1,"type":"remove","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"},"origin":"A","hook":"Delete"}`
	dispatcherJSON   = `{"id":"d1","span":{"table":1,"start":"a","end":"b"},"state":"Working"}`
)

// TestJSONRejects: each class of bad input is refused with the right sentinel, message
// and field, and leaves the receiver as it was.
func TestJSONRejects(t *testing.T) {
	tests := []struct {
		name, in string
		into     func() any // a fresh receiver
		sentinel error
		msg      string
		field    string
	}{
		{"request: not JSON", `{"v":1,`, newRequest, fsm.ErrMalformed, "request", ""},
		{"request: not an object", `[1]`, newRequest, fsm.ErrMalformed, "request", ""},
		{"request: future version", `{"v":2,"changefeed":"cf","epoch":7,"kind":"Bootstrap"}`, newRequest, fsm.ErrUnknownVersion, "request", "v"},
		{"request: no version", `{"changefeed":"cf","epoch":7,"kind":"Bootstrap"}`, newRequest, fsm.ErrMissingField, "request", "v"},
		{"request: missing epoch", `{"v":1,"changefeed":"cf","kind":"Bootstrap"}`, newRequest, fsm.ErrMissingField, "request", "epoch"},
		{"request: epoch 0", `{"v":1,"changefeed":"cf","epoch":0,"kind":"Bootstrap"}`, newRequest, protocol.ErrInvalidMessage, "request", "epoch"},
		{"request: unknown field", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Bootstrap","urgent":true}`, newRequest, fsm.ErrUnknownField, "request", "urgent"},
		{"request: unknown kind", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Explode"}`, newRequest, protocol.ErrUnknownKind, "request", "kind"},
		{"request: create without record", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Create"}`, newRequest, fsm.ErrMissingField, "request", "record"},
		{"request: record of another epoch", `{"v":1,"changefeed":"cf","epoch":8,"kind":"Create","record":` + addRecordJSON + `}`,
			newRequest, protocol.ErrEpochMismatch, "request", "record"},
		{"request: record of another changefeed", `{"v":1,"changefeed":"cf2","epoch":7,"kind":"Create","record":` + addRecordJSON + `}`,
			newRequest, protocol.ErrEpochMismatch, "request", "record"},
		{"request: bootstrap with a record", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Bootstrap","record":` + addRecordJSON + `}`,
			newRequest, protocol.ErrInvalidMessage, "request", "record"},
		{"request: create without destination", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Create","record":` + removeRecordJSON + `}`,
			newRequest, protocol.ErrInvalidMessage, "request", "record"},
		{"request: merge with an add record", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Merge","record":` + addRecordJSON + `}`,
			newRequest, protocol.ErrInvalidMessage, "request", "record"},
		{"request: invalid record", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Create","record":{"v":1,"type":"add","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"}}}`,
			newRequest, ops.ErrInvalidRecord, "operator record", "dest"},
		{"request: unknown operator type", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Create","record":{"v":1,"type":"teleport","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"},"dest":"B"}}`,
			newRequest, ops.ErrUnknownType, "operator record", "type"},
		{"request: unknown hook", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Remove","record":{"v":1,"type":"remove","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"},"origin":"A","hook":"Explode"}}`,
			newRequest, ops.ErrInvalidRecord, "operator record", "hook"},
		{"request: trailing data", `{"v":1,"changefeed":"cf","epoch":7,"kind":"Bootstrap"} {}`, newRequest, fsm.ErrMalformed, "request", ""},

		{"report: future version", `{"v":2,"changefeed":"cf","node":"A","epoch":7,"statuses":[]}`, newReport, fsm.ErrUnknownVersion, "status report", "v"},
		{"report: missing statuses", `{"v":1,"changefeed":"cf","node":"A","epoch":7}`, newReport, fsm.ErrMissingField, "status report", "statuses"},
		{"report: empty node", `{"v":1,"changefeed":"cf","node":"","epoch":7,"statuses":[]}`, newReport, fsm.ErrMissingField, "status report", "node"},
		{"report: unknown component state", `{"v":1,"changefeed":"cf","node":"A","epoch":7,"statuses":[{"id":"d1","state":"Dancing"}]}`,
			newReport, ops.ErrUnknownComponentState, "status report", "state"},
		{"report: status without id", `{"v":1,"changefeed":"cf","node":"A","epoch":7,"statuses":[{"id":"","state":"Working"}]}`,
			newReport, protocol.ErrInvalidMessage, "status report", "statuses"},
		{"report: unknown status field", `{"v":1,"changefeed":"cf","node":"A","epoch":7,"statuses":[{"id":"d1","state":"Working","mood":"ok"}]}`,
			newReport, fsm.ErrUnknownField, "status report", "mood"},

		{"answer: not JSON", `nope`, newAnswer, fsm.ErrMalformed, "bootstrap answer", ""},
		{"answer: future version", `{"v":3,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[],"removes":[],"merges":[]}`,
			newAnswer, fsm.ErrUnknownVersion, "bootstrap answer", "v"},
		{"answer: missing merges", `{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[],"removes":[]}`,
			newAnswer, fsm.ErrMissingField, "bootstrap answer", "merges"},
		{"answer: unknown component state", `{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[{"id":"d1","span":{"table":1,"start":"a","end":"b"},"state":"Dancing"}],"removes":[],"merges":[]}`,
			newAnswer, ops.ErrUnknownComponentState, "dispatcher", "state"},
		{"answer: dispatcher without span", `{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[{"id":"d1","state":"Working"}],"removes":[],"merges":[]}`,
			newAnswer, fsm.ErrMissingField, "dispatcher", "span"},
		{"answer: dispatcher with an unknown field", `{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[{"id":"d1","span":{"table":1,"start":"a","end":"b"},"state":"Working","x":1}],"removes":[],"merges":[]}`,
			newAnswer, fsm.ErrMalformed, "dispatcher", ""},
		{"answer: invalid journaled record", `{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[` + dispatcherJSON + `],"removes":[{"v":1,"type":"remove","changefeed":"cf","id":"d1","state":"Running","epoch":7,"span":{"table":1,"start":"a","end":"b"}}],"merges":[]}`,
			newAnswer, ops.ErrInvalidRecord, "operator record", "origin"},
		{"answer: empty changefeed", `{"v":1,"node":"A","changefeed":"","epoch":7,"dispatchers":[],"removes":[],"merges":[]}`,
			newAnswer, fsm.ErrMissingField, "bootstrap answer", "changefeed"},

		{"snapshot: future version", `{"v":2,"changefeed":"cf","epoch":7,"checkpoint":0,"tables":[],"answers":[]}`, newSnapshot, fsm.ErrUnknownVersion, "snapshot", "v"},
		{"snapshot: missing tables", `{"v":1,"changefeed":"cf","epoch":7,"checkpoint":0,"answers":[]}`, newSnapshot, fsm.ErrMissingField, "snapshot", "tables"},
		{"snapshot: table not a number", `{"v":1,"changefeed":"cf","epoch":7,"checkpoint":0,"tables":["t"],"answers":[]}`, newSnapshot, fsm.ErrMalformed, "snapshot", "tables"},
		{"snapshot: answer of a future version", `{"v":1,"changefeed":"cf","epoch":7,"checkpoint":0,"tables":[],"answers":[{"v":2,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[],"removes":[],"merges":[]}]}`,
			newSnapshot, fsm.ErrUnknownVersion, "bootstrap answer", "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			into := tt.into()
			// The method itself, not json.Unmarshal, which answers a syntax error before
			// calling it.
			err := into.(json.Unmarshaler).UnmarshalJSON([]byte(tt.in))
			requireDecodeError(t, err, tt.sentinel, tt.msg, tt.field)
			require.Equal(t, tt.into(), into, "receiver changed on error")
		})
	}
}

// The fresh receivers of TestJSONRejects and TestProtoRejects hold a value, so a decoder
// that writes before it fails is caught.
func newRequest() any {
	return &protocol.Request{Changefeed: "old", Epoch: 1, Kind: protocol.Bootstrap}
}
func newReport() any { return &protocol.StatusReport{Changefeed: "old", Node: "old"} }
func newAnswer() any { return &protocol.BootstrapAnswer{Changefeed: "old", Node: "old"} }
func newSnapshot() any {
	return &protocol.Snapshot{Changefeed: "old", Tables: []ops.TableID{1}}
}

// TestJSONAccepts: the forms a sender may legitimately write.
func TestJSONAccepts(t *testing.T) {
	var req protocol.Request
	require.NoError(t, json.Unmarshal([]byte(`{"v":1,"changefeed":"cf","epoch":7,"kind":"Create","record":`+addRecordJSON+`}`), &req))
	require.Equal(t, protocol.Create, req.Kind)
	require.Equal(t, ops.NodeID("B"), req.Record.Dest)

	require.NoError(t, json.Unmarshal([]byte(`{"v":1,"changefeed":"cf","epoch":7,"kind":"Bootstrap","record":null}`), &req))
	require.Equal(t, protocol.Request{Changefeed: "cf", Epoch: 7, Kind: protocol.Bootstrap}, req)

	var ans protocol.BootstrapAnswer
	require.NoError(t, json.Unmarshal([]byte(`{"v":1,"node":"A","changefeed":"cf","epoch":7,"dispatchers":[`+dispatcherJSON+`],"removes":[`+removeRecordJSON+`],"merges":[]}`), &ans))
	require.Equal(t, []protocol.Dispatcher{{ID: "d1", Span: ops.Span{Table: 1, Start: "a", End: "b"}, State: ops.Working}}, ans.Dispatchers)
	require.Equal(t, ops.HookDelete, ans.Removes[0].Hook)
}
