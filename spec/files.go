package spec

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
)

// files is the spec as it is built into programs: the manifest and every model's modules
// and configs.
//
//go:embed configs.tsv failover/*.tla failover/*.cfg smoke/*.tla smoke/*.cfg
var files embed.FS

// Files returns the spec built into the program: configs.tsv and the folders it lists
// (failover, smoke), each with its TLA+ modules and TLC configs, laid out as in the
// repository's spec folder.
func Files() fs.FS { return files }

// Unpack writes Files into a new temporary folder (opfsm-spec-*) and returns its path, so
// that TLC can read the spec wherever the program runs. The caller removes the folder.
func Unpack() (string, error) {
	dir, err := os.MkdirTemp("", "opfsm-spec-")
	if err != nil {
		return "", fmt.Errorf("spec: unpacking: %w", err)
	}
	if err := os.CopyFS(dir, files); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("spec: unpacking: %w", err)
	}
	return dir, nil
}
