package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/sim"
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

// TestSeededBugsFailScenarios: the simulator's seeded bugs make the shipped scenarios fail,
// each on the files that exercise what it breaks.
func TestSeededBugsFailScenarios(t *testing.T) {
	for _, tc := range []struct {
		bug   string
		files []string
		why   string
	}{
		{"merge_journal_lost", []string{"15-merge-precommit.scn", "composite-all-operators.scn"}, "never absent"},
		{"no_epoch_fence", []string{"02-add-create-in-transit.scn", "10a-move-create-in-transit.scn", "20-merge-request-in-transit.scn"}, "never dispatcher"},
		{"journal_missing_remove", []string{"06-drop-before-startts.scn", "09-move-remove-origin.scn", "13-split-remove-in-flight.scn"}, "RemoveJournalSound"},
		{"abort_ignores_missing_target", []string{"19b-merge-target-failed-and-swept.scn"}, "Converge"},
		{"merge_not_journaled", []string{"15-merge-precommit.scn", "16-merge-committed.scn", "16b-merge-committed-sources-swept.scn",
			"17-merge-done-sources-lingering.scn", "19-merge-aborted-before-crash.scn", "19b-merge-target-failed-and-swept.scn",
			"22-merge-on-dropped-table.scn", "composite-all-operators.scn"}, "MergesJournaled"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			bugs, err := sim.ParseBug(tc.bug)
			require.NoError(t, err)
			for _, f := range tc.files {
				rep, err := Run(load(t, filepath.Join("../scenarios", f)), Options{Bugs: bugs})
				require.NoError(t, err)
				require.False(t, rep.Passed, "%s must fail with %s", f, tc.bug)
				require.Contains(t, rep.Violation+strings.Join(rep.Failures, "\n"), tc.why, f)
			}
		})
	}
}

// TestDecodeErrors: malformed files are rejected with the line, the field and the kind.
func TestDecodeErrors(t *testing.T) {
	const head = "nodes A B\ntable 100\nspan d 100 -..- on A\n"
	for _, tc := range []struct {
		name, text string
		line       int
		field      string
		kind       error
	}{
		{"unknown statement", head + "fly d to B\n", 4, "statement", ErrSyntax},
		{"no nodes", "table 100\n", 0, "nodes", ErrSyntax},
		{"unknown node", head + "move d to Z\n", 4, "node", ErrUnknownNode},
		{"unknown table", head + "drop 7\n", 4, "table", ErrUnknownTable},
		{"unknown dispatcher", head + "move x to B\n", 4, "id", ErrUnknownDispatcher},
		{"span on unknown table", "nodes A\ntable 1\nspan d 2 -..- on A\n", 3, "table", ErrUnknownTable},
		{"overlapping spans", "nodes A\ntable 1\nspan d 1 -..m on A\nspan e 1 k..- on A\n", 0, "span", ErrForbidden},
		{"gap", "nodes A\ntable 1\nspan d 1 -..k on A\nspan e 1 m..- on A\n", 0, "span", ErrForbidden},
		{"empty span", "nodes A\ntable 1\nspan d 1 m..k on A\n", 3, "span", ErrForbidden},
		{"bad span syntax", "nodes A\ntable 1\nspan d 1 m-k on A\n", 3, "span", ErrSyntax},
		{"split outside", "nodes A\ntable 1\nspan a 1 -..g on A\nspan b 1 g..- on A\nsplit a at h\n", 5, "key", ErrForbidden},
		{"merge not adjacent", "nodes A\ntable 1\nspan a 1 -..g on A\nspan b 1 g..m on A\nspan c 1 m..- on A\nmerge a c as ac\n", 6, "id", ErrForbidden},
		{"merge one source", head + "merge d as e\n", 4, "merge", ErrSyntax},
		{"cluster after steps", head + "run\nnodes C\n", 5, "nodes", ErrSyntax},
		{"bad label", head + "run until DMDeliver(B, 1\n", 4, "label", ErrSyntax},
		{"bad block", head + "block nap on A\n", 4, "kind", ErrSyntax},
		{"epoch on close", head + "block close on A epoch 2\n", 4, "epoch", ErrSyntax},
		{"kill what", head + "kill everyone\n", 4, "kill", ErrSyntax},
		{"bad run count", head + "run -3\n", 4, "run", ErrSyntax},
		{"run too long", head + "run 781222\n", 4, "run", ErrSyntax},
		{"expect not tiled", head + "expect table 100 -..m on A\n", 4, "span", ErrForbidden},
		{"expect twice", head + "expect table 100 gone\nexpect table 100 gone\n", 5, "table", ErrSyntax},
		{"create existing", head + "create 100 as x\n", 4, "table", ErrForbidden},
		{"reserved node name", "nodes all\n", 1, "nodes", ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.text), "x.scn")
			var e *Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, tc.kind)
			require.Equal(t, tc.line, e.Line, err.Error())
			require.Equal(t, tc.field, e.Field, err.Error())
			require.Contains(t, err.Error(), "x.scn:")
		})
	}
}

