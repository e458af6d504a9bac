package scenario

import (
	"slices"

	ops "github.com/opfsm/opfsm/operators"
)

// finish checks what needs the whole file: nodes given, each initial table tiled.
func (d *decoder) finish() error {
	if len(d.s.Nodes) == 0 {
		return bad("nodes", ErrSyntax, "the file declares no nodes")
	}
	created := d.s.created()
	for _, tb := range d.s.Tables {
		if created[tb] {
			continue
		}
		var spans []ops.Span
		for _, p := range d.s.Spans {
			if p.Span.Table == tb {
				spans = append(spans, p.Span)
			}
		}
		if err := tiles(tb, spans); err != nil {
			return err
		}
	}
	return nil
}

// tiles checks that spans cover table tb's whole key range exactly once.
func tiles(tb ops.TableID, spans []ops.Span) error {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, ops.CompareSpans)
	if err := ops.Tiles(ops.Span{Table: tb}, spans); err != nil {
		return bad("span", ErrForbidden, "table %d is not covered exactly once: %v", tb, err)
	}
	return nil
}

func expectSpans(e Expect) []ops.Span {
	out := make([]ops.Span, len(e.Spans))
	for i, s := range e.Spans {
		out[i] = s.Span
	}
	return out
}
