package conformance

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrSyntax is the sentinel every parse error of this package wraps: test with
// errors.Is(err, ErrSyntax), and errors.As with *ParseError or *DotError for the position.
var ErrSyntax = errors.New("conformance: syntax error")

// ParseError is a syntax error in a value or state text: Offset is the byte offset in the
// text where parsing failed and Msg says what was wrong there.
type ParseError struct {
	Offset int
	Msg    string
}

// Error returns the message with its offset.
func (e *ParseError) Error() string {
	return fmt.Sprintf("conformance: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *ParseError) Unwrap() error { return ErrSyntax }

// Limits that keep hostile input from exhausting the stack or memory. TLC's own values are
// far below both.
const (
	// MaxDepth is the deepest nesting of sets, tuples, records and functions ParseValue
	// accepts.
	MaxDepth = 1000
	// MaxInterval is the largest interval a..b ParseValue expands into a set.
	MaxInterval = 1 << 16
)

// Kind says which of the value types a Value is.
type Kind uint8

// The kinds of values. A function-like value (Seq, Record, Func) built by this package has
// the kind of its canonical representation: see NewFunc.
const (
	KindBool Kind = iota + 1
	KindInt
	KindString
	KindModelValue
	KindSet
	KindSeq
	KindRecord
	KindFunc
)

var kindNames = [...]string{"invalid", "bool", "int", "string", "model value", "set", "sequence", "record", "function"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a TLA+ value as TLC prints it: Bool, Int, Str, ModelValue, Set, Seq, Record or
// Func. Values are immutable; the composite ones are built with NewSet, NewSeq, NewRecord
// and NewFunc, which put them in canonical form. Compare values with Equal: == panics on
// the composite types, which hold slices.
type Value interface {
	// Kind says which type the value is.
	Kind() Kind
	// String prints the value in canonical TLA+ syntax that ParseValue reads back: set
	// elements and function pairs sorted by Compare, record fields by name. Equal values
	// print the same.
	String() string
	appendTo(b []byte) []byte
}

// Bool is TRUE or FALSE.
type Bool bool

// Int is an integer (TLC's are 32-bit; any int64 is accepted).
type Int int64

// Str is a string; it holds the decoded characters, not the escapes.
type Str string

// ModelValue is a TLC model value, printed as a bare identifier.
type ModelValue string

// Set is a finite set, its elements sorted by Compare without duplicates.
type Set struct{ elems []Value }

// Seq is a sequence (tuple): the function with domain 1..Len(). The empty Seq is also the
// empty function and the empty record.
type Seq struct{ elems []Value }

// Field is one field of a record.
type Field struct {
	Name  string
	Value Value
}

// Record is a function whose domain is a non-empty set of strings that are identifiers,
// printed [a |-> 1, b |-> 2]. Its fields are sorted by name.
type Record struct{ fields []Field }

// Pair is one key and its image in a function.
type Pair struct {
	Key, Value Value
}

// Func is a function printed (k1 :> v1 @@ k2 :> v2): one whose domain is neither 1..n nor
// a set of identifier strings. Its pairs are sorted by key.
type Func struct{ pairs []Pair }

// Kind returns KindBool.
func (Bool) Kind() Kind { return KindBool }

// Kind returns KindInt.
func (Int) Kind() Kind { return KindInt }

// Kind returns KindString.
func (Str) Kind() Kind { return KindString }

// Kind returns KindModelValue.
func (ModelValue) Kind() Kind { return KindModelValue }

// Kind returns KindSet.
func (Set) Kind() Kind { return KindSet }

// Kind returns KindSeq.
func (Seq) Kind() Kind { return KindSeq }

// Kind returns KindRecord.
func (Record) Kind() Kind { return KindRecord }

// Kind returns KindFunc.
func (Func) Kind() Kind { return KindFunc }

// NewSet returns the set of elems (in any order, duplicates allowed).
func NewSet(elems ...Value) Set {
	s := slices.Clone(elems)
	slices.SortFunc(s, Compare)
	return Set{elems: slices.CompactFunc(s, Equal)}
}

// Len returns the number of elements.
func (s Set) Len() int { return len(s.elems) }

// At returns the i-th element in canonical order (0-based).
func (s Set) At(i int) Value { return s.elems[i] }

// Elems returns a copy of the elements in canonical order.
func (s Set) Elems() []Value { return slices.Clone(s.elems) }

// Contains reports whether v is an element of s.
func (s Set) Contains(v Value) bool {
	_, ok := slices.BinarySearchFunc(s.elems, v, Compare)
	return ok
}

// NewSeq returns the sequence <<elems...>>.
func NewSeq(elems ...Value) Seq { return Seq{elems: slices.Clone(elems)} }

// Len returns the length of the sequence.
func (s Seq) Len() int { return len(s.elems) }

// At returns the i-th element, 0-based (the TLA+ s[i+1]).
func (s Seq) At(i int) Value { return s.elems[i] }

// Elems returns a copy of the elements.
func (s Seq) Elems() []Value { return slices.Clone(s.elems) }

// Len returns the number of fields.
func (r Record) Len() int { return len(r.fields) }

// Fields returns a copy of the fields, sorted by name.
func (r Record) Fields() []Field { return slices.Clone(r.fields) }

// Get returns the field called name.
func (r Record) Get(name string) (Value, bool) {
	i, ok := slices.BinarySearchFunc(r.fields, name, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return nil, false
	}
	return r.fields[i].Value, true
}

// Len returns the size of the domain.
func (f Func) Len() int { return len(f.pairs) }

// Pairs returns a copy of the pairs, sorted by key.
func (f Func) Pairs() []Pair { return slices.Clone(f.pairs) }

// Get returns the image of key.
func (f Func) Get(key Value) (Value, bool) {
	i, ok := slices.BinarySearchFunc(f.pairs, key, func(p Pair, k Value) int { return Compare(p.Key, k) })
	if !ok {
		return nil, false
	}
	return f.pairs[i].Value, true
}

// NewRecord returns the record with fields, in canonical representation (see NewFunc): an
// empty record is the empty Seq, and a record with a field name that is not an identifier
// is a Func. Two fields with the same name are an error.
func NewRecord(fields ...Field) (Value, error) {
	pairs := make([]Pair, len(fields))
	for i, f := range fields {
		pairs[i] = Pair{Key: Str(f.Name), Value: f.Value}
	}
	return NewFunc(pairs...)
}

// NewFunc returns the function with pairs (in any order) in canonical representation: a
// Seq when the domain is 1..n (or empty), a Record when every key is a Str that is an
// identifier, else a Func. Two pairs with equal keys are an error.
func NewFunc(pairs ...Pair) (Value, error) {
	ps := slices.Clone(pairs)
	for _, p := range ps {
		if p.Key == nil || p.Value == nil {
			return nil, errors.New("conformance: function pair with a nil key or value")
		}
	}
	slices.SortFunc(ps, func(a, b Pair) int { return Compare(a.Key, b.Key) })
	for i := 1; i < len(ps); i++ {
		if Equal(ps[i-1].Key, ps[i].Key) {
			return nil, fmt.Errorf("conformance: duplicate key %s in a function", ps[i].Key)
		}
	}
	return funcOf(ps), nil
}

// funcOf picks the canonical representation of the function with pairs, which are sorted
// by key without duplicates.
func funcOf(ps []Pair) Value {
	if isSeqDomain(ps) {
		elems := make([]Value, len(ps))
		for i, p := range ps {
			elems[i] = p.Value
		}
		return Seq{elems: elems}
	}
	if isRecordDomain(ps) {
		fields := make([]Field, len(ps))
		for i, p := range ps {
			fields[i] = Field{Name: string(p.Key.(Str)), Value: p.Value}
		}
		return Record{fields: fields}
	}
	return Func{pairs: ps}
}

func isSeqDomain(ps []Pair) bool {
	for i, p := range ps {
		if k, ok := p.Key.(Int); !ok || int64(k) != int64(i)+1 {
			return false
		}
	}
	return true
}

func isRecordDomain(ps []Pair) bool {
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if k, ok := p.Key.(Str); !ok || !isIdent(string(k)) {
			return false
		}
	}
	return true
}

// Apply returns f[key] for a function-like value f (Seq, Record or Func); ok is false when
// f is not a function or key is not in its domain.
func Apply(f, key Value) (Value, bool) {
	switch f := f.(type) {
	case Seq:
		if k, ok := key.(Int); ok && k >= 1 && int64(k) <= int64(len(f.elems)) {
			return f.elems[k-1], true
		}
	case Record:
		if k, ok := key.(Str); ok {
			return f.Get(string(k))
		}
	case Func:
		return f.Get(key)
	}
	return nil, false
}

// rank orders the kinds; Seq, Record and Func share one rank because they are all
// functions and compare pair by pair.
func rank(v Value) int {
	switch v.(type) {
	case Bool:
		return 1
	case Int:
		return 2
	case Str:
		return 3
	case ModelValue:
		return 4
	case Set:
		return 5
	case Seq, Record, Func:
		return 6
	}
	return 0 // nil
}

// Compare is the canonical total order on values: -1, 0 or +1. Values of different kinds
// order by kind (booleans, integers, strings, model values, sets, functions); sets compare
// element by element in canonical order, functions pair by pair (key, then image), so a
// Seq, a Record and a Func that are the same TLA+ function compare equal. nil sorts first.
func Compare(a, b Value) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch a := a.(type) {
	case Bool:
		return cmp.Compare(b2i(bool(a)), b2i(bool(b.(Bool))))
	case Int:
		return cmp.Compare(a, b.(Int))
	case Str:
		return strings.Compare(string(a), string(b.(Str)))
	case ModelValue:
		return strings.Compare(string(a), string(b.(ModelValue)))
	case Set:
		return slices.CompareFunc(a.elems, b.(Set).elems, Compare)
	case Seq:
		if b, ok := b.(Seq); ok {
			return slices.CompareFunc(a.elems, b.elems, Compare)
		}
	}
	if ra == 0 {
		return 0
	}
	return compareFuncs(a, b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareFuncs compares two function-like values pair by pair.
func compareFuncs(a, b Value) int {
	na, nb := funcLen(a), funcLen(b)
	for i := range min(na, nb) {
		ka, va := funcAt(a, i)
		kb, vb := funcAt(b, i)
		if c := Compare(ka, kb); c != 0 {
			return c
		}
		if c := Compare(va, vb); c != 0 {
			return c
		}
	}
	return cmp.Compare(na, nb)
}

func funcLen(v Value) int {
	switch v := v.(type) {
	case Seq:
		return len(v.elems)
	case Record:
		return len(v.fields)
	case Func:
		return len(v.pairs)
	}
	return 0
}

func funcAt(v Value, i int) (Value, Value) {
	switch v := v.(type) {
	case Seq:
		return Int(i + 1), v.elems[i]
	case Record:
		return Str(v.fields[i].Name), v.fields[i].Value
	case Func:
		return v.pairs[i].Key, v.pairs[i].Value
	}
	panic("conformance: funcAt on a non-function")
}

// Equal reports whether a and b are the same TLA+ value (Compare(a, b) == 0).
func Equal(a, b Value) bool { return Compare(a, b) == 0 }

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
		if ks, ok := k.(Str); !ok || !isIdent(string(ks)) {
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

// isIdent reports whether s is a TLA+ identifier as this package reads one: a letter or
// underscore, then letters, digits and underscores, with at least one letter, and not TRUE
// or FALSE.
func isIdent(s string) bool {
	if s == "" || isDigit(s[0]) || s == "TRUE" || s == "FALSE" {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isLetter(c):
			letter = true
		case isDigit(c) || c == '_':
		default:
			return false
		}
	}
	return letter
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isIdentByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_'
}

// ParseValue parses one value as TLC prints it: integers (-3), strings ("a\"b" with the
// escapes \" \\ \n \t \r \f), TRUE and FALSE, model values (bare identifiers), sets
// {a, b}, intervals 1..3 (read as sets), tuples <<a, b>> and << >>, records [a |-> 1] and
// functions (k1 :> v1 @@ k2 :> v2). Whitespace, newlines included, may separate tokens.
// The whole text must be one value; errors are *ParseError.
func ParseValue(s string) (Value, error) {
	p := parser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		return nil, p.errorf(p.pos, "unexpected %s after the value", p.describe())
	}
	return v, nil
}

// parser reads values from s; intern, when not nil, shares the strings of repeated
// strings and identifiers (ParseDot reads many states that repeat them).
type parser struct {
	s      string
	pos    int
	intern map[string]string
	// strs shares the boxed Str values of intern's strings.
	strs map[string]Value
	// cache, when not nil, maps the exact text of a composite value (or of a variable's
	// value in a state) to the value, so text repeated across states is parsed once.
	cache map[string]Value
}

// minCached is the shortest composite text worth a cache look-up.
const minCached = 32

func (p *parser) errorf(off int, format string, args ...any) *ParseError {
	return &ParseError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// describe names what is at the current position, for error messages.
func (p *parser) describe() string {
	if p.pos >= len(p.s) {
		return "end of input"
	}
	r := p.s[p.pos:]
	if len(r) > 12 {
		r = r[:12] + "..."
	}
	return strconv.Quote(r)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// eat skips space and consumes tok if it comes next.
func (p *parser) eat(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *parser) want(tok, where string) error {
	if !p.eat(tok) {
		return p.errorf(p.pos, "want %q %s, found %s", tok, where, p.describe())
	}
	return nil
}

func (p *parser) str(s string) string {
	if p.intern == nil {
		return s
	}
	if t, ok := p.intern[s]; ok {
		return t
	}
	s = strings.Clone(s)
	p.intern[s] = s
	return s
}

// strValue boxes s as a Str, sharing the box when interning.
func (p *parser) strValue(s string) Value {
	if p.strs == nil {
		return Str(s)
	}
	if v, ok := p.strs[s]; ok {
		return v
	}
	v := Value(Str(s))
	p.strs[s] = v
	return v
}

func (p *parser) value(depth int) (Value, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, p.errorf(p.pos, "want a value, found end of input")
	}
	if depth >= MaxDepth {
		return nil, p.errorf(p.pos, "values nested deeper than %d", MaxDepth)
	}
	start := p.pos
	if p.cache != nil {
		if end := p.matchEnd(); end-start >= minCached {
			raw := p.s[start:end]
			if v, ok := p.cache[raw]; ok {
				p.pos = end
				return v, nil
			}
			v, err := p.composite(start, depth)
			if err == nil && p.pos == end {
				p.cache[strings.Clone(raw)] = v
			}
			return v, err
		}
	}
	return p.composite(start, depth)
}

// matchEnd returns the end of the bracketed text that starts at the current position, or
// -1. It only balances brackets (and skips string literals); the parser checks the rest.
func (p *parser) matchEnd() int {
	depth := 0
	for i := p.pos; i < len(p.s); i++ {
		switch c := p.s[i]; c {
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
		case '<', '>':
			if i+1 >= len(p.s) || p.s[i+1] != c {
				return -1
			}
			i++
			if c == '<' {
				depth++
			} else {
				depth--
			}
		case '"':
			for i++; i < len(p.s) && p.s[i] != '"'; i++ {
				if p.s[i] == '\\' {
					i++
				}
			}
			if i >= len(p.s) {
				return -1
			}
		default:
			if i == p.pos {
				return -1
			}
			continue
		}
		if depth <= 0 {
			return i + 1
		}
	}
	return -1
}

// composite parses the value at start; value has checked the depth and skipped space.
func (p *parser) composite(start, depth int) (Value, error) {
	switch c := p.s[p.pos]; {
	case c == '{':
		p.pos++
		return p.set(start, depth)
	case c == '<':
		if !strings.HasPrefix(p.s[p.pos:], "<<") {
			return nil, p.errorf(p.pos, "want \"<<\", found %s", p.describe())
		}
		p.pos += 2
		return p.seq(start, depth)
	case c == '[':
		p.pos++
		return p.record(start, depth)
	case c == '(':
		p.pos++
		return p.function(start, depth)
	case c == '"':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return p.strValue(s), nil
	case c == '-' || isDigit(c):
		lo, err := p.integer()
		if err != nil {
			return nil, err
		}
		save := p.pos
		if !p.eat("..") {
			p.pos = save
			return Int(lo), nil
		}
		p.skipSpace()
		hiAt := p.pos
		if p.pos >= len(p.s) || p.s[p.pos] != '-' && !isDigit(p.s[p.pos]) {
			return nil, p.errorf(p.pos, "want the upper bound of the interval, found %s", p.describe())
		}
		hi, err := p.integer()
		if err != nil {
			return nil, err
		}
		if hi >= lo && uint64(hi-lo) >= MaxInterval {
			return nil, p.errorf(hiAt, "interval %d..%d has more than %d elements", lo, hi, MaxInterval)
		}
		if hi < lo {
			return Set{}, nil
		}
		elems := make([]Value, 0, uint64(hi-lo)+1)
		for i := range uint64(hi-lo) + 1 {
			elems = append(elems, Int(lo+int64(i)))
		}
		return Set{elems: elems}, nil
	case isLetter(c) || c == '_':
		id := p.ident()
		switch id {
		case "TRUE":
			return Bool(true), nil
		case "FALSE":
			return Bool(false), nil
		}
		if !isIdent(id) {
			return nil, p.errorf(start, "%q is not an identifier", id)
		}
		return ModelValue(p.str(id)), nil
	default:
		return nil, p.errorf(p.pos, "want a value, found %s", p.describe())
	}
}

// ident reads [A-Za-z0-9_]* at the current position.
func (p *parser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) integer() (int64, error) {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == digits {
		return 0, p.errorf(p.pos, "want digits after '-', found %s", p.describe())
	}
	if p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		return 0, p.errorf(p.pos, "unexpected %q in a number", p.s[p.pos])
	}
	n, err := strconv.ParseInt(p.s[start:p.pos], 10, 64)
	if err != nil {
		return 0, p.errorf(start, "integer %s out of range", p.s[start:p.pos])
	}
	return n, nil
}

// quoted reads a string literal at the current position (which holds '"').
func (p *parser) quoted() (string, error) {
	start := p.pos
	p.pos++
	var b []byte // nil while the literal has no escapes
	from := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch c {
		case '"':
			var s string
			if b == nil {
				s = p.str(p.s[from:p.pos])
			} else {
				s = p.str(string(append(b, p.s[from:p.pos]...)))
			}
			p.pos++
			return s, nil
		case '\n', '\r':
			return "", p.errorf(p.pos, "line break in a string (TLC prints \\n)")
		case '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.errorf(p.pos, "unterminated escape in a string")
			}
			var r byte
			switch p.s[p.pos+1] {
			case '"':
				r = '"'
			case '\\':
				r = '\\'
			case 'n':
				r = '\n'
			case 't':
				r = '\t'
			case 'r':
				r = '\r'
			case 'f':
				r = '\f'
			default:
				return "", p.errorf(p.pos, "bad escape %q in a string", p.s[p.pos:p.pos+2])
			}
			b = append(b, p.s[from:p.pos]...)
			b = append(b, r)
			p.pos += 2
			from = p.pos
		default:
			p.pos++
		}
	}
	return "", p.errorf(start, "unterminated string")
}

