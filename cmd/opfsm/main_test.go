package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   string
		notInOut string
	}{
		{"no verb", nil, exitBadInput, "", "usage: opfsm VERB", ""},
		{"help", []string{"help"}, exitOK, "", "graph", ""},
		{"unknown verb", []string{"fly"}, exitBadInput, "", `unknown verb "fly"`, ""},
		{"all graphs", []string{"graph"}, exitOK, "RemoveOrigin --> AddDest: OriginStopped", "", ""},
		{"one graph as dot", []string{"graph", "--format", "dot", "merge"}, exitOK, `digraph "merge"`, "", "RemoveOrigin"},
		{"unknown operator", []string{"graph", "teleport"}, exitBadInput, "", `unknown operator "teleport"`, ""},
		{"unknown format", []string{"graph", "--format", "png"}, exitBadInput, "", `unknown --format "png"`, ""},
		{"unknown flag", []string{"graph", "--colour"}, exitBadInput, "", "flag provided but not defined", ""},
		{"sim campaign", []string{"sim", "--runs", "200"}, exitOK, "walks 200,", "", "first violation"},
		{"sim without faults", []string{"sim", "--runs", "50", "--faults", "none"}, exitOK, "violations 0", "", ""},
		{"sim unknown bug", []string{"sim", "--bug", "nope"}, exitBadInput, "", `unknown seeded bug "nope"`, ""},
		{"sim unknown faults", []string{"sim", "--faults", "some"}, exitBadInput, "", `unknown --faults "some"`, ""},
		{"sim bad runs", []string{"sim", "--runs", "0"}, exitBadInput, "", "must be positive", ""},
		{"sim deep campaign", []string{"sim", "--deep", "--runs", "40", "--workers", "2"}, exitOK, "operations: move, split, merge, drop, remove, create", "40/40 walks", "first violation"},
		{"sim bad workers", []string{"sim", "--workers", "0"}, exitBadInput, "", "must be positive", ""},
		{"sim some faults", []string{"sim", "--runs", "50", "--faults", "crash,loss"}, exitOK, "MaxLoss:1 MaxDup:0 MaxCrash:0", "", ""},
		{"run a scenario", []string{"run", "../../scenarios/15-merge-precommit.scn"}, exitOK, "PASS  ../../scenarios/15-merge-precommit.scn", "", "FAIL"},
		{"run flags after the file", []string{"run", "../../scenarios/20-merge-request-in-transit.scn", "--json"}, exitOK, `"passed": true`, "", ""},
		{"run with a seeded bug", []string{"run", "-q", "--bug", "merge_journal_lost", "../../scenarios/15-merge-precommit.scn"}, exitViolated, "never absent 100", "", ""},
		{"run wrong expectation", []string{"run", "testdata/wrong-expect.scn"}, exitViolated, "line 5: expect table 100: -..- is on B, want A", "", ""},
		{"run malformed", []string{"run", "testdata/unknown-node.scn"}, exitBadInput, "", `testdata/unknown-node.scn:4: node: unknown node: "Z"`, ""},
		{"run missing file", []string{"run", "testdata/nope.scn"}, exitBadInput, "", "no such file", ""},
		{"run no file", []string{"run"}, exitBadInput, "", "want at least one scenario file", ""},
		{"explore a CI world", []string{"explore", "--spec", "../../spec/failover", "--config", "Liveness.cfg"}, exitOK, "same number of distinct states", "", ""},
		{"explore, TLC simulating", []string{"explore", "--spec", "../../spec/failover", "--config", "Liveness.cfg", "--tlc", "simulate"}, exitOK, "states checked", "", ""},
		{"explore, bad --tlc", []string{"explore", "--tlc", "guess"}, exitBadInput, "", "want count, simulate or none", ""},
		{"explore a seeded bug", []string{"explore", "--spec", "../../spec/failover", "--config", "Failover.cfg", "--bug", "no_epoch_fence"}, exitViolated, "the spec cannot express", "", ""},
		{"conform a CI world", []string{"conform", "--spec", "../../spec/failover", "--config", "Liveness.cfg", "--traces", "3", "--steps", "60"}, exitOK, "equal: every state and every labelled edge", "", "DIFFERENT"},
		{"conform a seeded bug", []string{"conform", "--spec", "../../spec/failover", "--config", "Liveness.cfg", "--traces", "0", "--bug", "journal_missing_remove"}, exitViolated, "RemoveJournalSound violated", "", ""},
		{"conform TiCDC 4763", []string{"conform", "--spec", "../../spec/failover", "--config", "LivenessMerge.cfg", "--traces", "0", "--bug", "merge_journal_lost"}, exitViolated, "NoDuplicateActiveDispatcher violated", "", ""},
		{"conform unknown config", []string{"conform", "--spec", "../../spec/failover", "--config", "Nope.cfg"}, exitBadInput, "", "no such file", ""},
		{"conform recovery, not a recovery bug", []string{"conform", "--recovery", "RecoveryKeys.cfg", "--bug", "no_epoch_fence"}, exitBadInput, "", "not a bug of package recovery", ""},
		{"conform recovery, bad workers", []string{"conform", "--recovery", "RecoveryKeys.cfg", "--workers", "-1"}, exitBadInput, "", "--workers must be >= 0", ""},
		{"conform recovery, unknown config", []string{"conform", "--spec", "../../spec/failover", "--recovery", "Nope.cfg"}, exitBadInput, "", "no such file", ""},
		{"conform seeded spec config", []string{"explore", "--spec", "../../spec/failover", "--config", "NoResend.cfg"}, exitBadInput, "", "not a spec/failover world", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			require.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			require.Contains(t, out.String(), tc.stdout)
			require.Contains(t, errOut.String(), tc.stderr)
			if tc.notInOut != "" {
				require.False(t, strings.Contains(out.String(), tc.notInOut))
			}
		})
	}
}

