package tla

import (
	"slices"
	"strings"
)

// State is one TLC state: each variable's name and value.
type State map[string]Value

// ParseState parses a state as TLC prints it in dumps, traces and dot labels: lines
// "/\ var = value" (a value may continue on the following lines), or a lone "var = value"
// when the spec has a single variable. Errors are *ParseError: a missing "=", a duplicate
// variable, a bad value.
func ParseState(s string) (State, error) {
	var p Parser
	return p.ParseState(s)
}

// ParseState parses s as the function ParseState does, sharing strings and values with the
// states p parsed before.
func (p *Parser) ParseState(s string) (State, error) {
	p.s, p.pos = s, 0
	return p.state()
}

// state parses a state; with p.cache the many states of a dump that share a variable's
// value parse it once.
func (p *Parser) state() (State, error) {
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
func (p *Parser) cachedValue() (Value, error) {
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
