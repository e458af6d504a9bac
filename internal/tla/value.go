package tla

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// appendTo appends what String returns to b (AppendCanonical); being unexported, it
	// also keeps the set of value types closed.
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
			return nil, errors.New("tla: function pair with a nil key or value")
		}
	}
	slices.SortFunc(ps, func(a, b Pair) int { return Compare(a.Key, b.Key) })
	for i := 1; i < len(ps); i++ {
		if Equal(ps[i-1].Key, ps[i].Key) {
			return nil, fmt.Errorf("tla: duplicate key %s in a function", ps[i].Key)
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
		if k, ok := p.Key.(Str); !ok || !IsIdent(string(k)) {
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
	panic("tla: funcAt on a non-function")
}

// Equal reports whether a and b are the same TLA+ value (Compare(a, b) == 0).
func Equal(a, b Value) bool { return Compare(a, b) == 0 }
