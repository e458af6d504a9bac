package doccheck_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/internal/doccheck"
)

// TestRepository fails when any exported name of the module lacks a doc comment, or a
// package lacks its doc.go.
func TestRepository(t *testing.T) {
	problems, err := doccheck.Tree(filepath.Join("..", ".."))
	require.NoError(t, err)
	var lines []string
	for _, p := range problems {
		lines = append(lines, p.String())
	}
	require.Empty(t, lines, "undocumented:\n%s", strings.Join(lines, "\n"))
}

// TestCatchesMissingDocs is the seeded bug: a package with an undocumented exported func,
// type, method and constant, and no doc.go, must be reported on each count.
func TestCatchesMissingDocs(t *testing.T) {
	dir := t.TempDir()
	src := `package bad

type Thing struct{}

func (Thing) Do() {}

func Make() Thing { return Thing{} }

const Limit = 3

// Documented is fine.
func Documented() {}

func unexported() {}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.go"), []byte(src), 0o644))
	problems, err := doccheck.Dir(dir)
	require.NoError(t, err)
	var whats []string
	for _, p := range problems {
		whats = append(whats, p.What)
	}
	require.ElementsMatch(t, []string{
		"package bad: no doc.go with a package comment",
		"type Thing has no doc comment",
		"func Do has no doc comment",
		"func Make has no doc comment",
		"name Limit has no doc comment",
	}, whats)
}
