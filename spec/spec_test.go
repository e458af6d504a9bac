package spec_test

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/conformance"
	"github.com/opfsm/opfsm/internal/proctest"
	"github.com/opfsm/opfsm/internal/tlc"
	"github.com/opfsm/opfsm/spec"
)

// TestModels runs TLC on every model of configs.tsv: CI configs pass with exactly their
// recorded distinct-state count (a complete search finds the same number every time), and
// every seeded-bug variant fails on the property it names. The world of every CI config
// (conformance.CIConfigs) is also explored by the Go code, whose abstract state graph must
// equal TLC's, state by state and edge by edge: for a safety config one TLC run both
// checks the config and dumps the graph; a liveness config's world is dumped under
// StreamBound by a second run.
func TestModels(t *testing.T) {
	models, err := spec.LoadModels("configs.tsv")
	require.NoError(t, err)
	cov := newBranchCoverage(t, models)
	// The exhaustive runs first, so that no long run starts last.
	seeded := func(m spec.Model) int { return min(len(m.Bug), 1) }
	slices.SortStableFunc(models, func(a, b spec.Model) int { return cmp.Compare(seeded(a), seeded(b)) })
	for _, m := range models {
		t.Run(m.Name(), func(t *testing.T) {
			// One TLC worker per model, models side by side: counts stay exact and the
			// liveness config (the slowest) overlaps the others.
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			var res tlc.Result
			checked := false
			if m.Bug == "" && slices.Contains(conformance.CIConfigs, m.Config) {
				res, checked = requireSameGraph(ctx, t, m)
			}
			if !checked {
				res, err = tlc.Run(ctx, m.Options(".", 1))
				require.NoError(t, err)
			}
			t.Logf("%s: %s", m.Name(), res.Summary())
			requireVerdict(t, m, res)
			if m.Bug == "" {
				vacuous, err := m.Vacuous(".", res.Witnessed)
				require.NoError(t, err)
				require.Empty(t, vacuous, "liveness properties that no state of the world is about")
			}
			cov.add(m, res.Witnessed)
		})
	}
}

// requireSameGraph compares TLC's state graph of clean model m's world with the Go code's
// (conformance.CompareConfig): the same states, as many as TLC counts, and the same
// labelled edges, no invariant violated in the simulator. When TLC's run was the model's
// own check, it returns that run and true.
func requireSameGraph(ctx context.Context, t *testing.T, m spec.Model) (tlc.Result, bool) {
	t.Helper()
	c, err := conformance.CompareConfig(ctx, m.Dir, m.Config)
	require.NoError(t, err)
	t.Logf("graph: TLC %d states, %d edges in %s; simulator %d abstract states (%d concrete), %d edges in %s",
		c.Diff.States, c.SpecEdges, c.TLC.Duration.Round(time.Millisecond), c.Sim.Abstract, c.Sim.States, c.SimEdges, c.Sim.Elapsed.Round(time.Millisecond))
	require.Nil(t, c.Sim.Violation)
	require.True(t, c.Diff.Equal(), "the simulator's graph differs from TLC's: %+v\n%s", c.Diff, c.Diff.First)
	require.Equal(t, c.Diff.States, c.Sim.Abstract)
	return c.TLC, c.Checked
}

// notTakenInCI are the recovery branches (Recovery.tla, RecoveryBranches) that no CI world
// takes: no run from Init reaches them, so they are checked only from Snapshots.tla's worlds
// (make check-deep) or in Go (spec/README.md, "Recovery branches").
var notTakenInCI = []string{"RecoverMergePreCommitNoEvidence", "RecoverJournaledRemove",
	"RecoverOverlapLoser", "RecoverCleanupOneShot"}

// branchCoverage gathers the recovery branches the clean CI models of configs.tsv take and,
// once all of them ran, asserts that together they take every branch of Recovery.tla but
// notTakenInCI: a rule that becomes dead in CI, or a dead one that comes alive, fails.
type branchCoverage struct {
	mu    sync.Mutex
	taken map[string]bool
	left  int
}

