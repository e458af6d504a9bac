package recovery

import (
	"slices"

	"github.com/opfsm/opfsm/internal/seeded"
)

// The seeded bugs of recovery: known-wrong variants that the checkers must be shown to
// catch. They are reachable only through internal/seeded (tests, the simulator's --bug),
// never through this package's API.
const (
	// bugFirstReportWins resolves identical or overlapping spans by response order, as
	// TiCDC's btree collapse does (G8).
	bugFirstReportWins = "g8_first_report_wins"
	// bugOverlapLoserUncovered removes an overlap loser without keeping its range covered,
	// so the range gets a task elsewhere while the loser still serves it.
	bugOverlapLoserUncovered = "overlap_loser_uncovered"
	// bugMergeGeometryUnchecked resumes a merge whose sources do not tile its span.
	bugMergeGeometryUnchecked = "merge_geometry_unchecked"
	// bugRemovingSourceIsEvidence counts a source being removed as merge evidence.
	bugRemovingSourceIsEvidence = "removing_source_is_evidence"
	// bugPrecommitTargetAdopted adopts a pre-commit merged dispatcher without evidence
	// instead of removing it (G6 unfixed).
	bugPrecommitTargetAdopted = "precommit_target_adopted"
	// bugDroppedTableAdopted adopts the dispatchers of a table the snapshot does not have
	// (C6 unfixed).
	bugDroppedTableAdopted = "dropped_table_adopted"
	// bugResumeContested resumes a journaled move or split although another node may serve
	// its keys.
	bugResumeContested = "resume_contested"
	// bugStraysUnlisted leaves the dispatchers it one-shot removes out of Result.Strays, so
	// nothing waits for them to stop before creating others over their keys.
	bugStraysUnlisted = "strays_unlisted"
)

var bugNames = []string{bugFirstReportWins, bugOverlapLoserUncovered, bugMergeGeometryUnchecked,
	bugRemovingSourceIsEvidence, bugPrecommitTargetAdopted, bugDroppedTableAdopted, bugResumeContested, bugStraysUnlisted}

func init() {
	seeded.RecoveryBugs = slices.Clone(bugNames)
	seeded.RecoveryBug = func(name string) any { return withBug(name) }
}

// withBug switches seeded bug name on.
func withBug(name string) Option { return func(o *options) { o.bug = name } }