// TestCheck runs the check verb on a manifest of the smoke model: the CI config passes, the
// seeded bug exits 1 naming its property, a bug expected to break the wrong property exits 3,
// and bad manifests or names exit 2.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	smoke, err := filepath.Abs(filepath.Join("..", "..", "spec", "smoke"))
	require.NoError(t, err)
	require.NoError(t, os.Symlink(smoke, filepath.Join(dir, "smoke")))
	good := write("good.tsv", "smoke\tSmoke\tSmoke.cfg\t-\t7\nsmoke\tSmoke\tSmokeNoFence.cfg\tno_fence\tOwnerEpochNeverDecreases\n")
	wrong := write("wrong.tsv", "smoke\tSmoke\tSmokeNoFence.cfg\tno_fence\tTypeOK\n")
	drift := write("drift.tsv", "smoke\tSmoke\tSmoke.cfg\t-\t8\n")
	bad := write("bad.tsv", "smoke\tSmoke\n")
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"ci configs pass", []string{"check", "--manifest", good}, exitOK, "ok   smoke/Smoke.cfg: 7 distinct states"},
		{"seeded bug caught", []string{"check", "--manifest", good, "--bug", "no_fence"}, exitViolated, "violates: OwnerEpochNeverDecreases"},
		{"seeded bug not caught as expected", []string{"check", "--manifest", wrong, "--bug", "no_fence"}, exitUncaught, "want a violation of TypeOK"},
		{"one config", []string{"check", "--manifest", good, "--config", "Smoke.cfg"}, exitOK, "ok   smoke/Smoke.cfg: 7 distinct states"},
		{"state count drift", []string{"check", "--manifest", drift}, exitViolated, "want 8 distinct states"},
		{"unknown config", []string{"check", "--manifest", good, "--config", "Nope.cfg"}, exitBadInput, ""},
		{"unknown bug", []string{"check", "--manifest", good, "--bug", "nope"}, exitBadInput, ""},
		{"malformed manifest", []string{"check", "--manifest", bad}, exitBadInput, ""},
		{"missing manifest", []string{"check", "--manifest", filepath.Join(dir, "none.tsv")}, exitBadInput, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, tc.code, run(context.Background(), tc.args, &out, &errOut), "stdout %s stderr %s", out.String(), errOut.String())
			require.Contains(t, out.String(), tc.out)
		})
	}
}

// TestSimFindsSeededBug: the main job catches TiCDC 4763 when it is seeded in, prints the
// shrunk counterexample and writes its sequence diagram; exit 1.
func TestSimFindsSeededBug(t *testing.T) {
	mmd := filepath.Join(t.TempDir(), "ce.mmd")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"sim", "--bug", "merge_journal_lost", "--runs", "2000", "--mermaid", mmd}, &out, &errOut)
	require.Equal(t, exitViolated, code, errOut.String())
	require.Regexp(t, `violations by property:\n +property +walks +share\n +NoDuplicateActiveDispatcher +\d+ +\d+\.\d\d%`, out.String())
	require.Contains(t, out.String(), "first violation")
	diagram, err := os.ReadFile(mmd)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(diagram), "sequenceDiagram"))
}

// TestConformLogsBadInput: logs `opfsm conform --logs` cannot check are exit 2 with the
// file and line: none at all, a truncated line, a log without trace events.
func TestConformLogsBadInput(t *testing.T) {
	write := func(files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
		}
		return dir
	}
	start := `{"ts":"2026-12-01T00:00:00Z","event":"NodeStarted","proc":"n1","cf":"cf","id":"n1@a","grpc":"g"}` + "\n"
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"no logs", t.TempDir(), "no event logs"},
		{"truncated line", write(map[string]string{"n1.jsonl": start + `{"ts":"2026-12-01T00:00:01Z","event":"DMSe`}), "n1.jsonl:2"},
		{"untraced run", write(map[string]string{"n1.jsonl": start}), "n1.jsonl:1: log outside the spec's world: no trace events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"conform", "--logs", tc.dir}, &out, &errOut)
			require.Equal(t, exitBadInput, code, "%s%s", out.String(), errOut.String())
			require.Contains(t, errOut.String(), tc.want)
		})
	}
}
