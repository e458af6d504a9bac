package fsm_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/fsm"
)

func TestStateRecordRoundTrip(t *testing.T) {
	m := newMoveLike(t)
	reg, err := fsm.NewRegistry(m.def)
	require.NoError(t, err)
	for s := range m.def.States() {
		rec := m.def.Record(fsm.State(s))
		data, err := json.Marshal(rec)
		require.NoError(t, err)
		def, got, err := reg.DecodeState(data)
		require.NoError(t, err)
		require.Same(t, m.def, def)
		require.Equal(t, fsm.State(s), got)
	}
	require.JSONEq(t, `{"v":1,"machine":"movelike","state":"AddDest"}`, mustJSON(t, m.def.Record(m.addDest)))
}

func TestDecodeStateRejects(t *testing.T) {
	m := newMoveLike(t)
	reg, err := fsm.NewRegistry(m.def)
	require.NoError(t, err)
	cases := []struct {
		name  string
		data  string
		err   error
		field string
	}{
		{"not json", `{"v":1,`, fsm.ErrMalformed, ""},
		{"not an object", `[1,2]`, fsm.ErrMalformed, ""},
		{"null", `null`, fsm.ErrMalformed, ""},
		{"no version", `{"machine":"movelike","state":"AddDest"}`, fsm.ErrMissingField, "v"},
		{"version as string", `{"v":"1","machine":"movelike","state":"AddDest"}`, fsm.ErrMalformed, "v"},
		{"future version", `{"v":2,"machine":"movelike","state":"AddDest"}`, fsm.ErrUnknownVersion, "v"},
		{"missing state", `{"v":1,"machine":"movelike"}`, fsm.ErrMissingField, "state"},
		{"null state", `{"v":1,"machine":"movelike","state":null}`, fsm.ErrMissingField, "state"},
		{"unknown field", `{"v":1,"machine":"movelike","state":"AddDest","x":1}`, fsm.ErrUnknownField, "x"},
		{"wrong type", `{"v":1,"machine":"movelike","state":7}`, fsm.ErrMalformed, "state"},
		{"trailing data", `{"v":1,"machine":"movelike","state":"AddDest"} {}`, fsm.ErrMalformed, ""},
		{"unknown machine", `{"v":1,"machine":"teleport","state":"AddDest"}`, fsm.ErrUnknownMachine, "machine"},
		{"unknown state", `{"v":1,"machine":"movelike","state":"Flying"}`, fsm.ErrUnknownState, "state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := reg.DecodeState([]byte(tc.data))
			require.ErrorIs(t, err, tc.err)
			var de *fsm.DecodeError
			require.True(t, errors.As(err, &de), "%T %v", err, err)
			require.Equal(t, tc.field, de.Field)
		})
	}
}

func TestTransitionRecord(t *testing.T) {
	m := newMoveLike(t)
	reg, err := fsm.NewRegistry(m.def)
	require.NoError(t, err)
	good := `{"v":1,"machine":"movelike","id":"d1","from":"RemoveOrigin","to":"AddDest","trigger":"OriginStopped"}`
	tr, err := reg.DecodeTransition([]byte(good))
	require.NoError(t, err)
	require.Equal(t, m.addDest, tr.To)
	require.JSONEq(t, good, mustJSON(t, tr.Record()))

	bad := []struct {
		name, data string
		err        error
	}{
		{"unknown trigger", `{"v":1,"machine":"movelike","id":"d1","from":"RemoveOrigin","to":"AddDest","trigger":"Teleport"}`, fsm.ErrUnknownTrigger},
		{"unknown from", `{"v":1,"machine":"movelike","id":"d1","from":"X","to":"AddDest","trigger":"OriginStopped"}`, fsm.ErrUnknownState},
		{"not an edge", `{"v":1,"machine":"movelike","id":"d1","from":"RemoveOrigin","to":"DoneSuccess","trigger":"OriginStopped"}`, fsm.ErrUnhandledTrigger},
		{"missing id", `{"v":1,"machine":"movelike","from":"RemoveOrigin","to":"AddDest","trigger":"OriginStopped"}`, fsm.ErrMissingField},
		{"unknown machine", `{"v":1,"machine":"nope","id":"d1","from":"RemoveOrigin","to":"AddDest","trigger":"OriginStopped"}`, fsm.ErrUnknownMachine},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reg.DecodeTransition([]byte(tc.data))
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestRegistry(t *testing.T) {
	m := newMoveLike(t)
	_, err := fsm.NewRegistry(m.def, m.def)
	require.ErrorIs(t, err, fsm.ErrDefinition)
	_, err = m.def.Restore(fsm.StateRecord{Machine: "other", State: "AddDest"})
	require.ErrorIs(t, err, fsm.ErrUnknownMachine)
}

// FuzzDecodeState feeds arbitrary bytes to the state-record decoder: it must answer with a
// typed error or a state the machine declares, and never panic.
func FuzzDecodeState(f *testing.F) {
	m := newMoveLike(f)
	reg, err := fsm.NewRegistry(m.def)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"v":1,"machine":"movelike","state":"AddDest"}`))
	f.Add([]byte(`{"v":1,"machine":"movelike","state":"AddDest","extra":[1,2,{"a":null}]}`))
	f.Add([]byte(`{"v":99999999999999999999,"machine":"movelike"}`))
	f.Add([]byte(`{"v":1,"machine":"movelike","id":"d1","from":"RemoveOrigin","to":"AddDest","trigger":"OriginStopped"}`))
	f.Add([]byte(`nul`))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, s, err := reg.DecodeState(data)
		if err != nil {
			var de *fsm.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		} else if def != m.def || int(s) >= len(m.def.States()) {
			t.Fatalf("decoded an undeclared state %d", s)
		}
		if _, err := reg.DecodeTransition(data); err != nil {
			var de *fsm.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
