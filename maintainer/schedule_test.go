package maintainer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEachOutstanding: after every kind of write, from every starting state, EachOutstanding
// visits what Outstanding lists, in its order (nothing while booting).
func TestEachOutstanding(t *testing.T) {
	some := 0
	for _, c := range cowCases {
		m := cowSetups[c.setup](t)
		require.NoError(t, c.write(m), c.name)
		var got []Message
		m.EachOutstanding(func(msg Message) { got = append(got, msg) })
		want := m.Outstanding()
		require.Len(t, got, len(want), c.name)
		if len(want) > 0 {
			require.Equal(t, want, got, c.name)
			some++
		}
	}
	require.Greater(t, some, 5, "cases with requests outstanding")
}
