package sim

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseBug(t *testing.T) {
	b, err := ParseBug("none")
	require.NoError(t, err)
	require.Equal(t, Bugs{}, b)
	for _, name := range BugNames() {
		b, err := ParseBug(name)
		require.NoError(t, err)
		require.NotEqual(t, Bugs{}, b, name)
	}
	_, err = ParseBug("teleport")
	require.ErrorIs(t, err, ErrUnknownBug)
}

// TestShrinkKeepsTheViolation: the default campaign with TiCDC 4763 seeded in fails; its
// shrunk counterexample is no longer, replays to the same property, and renders.
func TestShrinkKeepsTheViolation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Bugs.MergeJournalLost = true
	s, err := Campaign{Config: cfg, Seed: 1, Walks: 2000, Steps: 100, Workers: 1}.Run(nil)
	require.NoError(t, err)
	require.Positive(t, s.Violations)
	require.NotNil(t, s.First)
	orig, err := Walk(cfg, s.First.Seed, 100)
	require.NoError(t, err)
	require.LessOrEqual(t, len(s.First.Trace), len(orig.Trace))

	require.Positive(t, s.ByProperty["NoDuplicateActiveDispatcher"], "TiCDC 4763 shows as a duplicate active dispatcher")
	replayed, err := Replay(cfg, s.First.Trace)
	require.NoError(t, err)
	var v, want *Violation
	require.True(t, errors.As(replayed.Violation, &v))
	require.True(t, errors.As(s.First.Violation, &want))
	require.Equal(t, want.Property, v.Property)

	d := Mermaid(cfg, *s.First)
	require.True(t, strings.HasPrefix(d, "sequenceDiagram\n"))
	require.Contains(t, d, "Recover")

	// A trace with an action that is not enabled does not replay.
	_, err = Replay(cfg, []Action{{Name: "Recover"}})
	require.ErrorIs(t, err, ErrNotEnabled)
}

// TestCampaignSameForAnyWorkers: a campaign's summary, counts, properties and shrunk first
// violation included, does not depend on how many walks run at once.
func TestCampaignSameForAnyWorkers(t *testing.T) {
	camp := DeepCampaign()
	camp.Walks = 300
	camp.Config.Bugs.NoEpochFence = true
	var sums []Summary
	for _, workers := range []int{1, 4} {
		camp.Workers = workers
		var done []int
		s, err := camp.Run(func(n int, _ Summary) { done = append(done, n) })
		require.NoError(t, err)
		require.Len(t, done, camp.Walks)
		require.IsIncreasing(t, done)
		sums = append(sums, s)
	}
	require.Positive(t, sums[0].Violations)
	require.NotNil(t, sums[0].First)
	require.Equal(t, sums[0], sums[1])
}

func TestCampaignRejectsNegativeCounts(t *testing.T) {
	for _, camp := range []Campaign{{Walks: -1}, {Steps: -1}, {Workers: -1}} {
		_, err := camp.Run(nil)
		require.ErrorIs(t, err, ErrBadCampaign)
	}
}

// BenchmarkDeepWalk: one walk of the deep campaign (DeepCampaign), random steps, settling
// and checks, on one core; walks/s is per core.
func BenchmarkDeepWalk(b *testing.B) {
	camp := DeepCampaign()
	seed := uint64(0)
	for b.Loop() {
		seed++
		run, err := Walk(camp.Config, seed, camp.Steps)
		if err != nil || run.Violation != nil {
			b.Fatalf("seed %d: %v %v", seed, err, run.Violation)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "walks/s")
}

// TestDeepWalkRepairedCoverage: in deep walk 42939 a remove the running maintainer started
// and a remove recovery restored empty table 109; the restored one's coverage repair then
// covers the whole table again, which converges.
func TestDeepWalkRepairedCoverage(t *testing.T) {
	camp := DeepCampaign()
	run, err := Walk(camp.Config, 42939, camp.Steps)
	require.NoError(t, err)
	require.NoError(t, run.Violation)
	require.Contains(t, run.Trace, Action{Name: "StartRemove", ID: "t109-a"})
}
