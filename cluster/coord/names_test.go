package coord

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckNameEdges: a node name is 1 to 64 bytes, each an ASCII letter or digit, '.',
// '_' or '-'; the bytes on either side of each range are refused, naming the byte.
func TestCheckNameEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  string // "" when accepted
	}{
		{"a", ""}, {"z", ""}, {"A", ""}, {"Z", ""}, {"0", ""}, {"9", ""},
		{".", ""}, {"_", ""}, {"-", ""},
		{"n.A-z_9", ""},
		{strings.Repeat("n", maxNameLen), ""},
		{"`", "node name \"`\": byte '`' at 0 is not a letter, digit, '.', '_' or '-'"},
		{"n{", `node name "n{": byte '{' at 1 is not a letter, digit, '.', '_' or '-'`},
		{"@", `node name "@": byte '@' at 0 is not a letter, digit, '.', '_' or '-'`},
		{"[", `node name "[": byte '[' at 0 is not a letter, digit, '.', '_' or '-'`},
		{"/", `node name "/": byte '/' at 0 is not a letter, digit, '.', '_' or '-'`},
		{":", `node name ":": byte ':' at 0 is not a letter, digit, '.', '_' or '-'`},
		{"^", `node name "^": byte '^' at 0 is not a letter, digit, '.', '_' or '-'`},
		{"\x80", `node name "\x80": byte '\u0080' at 0 is not a letter, digit, '.', '_' or '-'`},
		{"", "empty node name"},
		{strings.Repeat("n", maxNameLen+1), `node name "nnnnnnnnnnnnnnnnnnnn"... longer than 64 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkName(tc.name)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.err)
		})
	}
}

// TestParseNodeIDErrors: each way a node id is malformed has its own message.
func TestParseNodeIDErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"n1", `node id "n1" has no '@incarnation' suffix`},
		{"@1", `node id "@1": empty node name`},
		{"n 1@1", `node id "n 1@1": node name "n 1": byte ' ' at 1 is not a letter, digit, '.', '_' or '-'`},
		{"n1@", `node id "n1@": incarnation "" is not a canonical positive hex lease id`},
		{"n1@0", `node id "n1@0": incarnation "0" is not a canonical positive hex lease id`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := parseNodeID(tc.in)
			require.EqualError(t, err, tc.err)
		})
	}
}
