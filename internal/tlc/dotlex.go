package tlc

import (
	"strconv"
	"strings"
)

// The tokens of a dot line: state ids, attribute lists and their quoted strings.

// isDigit reports whether c is a decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentByte reports whether c may stand in an identifier: a letter, a digit or '_'.
func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '_'
}

func isIdentLike(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// leadingID reads a signed decimal id at the start of s.
func leadingID(s string) (int64, string, bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i {
		return 0, s, false
	}
	id, err := strconv.ParseInt(s[:j], 10, 64)
	if err != nil {
		return 0, s, false
	}
	return id, s[j:], true
}

// attrs parses "[k=v,k = v,...]" at the start of s (values quoted with dot escapes, or
// bare) and returns the attributes and the rest of s.
func (d *dotParser) attrs(s string) (map[string]string, string, error) {
	if !strings.HasPrefix(s, "[") {
		return nil, s, d.errorf(d.line, "want \"[\"")
	}
	i := 1
	out := map[string]string{}
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	for {
		skip()
		if i < len(s) && s[i] == ']' && len(out) == 0 {
			return out, s[i+1:], nil
		}
		k := i
		for i < len(s) && isIdentByte(s[i]) {
			i++
		}
		key := s[k:i]
		if key == "" {
			return nil, "", d.errorf(d.line, "want an attribute name at column %d", i+1)
		}
		skip()
		if i >= len(s) || s[i] != '=' {
			return nil, "", d.errorf(d.line, "want \"=\" after attribute %q", key)
		}
		i++
		skip()
		var val string
		if i < len(s) && s[i] == '"' {
			v, n, err := d.unquote(s[i:])
			if err != nil {
				return nil, "", err
			}
			val, i = v, i+n
		} else {
			v := i
			for i < len(s) && s[i] != ',' && s[i] != ']' && s[i] != ' ' {
				i++
			}
			if v == i {
				return nil, "", d.errorf(d.line, "attribute %q has no value", key)
			}
			val = s[v:i]
		}
		if _, dup := out[key]; dup {
			return nil, "", d.errorf(d.line, "attribute %q given twice", key)
		}
		out[key] = val
		skip()
		if i >= len(s) {
			return nil, "", d.errorf(d.line, "unterminated attribute list")
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			return out, s[i+1:], nil
		default:
			return nil, "", d.errorf(d.line, "want \",\" or \"]\" after attribute %q, found %s", key, clip([]byte(s[i:])))
		}
	}
}

// unquote decodes the dot string at the start of s (which holds '"'): TLC escapes \ as
// \\, " as \" and a line break as \n. It returns the text and the bytes consumed.
func (d *dotParser) unquote(s string) (string, int, error) {
	b := d.buf[:0]
	from := 1
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			if from == 1 && len(b) == 0 {
				return s[1:i], i + 1, nil
			}
			b = append(b, s[from:i]...)
			d.buf = b
			return string(b), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, d.errorf(d.line, "unterminated escape in a quoted string")
			}
			b = append(b, s[from:i]...)
			switch s[i+1] {
			case '\\':
				b = append(b, '\\')
			case '"':
				b = append(b, '"')
			case 'n':
				b = append(b, '\n')
			default:
				return "", 0, d.errorf(d.line, "bad escape %q in a quoted string", s[i:i+2])
			}
			i++
			from = i + 1
		}
	}
	return "", 0, d.errorf(d.line, "unterminated quoted string")
}

// clip quotes the start of b for an error message.
func clip(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40]) + "...")
	}
	return strconv.Quote(string(b))
}
