package operators

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEnumEdges: the last declared value has its name, the first undeclared one does not,
// and Definition refuses the first type past the last.
func TestEnumEdges(t *testing.T) {
	require.Equal(t, "occupy", TypeOccupy.String())
	require.Equal(t, "Type(6)", Type(TypeOccupy+1).String())
	_, err := Definition(TypeOccupy)
	require.NoError(t, err)
	_, err = Definition(TypeOccupy + 1)
	require.ErrorIs(t, err, ErrUnknownType)
}

// TestPrefix: an id's first eight bytes, zero-padded when shorter, cut when longer.
func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		id   DispatcherID
		want uint64
	}{
		{"", 0},
		{"a", 0x61 << 56},
		{"abcdefg", 0x61626364_65666700},
		{"abcdefgh", 0x61626364_65666768},
		{"abcdefghZ", 0x61626364_65666768},
	} {
		require.Equal(t, tc.want, tc.id.Prefix(), "%q", tc.id)
	}
}
