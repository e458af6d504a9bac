//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster/eventlog"
	"github.com/opfsm/opfsm/internal/proctest"
)

// TestClusterChaos runs the real cluster: an embedded etcd, three node processes and two
// maintainer candidates over gRPC, the workload moving, splitting and merging while the
// maintainer is SIGKILLed three times (waiting for a merge, then a split, in flight) and a node is
// killed and restarted; the run must converge with no violation and its event logs must
// merge. The same run with either of two seeded bugs on the nodes must fail. None leaves
// a process behind.
func TestClusterChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes for about a minute")
	}
	bin := buildOpfsm(t)
	for _, tc := range []struct {
		name string
		bug  string
		code int
		want []string
	}{
		{name: "clean", code: 0, want: []string{"kills 3 (mid-merge ", "survived 3", "violations 0"}},
		// A merged dispatcher closed before its commit (a merge aborted by a DROP TABLE or a
		// failover) is never swept, so its remove never finishes.
		{name: "sweep_skips_precommit", bug: "sweep_skips_precommit", code: 1, want: []string{"NOT converged"}},
		// TiCDC 4763: a node answers a bootstrap without its merge journal; the kill
		// mid-merge lands before the commit, and the audit of the logs finds the answer.
		{name: "merge_journal_lost", bug: "merge_journal_lost", code: 1, want: []string{"leaves out merge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := filepath.Join(t.TempDir(), "logs")
			t.Cleanup(func() { proctest.Kill(proctest.Matching(logs)) })
			args := []string{"cluster", "chaos", "--duration", "20s", "--kills", "3", "--seed", "1", "--logs", logs}
			if tc.bug != "" {
				args = append(args, "--bug", tc.bug, "--converge", "10s")
			}
			_, out, done := startOpfsm(t, bin, t.TempDir(), nil, args...)
			var err error
			select {
			case err = <-done:
			case <-time.After(3 * time.Minute):
				t.Fatalf("chaos run did not end in 3 minutes:\n%s", out)
			}
			if tc.code >= 0 {
				require.Equal(t, tc.code, exitCode(t, err), "%s", out)
			} else {
				require.Contains(t, []int{0, 1}, exitCode(t, err), "%s", out) // judged by its logs
			}
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
			require.Empty(t, proctest.Matching(logs), "processes of the run still alive")
			t.Log(out.String())
			if tc.bug == "" {
				// The processes' event logs fit together: every receive has its send.
				_, lout, ldone := startOpfsm(t, bin, t.TempDir(), nil, "cluster", "logs", logs)
				require.Equal(t, 0, exitCode(t, <-ldone), "%s", lout)
				require.Contains(t, lout.String(), "events merged in causal order")
			}
		})
	}
}

// TestClusterChaosSpec runs the real cluster in the spec's world (`--spec`): one table in
// halves, moves, splits and merges one at a time, three maintainer kills (one mid-merge),
// every process tracing its steps. The run must pass, its logs must hold Step events with
// states from nodes and maintainers alike, TLC must accept them as a behaviour of the spec
// (`opfsm conform --logs`), and it must leave no process and nothing in TMPDIR behind.
// With TiCDC 4763 seeded on the nodes the same run fails, and so do its logs: the spec
// resumes the merge the bootstrap answers left out, the run's maintainer did not. With
// bootstrap_keeps_owner the run's own checks may pass; its logs do not.
func TestClusterChaosSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes for about 30 seconds")
	}
	bin := buildOpfsm(t)
	for _, tc := range []struct {
		name, bug string
		code      int
		want      []string // in the chaos run's output
		logs      int      // opfsm conform --logs exit code
		logsWant  string
	}{
		{name: "clean", code: 0, want: []string{"kills 3 (mid-merge 1", "survived 3"}, logs: 0, logsWant: "the run is a behaviour of the spec"},
		{name: "merge_journal_lost", bug: "merge_journal_lost", code: 1, want: []string{"leaves out merge"}, logs: 1,
			logsWant: "Recover() by c"},
		// A node that answers a bootstrap but keeps its old owner refuses the new
		// maintainer's requests: the run may still end converged (after a kill, recovery
		// adopts what the nodes kept), but its logs fail at the first bootstrap delivery.
		{name: "bootstrap_keeps_owner", bug: "bootstrap_keeps_owner", code: -1, logs: 1, logsWant: "owner: logged 1, spec 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := filepath.Join(t.TempDir(), "logs")
			tmp := t.TempDir() // the run's TMPDIR: the embedded etcd's data dir goes there
			t.Cleanup(func() { proctest.Kill(proctest.Matching(logs)) })
			args := []string{"cluster", "chaos", "--spec", "--duration", "20s", "--kills", "3", "--seed", "1", "--logs", logs}
			if tc.bug != "" {
				args = append(args, "--bug", tc.bug, "--kills", "1", "--duration", "8s", "--converge", "10s")
			}
			start := time.Now()
			_, out, done := startOpfsm(t, bin, t.TempDir(), []string{"TMPDIR=" + tmp}, args...)
			var err error
			select {
			case err = <-done:
			case <-time.After(2 * time.Minute):
				t.Fatalf("chaos run did not end in 2 minutes:\n%s", out)
			}
			t.Logf("%s\nwall %s", out, time.Since(start).Round(time.Millisecond))
			if tc.code >= 0 {
				require.Equal(t, tc.code, exitCode(t, err), "%s", out)
			} else {
				require.Contains(t, []int{0, 1}, exitCode(t, err), "%s", out) // judged by its logs
			}
			require.Contains(t, out.String(), "spec world: table 1 in halves a and b on n1")
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
			require.Empty(t, proctest.Matching(logs), "processes of the run still alive")
			left, rerr := os.ReadDir(tmp)
			require.NoError(t, rerr)
			require.Empty(t, left, "the run left its temporary folders")

			if tc.bug == "" {
				requireTracedSteps(t, logs)
			}
			var cout, cerr bytes.Buffer
			code := run(context.Background(), []string{"conform", "--logs", logs}, &cout, &cerr)
			t.Log(cout.String())
			require.Equal(t, tc.logs, code, "%s%s", cout.String(), cerr.String())
			require.Contains(t, cout.String(), tc.logsWant)
		})
	}
}