func newBranchCoverage(t *testing.T, models []spec.Model) *branchCoverage {
	c := &branchCoverage{taken: map[string]bool{}, left: len(cleanModels(models))}
	src, err := os.ReadFile(filepath.Join("failover", "Recovery.tla"))
	require.NoError(t, err)
	var want []string
	for _, m := range regexp.MustCompile(`FirstTime\(\d+, "(Recover\w+)"`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(notTakenInCI, m[1]) {
			want = append(want, m[1])
		}
	}
	require.Len(t, want, 18-len(notTakenInCI), "the branches of Recovery.tla")
	t.Cleanup(func() {
		if t.Failed() || c.left > 0 {
			return // a filtered or failed run: the union is incomplete
		}
		got := c.branches()
		t.Logf("recovery branches taken by the CI worlds: %d of %d", len(got), len(want)+len(notTakenInCI))
		require.Equal(t, sorted(want), got, "recovery branches taken by the CI worlds (update notTakenInCI and spec/README.md)")
	})
	return c
}

// branches lists the branches taken so far, sorted.
func (c *branchCoverage) branches() []string {
	var got []string
	for b := range c.taken {
		got = append(got, b)
	}
	return sorted(got)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestBranchCoverageSeesADeadBranch: the coverage check counts only the clean models' recovery
// witnesses, so a CI set whose split worlds are gone misses the journaled-split branch, and
// a seeded-bug model cannot make up for it.
func TestBranchCoverageSeesADeadBranch(t *testing.T) {
	c := &branchCoverage{taken: map[string]bool{}, left: 2}
	c.add(spec.Model{Config: "Failover.cfg"}, []string{"Converge", "RecoverAdopt", "RecoverJournaledMove"})
	c.add(spec.Model{Config: "Bug.cfg", Bug: "some_bug"}, []string{"RecoverJournaledSplit"})
	c.add(spec.Model{Config: "Liveness.cfg"}, []string{"RecoverHole"})
	require.Zero(t, c.left)
	require.Equal(t, []string{"RecoverAdopt", "RecoverHole", "RecoverJournaledMove"}, c.branches())
	require.NotContains(t, c.branches(), "RecoverJournaledSplit")
}

func (c *branchCoverage) add(m spec.Model, witnessed []string) {
	if m.Bug != "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left--
	for _, w := range witnessed {
		if strings.HasPrefix(w, "Recover") {
			c.taken[w] = true
		}
	}
}

// requireVerdict: a CI config passes with exactly its recorded distinct-state count, a
// seeded bug fails with a counterexample on the property it names.
func requireVerdict(t *testing.T, m spec.Model, res tlc.Result) {
	t.Helper()
	require.Empty(t, res.Error, res.Output)
	if m.Bug == "" {
		require.True(t, res.Passed, res.Summary())
		require.Equal(t, m.Distinct, res.Distinct, "distinct states drifted: update configs.tsv and spec/README.md if the change is intended")
		return
	}
	require.False(t, res.Passed, "seeded bug %s was not caught", m.Bug)
	require.Equal(t, m.Violates, res.Violated, res.Summary())
	require.Positive(t, res.TraceLength)
}

// TestEveryBugHasACleanTwin: every seeded-bug model of configs.tsv has a clean twin, a model
// with the same constants but the bug switch (Bug, or Smoke's Fence) and the same kind of
// specification (safety, or FairSpec for liveness), checked in CI (configs.tsv) or, when too
// large for CI, by make check-deep (deep.tsv, which the Makefile must run). So a bug is never
// caught only in a world where the correct design was never shown to pass.
func TestEveryBugHasACleanTwin(t *testing.T) {
	models, err := spec.LoadModels("configs.tsv")
	require.NoError(t, err)
	deep, err := spec.LoadModels("deep.tsv")
	require.NoError(t, err)
	makefile, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	require.Contains(t, string(makefile), "spec/deep.tsv", "make check-deep must check the deep models")
	all := append(slices.Clone(models), deep...)
	require.Greater(t, len(all)-len(cleanModels(all)), 20, "seeded bugs")
	require.Empty(t, missingTwins(t, all))

	// The check fails when a twin is missing: without ThreeEpochs.cfg, bootstrap_no_fence
	// (three epochs) has none.
	without := slices.DeleteFunc(slices.Clone(all), func(m spec.Model) bool { return m.Config == "ThreeEpochs.cfg" })
	require.Equal(t, []string{"failover/BootstrapNoFence.cfg"}, missingTwins(t, without))
}

// missingTwins names the seeded-bug models of ms with no clean model of the same world.
func missingTwins(t *testing.T, ms []spec.Model) []string {
	world := func(m spec.Model, variant bool) string {
		body, err := os.ReadFile(filepath.Join(m.Dir, m.Config))
		require.NoError(t, err)
		return worldOf(string(body), variant)
	}
	clean := map[string]bool{}
	for _, m := range cleanModels(ms) {
		clean[world(m, false)] = true
	}
	var missing []string
	for _, m := range ms {
		if m.Bug != "" && !clean[world(m, true)] {
			missing = append(missing, m.Name())
		}
	}
	return missing
}

// cleanModels are the models of ms without a seeded bug.
func cleanModels(ms []spec.Model) []spec.Model {
	return slices.DeleteFunc(slices.Clone(ms), func(m spec.Model) bool { return m.Bug != "" })
}

// worldOf is a config's world: its constants but the bug switch, the transport
// assumptions it overrides (CONSTANT StatusRouting <- RoutedToOwner), and whether it checks
// liveness (FairSpec), as one comparable text. For an expected-violation row that is a
// transport variant (variant: Bug = "none" and an override), the override is the "bug" and is
// left out, so its twin is the default transport's world.
func worldOf(cfg string, variant bool) string {
	var parts []string
	in := false
	variant = variant && strings.Contains(cfg, `Bug = "none"`)
	for _, line := range strings.Split(cfg, "\n") {
		line = strings.TrimSpace(line)
		name, val, isDef := strings.Cut(line, "=")
		name, val = strings.TrimSpace(name), strings.Join(strings.Fields(val), " ")
		switch {
		case line == "" || strings.HasPrefix(line, `\*`):
		case strings.Contains(line, "<-"):
			in = false
			if !variant {
				parts = append(parts, strings.Join(strings.Fields(line), " "))
			}
		case line == "CONSTANTS" || line == "CONSTANT":
			in = true
		case in && isDef:
			if name != "Bug" && name != "Fence" {
				parts = append(parts, name+"="+val)
			}
		default:
			in = false
		}
	}
	slices.Sort(parts)
	if strings.Contains(cfg, "SPECIFICATION FairSpec") {
		parts = append(parts, "FairSpec")
	}
	return strings.Join(parts, " ")
}

// TestDistributed checks models of configs.tsv with TLC's distributed mode on this machine
// (scripts/tlc-distributed.sh: a TLCServer and two TLCWorkers): the CI config finds exactly
// the distinct states of the plain run, and the seeded bugs, one breaking an invariant and
// one an action property, fail on the property configs.tsv names (two bugs found at once:
// a deep counterexample would only cost time). A liveness config is
// refused, because the server does not check temporal properties.
func TestDistributed(t *testing.T) {
	models, err := spec.LoadModels("configs.tsv")
	require.NoError(t, err)
	byName := make(map[string]spec.Model, len(models))
	for _, m := range models {
		byName[m.Name()] = m
	}
	for _, tc := range []struct {
		name    string
		refused bool
	}{
		{name: "failover/MergeFailShort.cfg"},
		{name: "failover/NoEpochFence.cfg"},
		{name: "failover/Liveness.cfg", refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := byName[tc.name]
			require.True(t, ok, "%s is not in configs.tsv", tc.name)
			proctest.Isolate(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			res, err := tlc.RunDistributed(ctx, tlc.Options{Dir: filepath.Join(".", m.Dir), Spec: m.Module, Config: m.Config})
			if tc.refused {
				require.ErrorIs(t, err, tlc.ErrDistributedUnsupported)
				return
			}
			require.NoError(t, err)
			t.Logf("%s distributed: %s", m.Name(), res.Summary())
			requireVerdict(t, m, res)
		})
	}
}

func TestParseModelsRejects(t *testing.T) {
	for name, text := range map[string]string{
		"too few columns":  "merge\tM\tM.cfg\t-\n",
		"bad count":        "merge\tM\tM.cfg\t-\tmany\n",
		"zero count":       "merge\tM\tM.cfg\t-\t0\n",
		"only comments":    "# nothing\n",
		"too many columns": "a\tb\tc\td\te\tf\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := spec.ParseModels(strings.NewReader(text))
			require.ErrorIs(t, err, spec.ErrManifest)
		})
	}
	ms, err := spec.ParseModels(strings.NewReader("# c\nd\tM\tM.cfg\t-\t12\nd\tM\tB.cfg\tbug\tInv\n"))
	require.NoError(t, err)
	require.Equal(t, []spec.Model{{Dir: "d", Module: "M", Config: "M.cfg", Distinct: 12}, {Dir: "d", Module: "M", Config: "B.cfg", Bug: "bug", Violates: "Inv"}}, ms)
}