func (p *parser) set(start, depth int) (Value, error) {
	elems, err := p.list(start, depth, "}", "set")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(elems, Compare)
	return Set{elems: slices.CompactFunc(elems, Equal)}, nil
}

func (p *parser) seq(start, depth int) (Value, error) {
	elems, err := p.list(start, depth, ">>", "tuple")
	if err != nil {
		return nil, err
	}
	return Seq{elems: elems}, nil
}

// list parses comma-separated values up to the closing delimiter, whose opening one is at
// offset start; what names the construct in errors.
func (p *parser) list(start, depth int, closing, what string) ([]Value, error) {
	if p.eat(closing) {
		return nil, nil
	}
	var elems []Value
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		if p.eat(closing) {
			return elems, nil
		}
		if !p.eat(",") {
			return nil, p.errorf(p.pos, "want \",\" or %q in the %s opened at offset %d, found %s", closing, what, start, p.describe())
		}
	}
}

// keyed is a pair with the offset of its key, for duplicate-key errors.
type keyed struct {
	Pair
	at int
}

// finish sorts pairs, rejects duplicate keys and picks the canonical representation.
func (p *parser) finish(ks []keyed, what string) (Value, error) {
	slices.SortStableFunc(ks, func(a, b keyed) int { return Compare(a.Key, b.Key) })
	for i := 1; i < len(ks); i++ {
		if Equal(ks[i-1].Key, ks[i].Key) {
			at := max(ks[i-1].at, ks[i].at)
			return nil, p.errorf(at, "duplicate %s %s", what, ks[i].Key)
		}
	}
	ps := make([]Pair, len(ks))
	for i, k := range ks {
		ps[i] = k.Pair
	}
	return funcOf(ps), nil
}