// requireTracedSteps checks that a run's logs merge and hold Step events with states from
// nodes and maintainers alike.
func requireTracedSteps(t *testing.T, logs string) {
	t.Helper()
	procs, err := eventlog.ReadDir(logs)
	require.NoError(t, err)
	run, err := eventlog.Merge(procs)
	require.NoError(t, err)
	steps := map[string]int{} // Step events with a state, by kind of process
	for _, ev := range run.Events {
		if ev.Action != eventlog.Step || ev.Fields["state"] == nil {
			continue
		}
		var st map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(ev.Fields["state"], &st))
		switch {
		case st["disp"] != nil:
			steps["node"]++
		case st["tasks"] != nil:
			steps["maintainer"]++
		}
	}
	require.Positive(t, steps["node"], "node Step events with states")
	require.Positive(t, steps["maintainer"], "maintainer Step events with states")
}

// TestClusterSpecFlags proves the flags a spec run uses: a --preload that is not a JSON
// array of dispatchers, or whose dispatchers overlap, and a bad --tick are exit 2 before
// the process dials etcd; so is a chaos run --spec with tables the spec does not have.
func TestClusterSpecFlags(t *testing.T) {
	etcd := "127.0.0.1:1" // never dialed
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "preload not JSON", args: []string{"node", "--name", "n1", "--etcd", etcd, "--preload", "[{"}, want: "--preload: unexpected end of JSON input"},
		{name: "preload without state", args: []string{"node", "--name", "n1", "--etcd", etcd, "--preload", `[{"id":"a","span":{"table":1}}]`},
			want: `--preload: decoding dispatcher: field "state": missing field`},
		{name: "preload overlapping", args: []string{"node", "--name", "n1", "--etcd", etcd, "--trace", "--tick", "50ms", "--preload",
			`[{"id":"a","span":{"table":1},"state":"Working"},{"id":"b","span":{"table":1,"start":"1"},"state":"Working"}]`},
			want: `node: bad options: node n1: preload "b" 1[1,): invalid dispatcher: span overlaps a dispatcher that is not closing`},
		{name: "node tick", args: []string{"node", "--name", "n1", "--etcd", etcd, "--tick", "soon"}, want: `invalid value "soon" for flag -tick`},
		{name: "maintainer tick", args: []string{"maintainer", "--name", "c1", "--etcd", etcd, "--trace", "--spec-work", "--tick", "soon"},
			want: `invalid value "soon" for flag -tick`},
		{name: "spec with four tables", args: []string{"cluster", "chaos", "--spec", "--tables", "4"},
			want: "--spec runs the spec's world of one table: --tables 4 contradicts it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.Equal(t, exitBadInput, run(t.Context(), tc.args, &out, &errOut), "%s", errOut.String())
			require.Contains(t, errOut.String(), tc.want)
			require.Empty(t, out.String())
		})
	}
}
