package operators

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func sp(t TableID, a, b string) Span { return Span{Table: t, Start: a, End: b} }

// TestCompareSpans: table, start, then end with the table's end last; 0 only when equal.
func TestCompareSpans(t *testing.T) {
	ordered := []Span{sp(1, "", "c"), sp(1, "", ""), sp(1, "c", "f"), sp(1, "c", "k"), sp(1, "c", ""), sp(1, "k", ""), sp(2, "", "a")}
	for i, a := range ordered {
		for j, b := range ordered {
			require.Equal(t, cmpInt(i, j), CompareSpans(a, b), "%s vs %s", a, b)
			require.Equal(t, i < j, a.Less(b), "%s < %s", a, b)
		}
	}
	shuffled := slices.Clone(ordered)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, CompareSpans)
	require.Equal(t, ordered, shuffled)
}

func cmpInt(i, j int) int {
	switch {
	case i < j:
		return -1
	case i > j:
		return 1
	}
	return 0
}

// TestTiles: spans cover a whole exactly, in order, or the first that does not fit is
// named.
func TestTiles(t *testing.T) {
	whole := sp(1, "c", "p")
	for _, tc := range []struct {
		spans []Span
		err   string
	}{
		{[]Span{whole}, ""},
		{[]Span{sp(1, "c", "f"), sp(1, "f", "p")}, ""},
		{nil, "no spans cover 1[c,p)"},
		{[]Span{sp(1, "d", "p")}, "1[d,p) does not start 1[c,p)"},
		{[]Span{sp(1, "c", "f"), sp(1, "g", "p")}, "1[g,p) does not follow 1[c,f)"},
		{[]Span{sp(1, "c", "f"), sp(1, "e", "p")}, "1[e,p) does not follow 1[c,f)"},
		{[]Span{sp(1, "c", "f"), sp(1, "f", "k")}, "1[f,k) does not end 1[c,p)"},
		{[]Span{sp(1, "c", "f"), sp(2, "f", "p")}, "2[f,p) is not a part of 1[c,p)"},
		{[]Span{sp(1, "c", "f"), sp(1, "f", "")}, "1[f,) is not a part of 1[c,p)"},
		{[]Span{sp(1, "c", "c"), sp(1, "c", "p")}, "1[c,c) is not a part of 1[c,p)"},
	} {
		err := Tiles(whole, tc.spans)
		if tc.err == "" {
			require.NoError(t, err, "%v", tc.spans)
		} else {
			require.EqualError(t, err, tc.err)
		}
	}
	require.NoError(t, Tiles(sp(1, "", ""), []Span{sp(1, "", "m"), sp(1, "m", "")}))
	require.EqualError(t, Tiles(sp(1, "", ""), []Span{sp(1, "", ""), sp(1, "m", "")}), "1[,) is not a part of 1[,)")
}

// TestAppendHoles: the ranges sorted, possibly overlapping spans leave uncovered.
func TestAppendHoles(t *testing.T) {
	for _, tc := range []struct {
		spans, want []Span
	}{
		{nil, []Span{sp(1, "", "")}},
		{[]Span{sp(1, "", "")}, nil},
		{[]Span{sp(1, "c", "f"), sp(1, "d", "e"), sp(1, "k", "")}, []Span{sp(1, "", "c"), sp(1, "f", "k")}},
		{[]Span{sp(1, "", "f"), sp(1, "c", "k")}, []Span{sp(1, "k", "")}},
		{[]Span{sp(1, "", ""), sp(1, "c", "f")}, nil},
	} {
		got := AppendHoles(nil, 1, len(tc.spans), func(i int) *Span { return &tc.spans[i] })
		require.Equal(t, tc.want, got, "%v", tc.spans)
	}
	prefix := []Span{sp(9, "", "")}
	require.Equal(t, []Span{sp(9, "", ""), sp(1, "", "")}, AppendHoles(prefix, 1, 0, nil), "appends")
}

// TestPieces: a span cut at the boundaries of others inside it.
func TestPieces(t *testing.T) {
	for _, tc := range []struct {
		s      Span
		others []Span
		want   []Span
	}{
		{sp(1, "", ""), nil, []Span{sp(1, "", "")}},
		{sp(1, "c", "p"), []Span{sp(1, "", "f"), sp(1, "k", ""), sp(2, "d", "e"), sp(1, "a", "c"), sp(1, "p", "")},
			[]Span{sp(1, "c", "f"), sp(1, "f", "k"), sp(1, "k", "p")}},
		{sp(1, "c", ""), []Span{sp(1, "d", "e"), sp(1, "e", "")}, []Span{sp(1, "c", "d"), sp(1, "d", "e"), sp(1, "e", "")}},
	} {
		require.Equal(t, tc.want, tc.s.Pieces(tc.others), "%s", tc.s)
	}
}
