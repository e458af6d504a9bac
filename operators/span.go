package operators

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Span is the key range [Start, End) of one table. An empty Start is the table's first key,
// an empty End its last (+inf).
type Span struct {
	Table TableID `json:"table"`
	Start string  `json:"start"`
	End   string  `json:"end"`
}

// Valid reports whether the span is non-empty.
func (s Span) Valid() bool { return s.End == "" || s.Start < s.End }

// Overlaps reports whether s and o share a key.
func (s Span) Overlaps(o Span) bool {
	return s.Table == o.Table && (o.End == "" || s.Start < o.End) && (s.End == "" || o.Start < s.End)
}

// Contains reports whether o lies within s.
func (s Span) Contains(o Span) bool {
	return s.Table == o.Table && s.Start <= o.Start && (s.End == "" || (o.End != "" && o.End <= s.End))
}

// Adjacent reports whether o starts where s ends.
func (s Span) Adjacent(o Span) bool { return s.Table == o.Table && s.End != "" && s.End == o.Start }

// Less orders spans as CompareSpans does.
func (s Span) Less(o Span) bool { return CompareSpans(s, o) < 0 }

// CompareSpans orders spans by table, then start key, then end key, the narrower first (an
// empty End, the table's end, comes after every key), so a source and the merged span that
// starts at the same key never compare equal. It returns 0 only for equal spans.
func CompareSpans(a, b Span) int {
	if c := cmp.Compare(a.Table, b.Table); c != 0 {
		return c
	}
	if c := strings.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return compareEnds(a.End, b.End)
}

// compareEnds compares two end keys, "" (the table's end) after every other.
func compareEnds(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// Tiles checks that spans, in key order, cover whole exactly: each a non-empty part of
// whole's table, the first starting where whole starts, each starting where the one before
// ends, the last ending where whole ends. Its error names the first span that does not fit.
func Tiles(whole Span, spans []Span) error {
	if len(spans) == 0 {
		return fmt.Errorf("no spans cover %s", whole)
	}
	for i, s := range spans {
		switch {
		case s.Table != whole.Table || !s.Valid() || !whole.Contains(s) || s.End == "" && i < len(spans)-1:
			return fmt.Errorf("%s is not a part of %s", s, whole)
		case i == 0 && s.Start != whole.Start:
			return fmt.Errorf("%s does not start %s", s, whole)
		case i > 0 && spans[i-1].End != s.Start:
			return fmt.Errorf("%s does not follow %s", s, spans[i-1])
		}
	}
	if last := spans[len(spans)-1]; last.End != whole.End {
		return fmt.Errorf("%s does not end %s", last, whole)
	}
	return nil
}

// AppendHoles appends to out the ranges of table t that n spans leave uncovered; at(i)
// returns the i-th span, in CompareSpans order (they may overlap). A caller whose spans
// live elsewhere than in a slice (recovery indexes them) passes its own at.
func AppendHoles(out []Span, t TableID, n int, at func(i int) *Span) []Span {
	pos := ""
	for i := range n {
		s := at(i)
		if s.Start > pos {
			out = append(out, Span{Table: t, Start: pos, End: s.Start})
		}
		if s.End == "" {
			return out
		}
		pos = max(pos, s.End)
	}
	return append(out, Span{Table: t, Start: pos, End: ""})
}

// Pieces cuts s at every start or end key of others that lies strictly inside it and
// returns the pieces in key order: together they are s, and each lies wholly inside or
// wholly outside each span of others.
func (s Span) Pieces(others []Span) []Span {
	var cuts []string // the keys strictly inside s
	for _, o := range others {
		if o.Table != s.Table {
			continue
		}
		for _, k := range [2]string{o.Start, o.End} {
			if k > s.Start && (s.End == "" || k < s.End) {
				cuts = append(cuts, k)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	out := make([]Span, 0, len(cuts)+1)
	lo := s.Start
	for _, k := range cuts {
		out = append(out, Span{Table: s.Table, Start: lo, End: k})
		lo = k
	}
	return append(out, Span{Table: s.Table, Start: lo, End: s.End})
}

// String formats the span as "100[a,b)".
func (s Span) String() string { return fmt.Sprintf("%d[%s,%s)", s.Table, s.Start, s.End) }