// FuzzParseModels: any manifest text gives models or ErrManifest, never a panic.
func FuzzParseModels(f *testing.F) {
	f.Add("smoke\tSmoke\tSmoke.cfg\t-\t7\n")
	f.Add("# c\nd\tM\tB.cfg\tbug\tInv\n\n")
	f.Add("a\tb\tc\t-\t-1\n")
	f.Fuzz(func(t *testing.T, text string) {
		ms, err := spec.ParseModels(strings.NewReader(text))
		if err != nil {
			require.ErrorIs(t, err, spec.ErrManifest)
			return
		}
		for _, m := range ms {
			require.True(t, (m.Bug == "") == (m.Distinct > 0))
		}
	})
}

// TestUnpack: the built-in spec is the repository's: every file the manifest's models need,
// byte for byte, and the manifest itself.
func TestUnpack(t *testing.T) {
	dir, err := spec.Unpack()
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	models, err := spec.LoadModels(filepath.Join(dir, "configs.tsv"))
	require.NoError(t, err)
	want, err := spec.LoadModels("configs.tsv")
	require.NoError(t, err)
	require.Equal(t, want, models)
	var names []string
	for _, pattern := range []string{"configs.tsv", "*/*.tla", "*/*.cfg"} {
		found, err := filepath.Glob(pattern)
		require.NoError(t, err)
		names = append(names, found...)
	}
	require.Greater(t, len(names), 40)
	for _, name := range names {
		repo, err := os.ReadFile(name)
		require.NoError(t, err)
		built, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "%s is not built in", name)
		require.Equal(t, string(repo), string(built), name)
	}
	for _, m := range models {
		require.FileExists(t, filepath.Join(dir, m.Dir, m.Config))
		require.FileExists(t, filepath.Join(dir, m.Dir, m.Module+".tla"))
	}
}

