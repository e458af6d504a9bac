package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExample runs the example end to end: a maintainer killed mid-merge, a new one
// recovering the merge from the node's journal, a converged cluster.
func TestExample(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, 30*time.Second), out.String())
	require.Contains(t, out.String(), "3.4-merge-resume")
	require.Contains(t, out.String(), "table 1 is ab on B")
	t.Log(out.String())
}