// TestDecodeSteps: each statement of the script decodes to its own step type, carrying its
// line and only its own fields.
func TestDecodeSteps(t *testing.T) {
	const head = "nodes A B\ntable 100\nspan d 100 -..m on A\nspan e 100 m..- on A\n"
	at := Pos{Line: 5}
	for _, tc := range []struct {
		text string
		want Step
	}{
		{"add d to B", AddStep{Pos: at, ID: "d", Node: "B"}},
		{"move d to B", MoveStep{Pos: at, ID: "d", Node: "B"}},
		{"split d at g", SplitStep{Pos: at, ID: "d", Key: "g"}},
		{"merge e d as de", MergeStep{Pos: at, IDs: []ops.DispatcherID{"e", "d"}, As: "de"}},
		{"remove e", RemoveStep{Pos: at, ID: "e"}},
		{"drop 100", DropStep{Pos: at, Table: 100}},
		{"drop 100 late", DropStep{Pos: at, Table: 100, DDL: DDLLate}},
		{"drop 100 unseen", DropStep{Pos: at, Table: 100, DDL: DDLUnseen}},
		{"create 7 as n late", CreateStep{Pos: at, Table: 7, ID: "n", DDL: DDLLate}},
		{"block close on A", BlockStep{Pos: at, Block: Block{Kind: BlockClose, Node: "A"}}},
		{"block deliver on all epoch 2", BlockStep{Pos: at, Block: Block{Kind: BlockDeliver, Epoch: 2}}},
		{"release status on B", ReleaseStep{Pos: at, Block: Block{Kind: BlockStatus, Node: "B"}}},
		{"release all", ReleaseStep{Pos: at, All: true}},
		{"run", RunStep{Pos: at}},
		{"run 5", RunStep{Pos: at, Steps: 5}},
		{"run until DMDeliver(B, 1)", RunStep{Pos: at, Until: "DMDeliver(B,1)"}},
		{"kill maintainer", KillStep{Pos: at}},
		{"kill node B after Recover", KillStep{Pos: at, Node: "B", After: "Recover"}},
		{"kill maintainer at step 3", KillStep{Pos: at, AtStep: 3}},
		{"do Lose(B, 1, 0)", DoStep{Pos: at, Label: "Lose(B,1,0)"}},
		{"never dispatcher x", NeverDispatcherStep{Pos: at, ID: "x"}},
		{"never absent 100", NeverAbsentStep{Pos: at, Table: 100}},
	} {
		t.Run(tc.text, func(t *testing.T) {
			s, err := Decode(strings.NewReader(head+tc.text+"\n"), "x.scn")
			require.NoError(t, err)
			require.Equal(t, []Step{tc.want}, s.Steps)
			require.Equal(t, 5, s.Steps[0].StepLine())
		})
	}
}

// TestRunErrors: steps the cluster cannot take at that point are bad input naming the line.
func TestRunErrors(t *testing.T) {
	const head = "nodes A B\ntable 100\nspan d 100 -..- on A\n"
	for _, tc := range []struct{ name, text string }{
		{"not enabled", head + "do DMDeliver(B, 1)\n"},
		{"operation while booting", head + "kill maintainer\nmove d to B\n"},
		{"release without block", head + "release close on A\n"},
		{"kill at a past step", head + "move d to B\nkill maintainer at step 1\n"},
		{"move twice", head + "move d to B\nmove d to B\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(strings.NewReader(tc.text), "x.scn")
			require.NoError(t, err)
			_, err = Run(s, Options{})
			var e *Error
			require.ErrorAs(t, err, &e)
			require.ErrorIs(t, err, ErrForbidden)
			require.Equal(t, strings.Count(tc.text, "\n"), e.Line, err.Error())
		})
	}
}

// TestRunReportsFailures: a wrong expectation and an event that never happens fail the run
// (Passed false, no error), naming the line.
func TestRunReportsFailures(t *testing.T) {
	const head = "nodes A B\ntable 100\nspan d 100 -..- on A\n"
	for _, tc := range []struct{ name, text, want string }{
		{"wrong node", head + "expect table 100 -..- on B\n", "line 4: expect table 100: -..- is on A, want B"},
		{"wrong id", head + "expect table 100 -..- on A as e\n", "has dispatcher d, want e"},
		{"not gone", head + "expect table 100 gone\n", "want gone"},
		{"never happens", head + "run until DMSweep(A, d)\n", "line 4: DMSweep(A,d) never happened"},
		{"blocked forever", head + "block close on A\nmove d to B\n", "did not converge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(strings.NewReader(tc.text), "x.scn")
			require.NoError(t, err)
			rep, err := Run(s, Options{})
			require.NoError(t, err)
			require.False(t, rep.Passed)
			require.Contains(t, strings.Join(rep.Failures, "\n"), tc.want)
		})
	}
}

// FuzzDecode: no input makes the decoder panic; whatever decodes also runs without panic.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../scenarios/*.scn")
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(string(data))
	}
	f.Add("nodes A\ntable 1\nspan d 1 -..- on A\nkill maintainer after Recover\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Decode(strings.NewReader(text), "fuzz.scn")
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e)
			return
		}
		rep, err := Run(s, Options{})
		if err != nil {
			var e *Error
			require.ErrorAs(t, err, &e)
			return
		}
		require.NotNil(t, rep)
	})
}