func TestUnwitnessed(t *testing.T) {
	const fair = "SPECIFICATION FairSpec\nINVARIANT Witnesses\nPROPERTIES OperatorsTerminate MergeResolves\n"
	cases := []struct {
		name, cfg string
		witnessed []string
		want      []string
	}{
		{"all witnessed", fair, []string{"MergeResolves", "OperatorsTerminate"}, nil},
		{"one vacuous", fair, []string{"Converge", "OperatorsTerminate"}, []string{"MergeResolves"}},
		{"nothing printed", fair, nil, []string{"OperatorsTerminate", "MergeResolves"}},
		{"snapshot fair spec", "SPECIFICATION SnapshotFairSpec\nPROPERTY Converge\n", nil, []string{"Converge"}},
		{"safety config", "INIT Init\nNEXT Next\nPROPERTIES OwnerEpochNeverDecreases\n", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, spec.Unwitnessed(tc.cfg, tc.witnessed))
		})
	}
}

// TestVacuousLivenessIsCaught: a liveness config that claims L3 (merge journals resolve) and
// L5 (a dropped table is cleaned up) in a world with one move and no drop passes TLC, and
// the witness check names exactly those two as vacuous; L1 (the move's operator finishes) is
// witnessed.
func TestVacuousLivenessIsCaught(t *testing.T) {
	dir := t.TempDir()
	tlas, err := filepath.Glob(filepath.Join("failover", "*.tla"))
	require.NoError(t, err)
	for _, f := range tlas {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), body, 0o644))
	}
	cfg := "CONSTANTS\n N = 2\n MaxEpoch = 1\n MaxLoss = 0\n MaxDup = 0\n MaxCrash = 0\n MaxFail = 0\n MaxOps = 1\n" +
		" OpKinds = {\"move\"}\n Layout = \"halves\"\n MaxReq = 3\n Bug = \"none\"\n" +
		"SPECIFICATION FairSpec\nINVARIANT Witnesses\nPROPERTIES OperatorsTerminate MergeResolves DroppedCleaned\nCHECK_DEADLOCK FALSE\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Vacuous.cfg"), []byte(cfg), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := tlc.Run(ctx, tlc.Options{Dir: dir, Spec: "Failover", Config: "Vacuous.cfg"})
	require.NoError(t, err)
	require.True(t, res.Passed, res.Summary())
	require.Equal(t, []string{"MergeResolves", "DroppedCleaned"}, spec.Unwitnessed(cfg, res.Witnessed), res.Witnessed)
}
