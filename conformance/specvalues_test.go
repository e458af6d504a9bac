package conformance

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendQuoted: the spec's plain identifiers are copied between quotes, and every other
// string is escaped exactly as strconv.Quote does.
func TestAppendQuoted(t *testing.T) {
	for _, s := range []string{"", "Working", "t100-e2-m", `a"b`, `a\b`, "tab\there", "\x7f", "é", "\x00"} {
		require.Equal(t, strconv.Quote(s), string(appendQuoted([]byte("x"), s))[1:], "%q", s)
	}
}

// FuzzAppendQuoted: appendQuoted is strconv.AppendQuote for any string.
func FuzzAppendQuoted(f *testing.F) {
	f.Add("Working")
	f.Add(`a"\b`)
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, strconv.Quote(s), string(appendQuoted(nil, s)))
	})
}
