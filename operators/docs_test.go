package operators

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docsPaths are the pages that show the generated diagrams.
var docsPaths = []string{"../docs/operators.md", "../README.md"}

const (
	beginMark  = "<!-- BEGIN GENERATED: go test ./operators -run TestDocsUpToDate with UPDATE_DOCS=1 -->"
	endMarkDoc = "<!-- END GENERATED -->"
)

// generatedDiagrams renders every operator definition as a Mermaid block.
func generatedDiagrams() string {
	var b strings.Builder
	for _, d := range Definitions() {
		fmt.Fprintf(&b, "### %s\n\n```mermaid\n%s```\n\n", d.Name(), d.Mermaid())
		var ign []string
		for _, e := range d.IgnoredEdges() {
			ign = append(ign, fmt.Sprintf("%s in %s", d.TriggerName(e.Trigger), d.StateName(e.From)))
		}
		if len(ign) > 0 {
			fmt.Fprintf(&b, "Ignored (accepted, no state change): %s.\n\n", strings.Join(ign, "; "))
		}
	}
	return b.String()
}

// TestDocsUpToDate fails when docs/operators.md shows diagrams that differ from the
// definitions; run it with UPDATE_DOCS=1 to rewrite the generated section.
func TestDocsUpToDate(t *testing.T) {
	for _, path := range docsPaths {
		t.Run(filepath.Base(path), func(t *testing.T) { checkGenerated(t, path) })
	}
}

func checkGenerated(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(data)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMarkDoc)
	require.True(t, i >= 0 && j > i, "markers missing in %s", path)
	want := doc[:i+len(beginMark)] + "\n\n" + generatedDiagrams() + doc[j:]
	if os.Getenv("UPDATE_DOCS") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, doc, "%s is stale: UPDATE_DOCS=1 go test ./operators -run TestDocsUpToDate", path)
}
