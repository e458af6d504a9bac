package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		notInOut string
	}{
		{"no verb", nil, exitBadInput, "", "usage: opfsm VERB", ""},
		{"help", []string{"help"}, exitOK, "", "graph", ""},
		{"unknown verb", []string{"fly"}, exitBadInput, "", `unknown verb "fly"`, ""},
		{"all graphs", []string{"graph"}, exitOK, "RemoveOrigin --> AddDest: OriginStopped", "", ""},
		{"one graph as dot", []string{"graph", "--format", "dot", "merge"}, exitOK, `digraph "merge"`, "", "RemoveOrigin"},
		{"unknown operator", []string{"graph", "teleport"}, exitBadInput, "", `unknown operator "teleport"`, ""},
		{"unknown format", []string{"graph", "--format", "png"}, exitBadInput, "", `unknown --format "png"`, ""},
		{"unknown flag", []string{"graph", "--colour"}, exitBadInput, "", "flag provided but not defined", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			require.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			require.Contains(t, out.String(), tc.stdout)
			require.Contains(t, errOut.String(), tc.stderr)
			if tc.notInOut != "" {
				require.False(t, strings.Contains(out.String(), tc.notInOut))
			}
		})
	}
}