func (p *parser) record(start, depth int) (Value, error) {
	var ks []keyed
	for {
		p.skipSpace()
		at := p.pos
		name := p.ident()
		if name == "" || isDigit(name[0]) {
			return nil, p.errorf(at, "want a field name in the record opened at offset %d, found %s", start, p.describe())
		}
		if err := p.want("|->", "after the field name"); err != nil {
			return nil, err
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks = append(ks, keyed{Pair{p.strValue(p.str(name)), v}, at})
		if p.eat("]") {
			break
		}
		if !p.eat(",") {
			return nil, p.errorf(p.pos, "want \",\" or \"]\" in the record opened at offset %d, found %s", start, p.describe())
		}
	}
	return p.finish(ks, "field")
}

func (p *parser) function(start, depth int) (Value, error) {
	var ks []keyed
	for {
		p.skipSpace()
		at := p.pos
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.want(":>", "after the key"); err != nil {
			return nil, err
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks = append(ks, keyed{Pair{k, v}, at})
		if p.eat(")") {
			break
		}
		if !p.eat("@@") {
			return nil, p.errorf(p.pos, "want \"@@\" or \")\" in the function opened at offset %d, found %s", start, p.describe())
		}
	}
	return p.finish(ks, "key")
}

// State is one TLC state: each variable's name and value.
type State map[string]Value

// ParseState parses a state as TLC prints it in dumps, traces and dot labels: lines
// "/\ var = value" (a value may continue on the following lines), or a lone "var = value"
// when the spec has a single variable. Errors are *ParseError: a missing "=", a duplicate
// variable, a bad value.
func ParseState(s string) (State, error) {
	p := parser{s: s}
	return p.state()
}

// state parses a state; with p.cache the many states of a dump that share a variable's
// value parse it once.
func (p *parser) state() (State, error) {
	st := State{}
	p.skipSpace()
	conj := strings.HasPrefix(p.s[p.pos:], `/\`)
	for {
		p.skipSpace()
		if conj {
			if p.pos >= len(p.s) {
				break
			}
			if !strings.HasPrefix(p.s[p.pos:], `/\`) {
				return nil, p.errorf(p.pos, `want "/\" before the next variable, found %s`, p.describe())
			}
			p.pos += 2
			p.skipSpace()
		}
		at := p.pos
		name := p.ident()
		if name == "" || isDigit(name[0]) {
			return nil, p.errorf(at, "want a variable name, found %s", p.describe())
		}
		if _, dup := st[name]; dup {
			return nil, p.errorf(at, "duplicate variable %q", name)
		}
		if !p.eat("=") {
			return nil, p.errorf(p.pos, "missing \"=\" after variable %q, found %s", name, p.describe())
		}
		v, err := p.cachedValue()
		if err != nil {
			return nil, err
		}
		st[p.str(name)] = v
		if !conj {
			p.skipSpace()
			if p.pos < len(p.s) {
				return nil, p.errorf(p.pos, "unexpected %s after the value of %q", p.describe(), name)
			}
			break
		}
	}
	return st, nil
}

