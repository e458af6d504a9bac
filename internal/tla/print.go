package tla

import (
	"strconv"
)

// AppendCanonical appends the canonical text of v (what v.String returns) to b and returns
// the extended buffer. It allocates only when b lacks the room, so a caller that prints
// many values into one reused buffer allocates nothing per value.
func AppendCanonical(b []byte, v Value) []byte { return v.appendTo(b) }

// String prints TRUE or FALSE.
func (v Bool) String() string { return string(v.appendTo(nil)) }

// String prints the integer in decimal.
func (v Int) String() string { return strconv.FormatInt(int64(v), 10) }

// String prints the string quoted, with TLA+ escapes.
func (v Str) String() string { return string(v.appendTo(nil)) }

// String prints the model value's name.
func (v ModelValue) String() string { return string(v) }

// String prints {e1, e2, ...} in canonical order.
func (v Set) String() string { return string(v.appendTo(nil)) }

// String prints <<e1, e2, ...>>.
func (v Seq) String() string { return string(v.appendTo(nil)) }

// String prints [a |-> 1, b |-> 2] in canonical form.
func (v Record) String() string { return string(v.appendTo(nil)) }

// String prints (k1 :> v1 @@ k2 :> v2) in canonical form.
func (v Func) String() string { return string(v.appendTo(nil)) }

func (v Bool) appendTo(b []byte) []byte {
	if v {
		return append(b, "TRUE"...)
	}
	return append(b, "FALSE"...)
}

func (v Int) appendTo(b []byte) []byte { return strconv.AppendInt(b, int64(v), 10) }

func (v Str) appendTo(b []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\f':
			b = append(b, `\f`...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func (v ModelValue) appendTo(b []byte) []byte { return append(b, v...) }

func (v Set) appendTo(b []byte) []byte {
	b = append(b, '{')
	for i, e := range v.elems {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = e.appendTo(b)
	}
	return append(b, '}')
}

func (v Seq) appendTo(b []byte) []byte {
	b = append(b, "<<"...)
	for i, e := range v.elems {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = e.appendTo(b)
	}
	return append(b, ">>"...)
}

func (v Record) appendTo(b []byte) []byte { return appendFunc(b, v) }

func (v Func) appendTo(b []byte) []byte { return appendFunc(b, v) }

// appendFunc prints a Record or Func by its content, so the same function prints the same
// whatever its representation: as a tuple when the domain is 1..n, as a record when the
// keys are identifier strings, else as (k :> v @@ ...).
func appendFunc(b []byte, v Value) []byte {
	n := funcLen(v)
	seqDom, recDom := true, n > 0
	for i := range n {
		k, _ := funcAt(v, i)
		if ki, ok := k.(Int); !ok || int64(ki) != int64(i)+1 {
			seqDom = false
		}
		if ks, ok := k.(Str); !ok || !IsIdent(string(ks)) {
			recDom = false
		}
	}
	switch {
	case seqDom:
		b = append(b, "<<"...)
		for i := range n {
			if i > 0 {
				b = append(b, ", "...)
			}
			_, e := funcAt(v, i)
			b = e.appendTo(b)
		}
		return append(b, ">>"...)
	case recDom:
		b = append(b, '[')
		for i := range n {
			if i > 0 {
				b = append(b, ", "...)
			}
			k, e := funcAt(v, i)
			b = append(b, k.(Str)...)
			b = append(b, " |-> "...)
			b = e.appendTo(b)
		}
		return append(b, ']')
	}
	b = append(b, '(')
	for i := range n {
		if i > 0 {
			b = append(b, " @@ "...)
		}
		k, e := funcAt(v, i)
		b = k.appendTo(b)
		b = append(b, " :> "...)
		b = e.appendTo(b)
	}
	return append(b, ')')
}
