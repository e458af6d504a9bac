package spec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tlc"
)

// ErrManifest means a malformed line in configs.tsv.
var ErrManifest = errors.New("malformed model manifest")

// Model is one TLC run listed in configs.tsv.
type Model struct {
	// Dir is the model's folder below spec/; Module its root module; Config its .cfg file.
	Dir, Module, Config string
	// Bug is "" for a CI config (which must pass), else the seeded bug's name.
	Bug string
	// Distinct is a CI config's exact distinct-state count (one TLC worker).
	Distinct int64
	// Violates is the property a seeded bug must violate.
	Violates string
}

// Name is "dir/config".
func (m Model) Name() string { return m.Dir + "/" + m.Config }

// Options are the TLC options that check model m, whose manifest is in root, with the given
// number of workers. A seeded bug's run stops at its first counterexample, within seconds,
// so it runs Quick. A clean model's run explores its whole world anyway, so it checks
// liveness once, on the finished graph (-lncheck final), instead of again and again as the
// graph grows: LivenessDrop.cfg 31 s instead of 39 s (a seeded liveness bug is found
// sooner by the periodic checks).
func (m Model) Options(root string, workers int) tlc.Options {
	opts := tlc.Options{Dir: filepath.Join(root, m.Dir), Spec: m.Module, Config: m.Config, Workers: workers, Quick: m.Bug != ""}
	if m.Bug == "" {
		opts.Args = []string{"-lncheck", "final"}
	}
	return opts
}

// LoadModels reads the manifest at path (spec/configs.tsv).
func LoadModels(path string) ([]Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	return ParseModels(f)
}

// ParseModels reads a manifest: tab-separated dir, module, config, bug ("-" for a CI
// config) and expectation (distinct states, or the property to violate); '#' starts a
// comment line.
func ParseModels(r io.Reader) ([]Model, error) {
	var out []Model
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "\t")
		if len(cols) != 5 {
			return nil, fmt.Errorf("spec: line %d: %w: want 5 tab-separated columns, got %d", line, ErrManifest, len(cols))
		}
		for i, c := range cols {
			if strings.TrimSpace(c) == "" {
				return nil, fmt.Errorf("spec: line %d: %w: column %d is empty", line, ErrManifest, i+1)
			}
		}
		m := Model{Dir: cols[0], Module: cols[1], Config: cols[2]}
		if cols[3] == "-" {
			n, err := strconv.ParseInt(cols[4], 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("spec: line %d: %w: distinct states %q", line, ErrManifest, cols[4])
			}
			m.Distinct = n
		} else {
			m.Bug, m.Violates = cols[3], cols[4]
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("spec: %w: no models", ErrManifest)
	}
	return out, nil
}

// Unwitnessed returns the liveness properties a config checks without its run having shown
// them non-vacuous: for a config whose SPECIFICATION is a fair one (FairSpec,
// SnapshotFairSpec), every name of its PROPERTIES that is not in witnessed, the names the
// spec's Witnesses invariant printed (tlc.Result.Witnessed). A property no state of the world
// is about (L3 in a world without merges, L5 where the table is never dropped) holds
// vacuously and checks nothing, so a CI config must not claim it. A config without the
// Witnesses invariant witnesses nothing.
func Unwitnessed(cfg string, witnessed []string) []string {
	fair := false
	for _, s := range tlc.ConfigNames(cfg, "SPECIFICATION") {
		fair = fair || strings.Contains(s, "Fair")
	}
	if !fair {
		return nil
	}
	var out []string
	for _, p := range tlc.ConfigNames(cfg, "PROPERTY", "PROPERTIES") {
		if !slices.Contains(witnessed, p) {
			out = append(out, p)
		}
	}
	return out
}

// Vacuous reads model m's config in root (the folder of its manifest) and returns the
// liveness properties its run, which witnessed the given names, checked vacuously
// (Unwitnessed).
func (m Model) Vacuous(root string, witnessed []string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, m.Dir, m.Config))
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return Unwitnessed(string(data), witnessed), nil
}
