package scenario

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors a decode or run error wraps, for callers that branch on the kind.
var (
	// ErrSyntax: a line that is not a statement of the format, or a malformed field.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownNode, ErrUnknownTable, ErrUnknownDispatcher: a name the cluster does not have.
	ErrUnknownNode       = errors.New("unknown node")
	ErrUnknownTable      = errors.New("unknown table")
	ErrUnknownDispatcher = errors.New("unknown dispatcher")
	// ErrForbidden: an operation or layout the domain does not allow (overlapping spans, a
	// table not covered exactly once, a split key outside the span, a merge of one span...).
	ErrForbidden = errors.New("forbidden by the domain")
)

// Error is a decode or run error: the file, line and field at fault.
type Error struct {
	File  string
	Line  int
	Field string
	Err   error
}

// Error formats the error as file:line: field: cause.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d: ", e.Line)
	} else if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause (one of the sentinels, possibly wrapped).
func (e *Error) Unwrap() error { return e.Err }

// fieldErr is an error about one field; the decoder's wrap turns it into an *Error.
type fieldErr struct {
	field string
	err   error
}

func (f *fieldErr) Error() string { return f.field + ": " + f.err.Error() }
func (f *fieldErr) Unwrap() error { return f.err }

// bad is an error about field: sentinel, then the formatted detail.
func bad(field string, sentinel error, format string, args ...any) error {
	return &fieldErr{field: field, err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}
