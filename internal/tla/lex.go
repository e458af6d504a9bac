package tla

import (
	"fmt"
	"strconv"
	"strings"
)

// IsIdent reports whether s is a TLA+ identifier as this package reads one: a letter or
// underscore, then letters, digits and underscores, with at least one letter, and not TRUE
// or FALSE. A record's field names are identifiers; a model value prints as one.
func IsIdent(s string) bool {
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

func (p *Parser) errorf(off int, format string, args ...any) *ParseError {
	return &ParseError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// describe names what is at the current position, for error messages.
func (p *Parser) describe() string {
	if p.pos >= len(p.s) {
		return "end of input"
	}
	r := p.s[p.pos:]
	if len(r) > 12 {
		r = r[:12] + "..."
	}
	return strconv.Quote(r)
}

func (p *Parser) skipSpace() {
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
func (p *Parser) eat(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *Parser) want(tok, where string) error {
	if !p.eat(tok) {
		return p.errorf(p.pos, "want %q %s, found %s", tok, where, p.describe())
	}
	return nil
}

func (p *Parser) str(s string) string {
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
func (p *Parser) strValue(s string) Value {
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

// matchEnd returns the end of the bracketed text that starts at the current position, or
// -1. It only balances brackets (and skips string literals); the parser checks the rest.
func (p *Parser) matchEnd() int {
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

// ident reads [A-Za-z0-9_]* at the current position.
func (p *Parser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *Parser) integer() (int64, error) {
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
func (p *Parser) quoted() (string, error) {
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
