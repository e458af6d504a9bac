package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShippedScenarios: every file in scenarios/ decodes and passes.
func TestShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.scn")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := load(t, f)
			rep, err := Run(s, Options{})
			require.NoError(t, err)
			require.True(t, rep.Passed, "%s: violation %q failures %v\ntrace %v\nfinal %v", f, rep.Violation, rep.Failures, rep.Trace, rep.Final)
		})
	}
}

func load(t *testing.T, path string) *Scenario {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	s, err := Decode(fh, path)
	require.NoError(t, err)
	return s
}
