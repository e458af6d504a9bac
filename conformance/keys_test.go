package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/tla"
)

// TestKeys: a state's key rebuilds its canonical text, and translates to another table's
// key for the same state, or to nothing when that table lacks one of its values.
func TestKeys(t *testing.T) {
	text := func(vals map[string]string) string {
		var s string
		for i, v := range varNames {
			if i > 0 {
				s += "\n"
			}
			s += `/\ ` + v + " = " + vals[v]
		}
		return s
	}
	vals := map[string]string{}
	for i, v := range varNames {
		vals[v] = []string{"{}", "<<1, 2>>", "TRUE", `"x"`}[i%4]
	}
	st, err := tla.ParseState(text(vals))
	require.NoError(t, err)

	a, b := newValueTable(), newValueTable()
	b.id([]byte("FALSE")) // b's ids differ from a's
	ka, err := a.keyOfState(st, nil)
	require.NoError(t, err)
	require.Len(t, ka, 4*len(varNames))
	require.Equal(t, st.String(), a.text(ka))
	require.Len(t, a.texts, 4, "each distinct value once")

	_, ok := newTranslator(a, b).key(ka)
	require.False(t, ok, "b has none of these values yet")
	kb, err := b.keyOfState(st, nil)
	require.NoError(t, err)
	require.NotEqual(t, ka, kb)
	got, ok := newTranslator(a, b).key(ka)
	require.True(t, ok)
	require.Equal(t, kb, got)
	same, ok := newTranslator(a, a).key(ka)
	require.True(t, ok)
	require.Equal(t, ka, same)

	delete(st, varNames[0])
	_, err = a.keyOfState(st, nil)
	require.ErrorContains(t, err, "lacks "+varNames[0])
	st[varNames[0]] = tla.Bool(true)
	st["extra"] = tla.Bool(true)
	_, err = a.keyOfState(st, nil)
	require.ErrorContains(t, err, "variables")
}
