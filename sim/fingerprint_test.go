package sim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestFingerprintEncodersCoverEveryField: for each value the fingerprint writes, setting
// any one field (at any depth, inside slices too) changes its encoding. A field added to
// one of these types and forgotten by the encoder fails here, before the explorer can
// merge two states that differ only in it.
func TestFingerprintEncodersCoverEveryField(t *testing.T) {
	enc := func(f func(w *fpWriter, v any)) func(any) string {
		return func(v any) string {
			w := fpWriter{}
			f(&w, v)
			return string(w.b)
		}
	}
	for _, tc := range []struct {
		zero any
		enc  func(any) string
	}{
		{protocol.Dispatcher{}, enc(func(w *fpWriter, v any) { w.dispatcher(v.(protocol.Dispatcher)) })},
		{ops.Record{}, enc(func(w *fpWriter, v any) { w.record(v.(ops.Record)) })},
		{protocol.Request{}, enc(func(w *fpWriter, v any) { w.request(v.(protocol.Request)) })},
		{Report{}, enc(func(w *fpWriter, v any) { w.report(v.(Report)) })},
		{protocol.BootstrapAnswer{}, enc(func(w *fpWriter, v any) { w.answer(v.(protocol.BootstrapAnswer)) })},
		{ops.Task{}, enc(func(w *fpWriter, v any) { w.task(v.(ops.Task)) })},
		{Action{}, enc(func(w *fpWriter, v any) { w.action(v.(Action)) })},
	} {
		typ := reflect.TypeOf(tc.zero)
		base := tc.enc(tc.zero)
		paths := leafPaths(typ, nil)
		require.NotEmpty(t, paths)
		for _, p := range paths {
			v := reflect.New(typ).Elem()
			setLeaf(v, p)
			require.NotEqual(t, base, tc.enc(v.Interface()), "%s.%s is not in the fingerprint", typ, strings.Join(p, "."))
		}
	}
}

// leafPaths lists the paths to t's leaf fields: struct fields by name, "[]" for a slice's
// length and "[0]" into its first element.
func leafPaths(t reflect.Type, prefix []string) [][]string {
	at := func(s string) []string { return append(append([]string(nil), prefix...), s) }
	switch t.Kind() {
	case reflect.Struct:
		var out [][]string
		for i := range t.NumField() {
			out = append(out, leafPaths(t.Field(i).Type, at(t.Field(i).Name))...)
		}
		return out
	case reflect.Slice:
		out := [][]string{at("[]")}
		if t.Elem().Kind() == reflect.Struct || t.Elem().Kind() == reflect.Slice {
			out = append(out, leafPaths(t.Elem(), at("[0]"))...)
		} else {
			out = append(out, at("[0]"))
		}
		return out
	}
	return [][]string{prefix}
}

// setLeaf sets the leaf at path p in v to a non-zero value.
func setLeaf(v reflect.Value, p []string) {
	if len(p) == 0 {
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v.SetInt(1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			v.SetUint(1)
		default:
			panic("setLeaf: unhandled kind " + v.Kind().String())
		}
		return
	}
	switch p[0] {
	case "[]":
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case "[0]":
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		setLeaf(v.Index(0), p[1:])
	default:
		setLeaf(v.FieldByName(p[0]), p[1:])
	}
}
