package tla

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrSyntax is the sentinel every parse error of this package wraps, and that parsers of
// texts holding values (such as TLC's dumps) wrap too: test with errors.Is(err, ErrSyntax),
// and errors.As with *ParseError for the offset.
var ErrSyntax = errors.New("tla: syntax error")

// ParseError is a syntax error in a value or state text: Offset is the byte offset in the
// text where parsing failed and Msg says what was wrong there.
type ParseError struct {
	Offset int
	Msg    string
}

// Error returns the message with its offset.
func (e *ParseError) Error() string {
	return fmt.Sprintf("tla: offset %d: %s", e.Offset, e.Msg)
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

// ParseValue parses one value as TLC prints it: integers (-3), strings ("a\"b" with the
// escapes \" \\ \n \t \r \f), TRUE and FALSE, model values (bare identifiers), sets
// {a, b}, intervals 1..3 (read as sets), tuples <<a, b>> and << >>, records [a |-> 1] and
// functions (k1 :> v1 @@ k2 :> v2). Whitespace, newlines included, may separate tokens.
// The whole text must be one value; errors are *ParseError.
func ParseValue(s string) (Value, error) {
	p := Parser{s: s}
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

// Parser parses the many states of one large text, such as TLC's state graph dump, whose
// states repeat most of their strings and values: a Parser from NewParser shares the
// strings of repeated strings and identifiers, and parses a composite text it has seen
// before only once. The zero Parser shares nothing and parses as ParseState does. A Parser
// is not safe for concurrent use.
type Parser struct {
	// s is the text being parsed and pos the offset of the next byte to read.
	s   string
	pos int
	// intern, when not nil, shares the strings of repeated strings and identifiers.
	intern map[string]string
	// strs shares the boxed Str values of intern's strings.
	strs map[string]Value
	// cache, when not nil, maps the exact text of a composite value (or of a variable's
	// value in a state) to the value, so text repeated across states is parsed once.
	cache map[string]Value
}

// NewParser returns a Parser that shares repeated strings and caches repeated values.
func NewParser() *Parser {
	return &Parser{intern: map[string]string{}, strs: map[string]Value{}, cache: map[string]Value{}}
}

// Intern returns s, or a string equal to s that the parser already holds, so that the many
// copies of a repeated name (an action label, say) share one string.
func (p *Parser) Intern(s string) string { return p.str(s) }

// minCached is the shortest composite text worth a cache look-up.
const minCached = 32

func (p *Parser) value(depth int) (Value, error) {
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

// composite parses the value at start; value has checked the depth and skipped space.
func (p *Parser) composite(start, depth int) (Value, error) {
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
		if !IsIdent(id) {
			return nil, p.errorf(start, "%q is not an identifier", id)
		}
		return ModelValue(p.str(id)), nil
	default:
		return nil, p.errorf(p.pos, "want a value, found %s", p.describe())
	}
}

func (p *Parser) set(start, depth int) (Value, error) {
	elems, err := p.list(start, depth, "}", "set")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(elems, Compare)
	return Set{elems: slices.CompactFunc(elems, Equal)}, nil
}

func (p *Parser) seq(start, depth int) (Value, error) {
	elems, err := p.list(start, depth, ">>", "tuple")
	if err != nil {
		return nil, err
	}
	return Seq{elems: elems}, nil
}

// list parses comma-separated values up to the closing delimiter, whose opening one is at
// offset start; what names the construct in errors.
func (p *Parser) list(start, depth int, closing, what string) ([]Value, error) {
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
func (p *Parser) finish(ks []keyed, what string) (Value, error) {
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

func (p *Parser) record(start, depth int) (Value, error) {
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

func (p *Parser) function(start, depth int) (Value, error) {
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