// cachedValue parses the value at the current position through cache. A value never
// contains a line that starts with "/\" (strings cannot hold a raw line break), so the
// text up to the next such line, or the end, is the value and its trailing space whenever
// the state is well formed.
func (p *parser) cachedValue() (Value, error) {
	if p.cache == nil {
		return p.value(0)
	}
	p.skipSpace()
	end := len(p.s)
	if i := strings.Index(p.s[p.pos:], "\n/\\"); i >= 0 {
		end = p.pos + i
	}
	raw := p.s[p.pos:end]
	if v, ok := p.cache[raw]; ok {
		p.pos = end
		return v, nil
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos == end {
		p.cache[strings.Clone(raw)] = v
	}
	return v, nil
}

// Equal reports whether s and t have the same variables with Equal values.
func (s State) Equal(t State) bool {
	if len(s) != len(t) {
		return false
	}
	for k, v := range s {
		w, ok := t[k]
		if !ok || !Equal(v, w) {
			return false
		}
	}
	return true
}

// String prints the state as "/\ var = value" lines sorted by variable name, values in
// canonical form; ParseState reads it back.
func (s State) String() string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	slices.Sort(names)
	var b []byte
	for i, k := range names {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, `/\ `...)
		b = append(b, k...)
		b = append(b, " = "...)
		if s[k] == nil {
			b = append(b, "<nil>"...)
			continue
		}
		b = s[k].appendTo(b)
	}
	return string(b)
}
