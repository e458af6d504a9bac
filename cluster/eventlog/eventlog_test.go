package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// line builds one log line at second s of an arbitrary minute.
func line(proc string, s int, event string, fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return fmt.Sprintf(`{"ts":"2026-12-01T00:00:%02d.000000000Z","event":%q,"proc":%q%s}`, s, event, proc, fields) + "\n"
}

// aRun is a small faithful run: a maintainer bootstraps one node and gets its answer,
// sends it a create, and gets a status; one status is lost.
func aRun() map[string]string {
	return map[string]string{
		"c1.jsonl": line("c1", 1, CandidateStarted, `"cf":"cf","name":"c1"`) +
			line("c1", 2, Elected, `"epoch":7`) +
			line("c1", 3, MaintainerSend, `"node":"n1@a","epoch":7,"seq":1,"sent":true,"kind":"Bootstrap","reqEpoch":7`) +
			line("c1", 5, MaintainerAnswer, `"node":"n1@a","seq":1,"epoch":7,"dispatchers":0`) +
			line("c1", 6, MaintainerSend, `"node":"n1@a","epoch":7,"seq":2,"sent":true,"kind":"Create","reqEpoch":7,"id":"t1"`) +
			line("c1", 9, MaintainerStatus, `"node":"n1@a","seq":3,"epoch":7,"statuses":[{"id":"t1","state":"Working","checkpoint":5}]`),
		"n1.jsonl": line("n1", 0, NodeStarted, `"cf":"cf","id":"n1@a","grpc":"x"`) +
			line("n1", 4, DMDeliver, `"epoch":7,"seq":1,"owner":7,"kind":"Bootstrap","reqEpoch":7`) +
			line("n1", 4, DMAnswer, `"epoch":7,"seq":1,"sessions":1,"dispatchers":0`) +
			line("n1", 7, DMDeliver, `"epoch":7,"seq":2,"owner":7,"kind":"Create","reqEpoch":7,"id":"t1"`) +
			line("n1", 8, DMSend, `"epoch":7,"seq":2,"sessions":1,"statuses":[{"id":"t1","state":"Initializing","checkpoint":5}]`) +
			line("n1", 8, DMSend, `"epoch":7,"seq":3,"sessions":1,"statuses":[{"id":"t1","state":"Working","checkpoint":5}]`),
	}
}

func writeRun(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	return dir
}

// A faithful run merges: every receive after its send, each process in its own order.
func TestMergeFaithfulRun(t *testing.T) {
	procs, err := ReadDir(writeRun(t, aRun()))
	require.NoError(t, err)
	run, err := Merge(procs)
	require.NoError(t, err)
	require.Equal(t, "cf", run.Changefeed)
	require.Equal(t, 5, run.Sent)
	require.Equal(t, 4, run.Received)
	require.Equal(t, 1, run.Lost) // the Initializing status
	var order []string
	for _, ev := range run.Events {
		order = append(order, ev.Proc+" "+ev.Action)
	}
	require.Equal(t, []string{
		"n1 NodeStarted", "c1 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMAnswer",
		"c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend", "c1 MaintainerStatus",
	}, order)
}

// Timestamps only break ties: a receive logged with an earlier clock than its send still
// comes after it.
func TestMergeIgnoresSkewedClocks(t *testing.T) {
	files := aRun()
	files["n1.jsonl"] = strings.ReplaceAll(files["n1.jsonl"], `00:00:04`, `00:00:00`)
	procs, err := ReadDir(writeRun(t, files))
	require.NoError(t, err)
	run, err := Merge(procs)
	require.NoError(t, err)
	idx := map[string]int{}
	for i, ev := range run.Events {
		idx[fmt.Sprintf("%s %s %d", ev.Proc, ev.Action, ev.Seq)] = i
	}
	require.Less(t, idx["c1 MaintainerSend 1"], idx["n1 DMDeliver 1"])
	require.Less(t, idx["n1 DMAnswer 1"], idx["c1 MaintainerAnswer 1"])
}

// Every kind of bad log is a *LineError naming its file and line, wrapping its sentinel.
func TestBadLogs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(files map[string]string)
		err   error
		file  string
		line  int
		extra string
	}{
		{"truncated", func(f map[string]string) { f["n1.jsonl"] = strings.TrimSuffix(f["n1.jsonl"], "}\n") }, ErrTruncated, "n1.jsonl", 6, "without a newline"},
		{"not json", func(f map[string]string) { f["n1.jsonl"] += "{oops\n" }, ErrMalformed, "n1.jsonl", 7, ""},
		{"unknown action", func(f map[string]string) { f["c1.jsonl"] += line("c1", 10, "Teleport", `"epoch":7`) }, ErrUnknownAction, "c1.jsonl", 7, "Teleport"},
		{"no seq", func(f map[string]string) {
			f["c1.jsonl"] += line("c1", 10, MaintainerStatus, `"node":"n1@a","epoch":7`)
		}, ErrMalformed, "c1.jsonl", 7, "seq"},
		{"another changefeed", func(f map[string]string) {
			f["n1.jsonl"] = strings.Replace(f["n1.jsonl"], `"cf":"cf"`, `"cf":"other"`, 1)
		}, ErrChangefeed, "n1.jsonl", 1, "other"},
		{"no start event", func(f map[string]string) {
			f["c1.jsonl"] = strings.SplitN(f["c1.jsonl"], "\n", 2)[1]
		}, ErrChangefeed, "c1.jsonl", 1, "starts with Elected"},
		{"reordered lines", func(f map[string]string) {
			ls := strings.SplitAfter(f["n1.jsonl"], "\n")
			ls[4], ls[5] = ls[5], ls[4]
			f["n1.jsonl"] = strings.Join(ls, "")
		}, ErrOrder, "n1.jsonl", 6, "seq 2 after seq 3"},
		{"receive never sent", func(f map[string]string) {
			f["c1.jsonl"] += line("c1", 10, MaintainerStatus, `"node":"n1@a","seq":9,"epoch":7,"statuses":[]`)
		}, ErrUnmatched, "c1.jsonl", 7, "seq 9"},
		{"receive of something else", func(f map[string]string) {
			f["n1.jsonl"] = strings.Replace(f["n1.jsonl"], `"kind":"Create","reqEpoch":7,"id":"t1"`, `"kind":"Remove","reqEpoch":7,"id":"t1"`, 1)
		}, ErrUnmatched, "n1.jsonl", 4, "kind"},
		{"a second process in one log", func(f map[string]string) { f["n1.jsonl"] += line("n2", 10, DMEffect, `"effect":"Close"`) }, ErrMalformed, "n1.jsonl", 7, "n2"},
		{"a send without its node", func(f map[string]string) {
			f["c1.jsonl"] += line("c1", 10, MaintainerSend, `"epoch":7,"seq":3,"sent":true,"kind":"Create","reqEpoch":7,"id":"t2"`)
		}, ErrMalformed, "c1.jsonl", 7, `no "node"`},
		{"a node started in two logs", func(f map[string]string) {
			f["n2.jsonl"] = strings.ReplaceAll(f["n1.jsonl"], `"proc":"n1"`, `"proc":"n2"`)
		}, ErrMalformed, "n2.jsonl", 1, "node n1@a also started in"},
		{"a seq repeated on a stream", func(f map[string]string) {
			f["n1.jsonl"] = strings.Replace(f["n1.jsonl"], `"seq":3,"sessions":1`, `"seq":2,"sessions":1`, 1)
		}, ErrOrder, "n1.jsonl", 6, "DMSend seq 2 after seq 2 on statuses"},
		{"a receive before the send it answers", func(f map[string]string) {
			ls := strings.SplitAfter(f["c1.jsonl"], "\n")
			ls[2], ls[3] = ls[3], ls[2] // the answer, then the Bootstrap it answers
			f["c1.jsonl"] = strings.Join(ls, "")
			f["b0.jsonl"] = line("b0", 0, NodeStarted, `"cf":"cf","id":"n0@a","grpc":"x"`) // an idle node, wholly ordered
		}, ErrCycle, "c1.jsonl", 3, "MaintainerAnswer waits for a send that waits for it (4 of 13 events ordered)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := aRun()
			tc.edit(files)
			procs, err := ReadDir(writeRun(t, files))
			if err == nil {
				_, err = Merge(procs)
			}
			require.ErrorIs(t, err, tc.err)
			var le *LineError
			require.True(t, errors.As(err, &le), "%v", err)
			require.Equal(t, tc.file, filepath.Base(le.File))
			require.Equal(t, tc.line, le.Line)
			require.Contains(t, err.Error(), tc.extra)
			require.Contains(t, err.Error(), fmt.Sprintf("%s:%d:", le.File, le.Line))
		})
	}
}

// A directory without logs is refused.
func TestNoLogs(t *testing.T) {
	_, err := ReadDir(t.TempDir())
	require.ErrorIs(t, err, ErrNoLogs)
	_, err = Merge(nil)
	require.ErrorIs(t, err, ErrNoLogs)
}

// Read never panics and answers bad bytes with a typed error.
func FuzzRead(f *testing.F) {
	for _, body := range aRun() {
		f.Add([]byte(body))
	}
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Read("fuzz.jsonl", strings.NewReader(string(b)))
		if err != nil {
			var le *LineError
			require.True(t, errors.As(err, &le), "%v", err)
			return
		}
		_, _ = Merge([]*Process{p})
	})
}

// Audit finds an answer that leaves out a merge the node prepared and had not finished,
// and nothing when every answer carries it or the merge finished before.
func TestAuditMergeJournal(t *testing.T) {
	node := func(answerMerges string, commitFirst bool) string {
		s := line("n1", 0, NodeStarted, `"cf":"cf","id":"n1@a","grpc":"x"`) +
			line("n1", 1, DMEffect, `"effect":"PrepareMerge","id":"m"`)
		if commitFirst {
			s += line("n1", 2, DMEffect, `"effect":"CommitMerge","id":"m"`)
		}
		return s + line("n1", 3, DMAnswer, `"epoch":2,"seq":1,"sessions":0,"dispatchers":3,"removes":[],"merges":`+answerMerges)
	}
	for _, tc := range []struct {
		name   string
		log    string
		issues []string
	}{
		{"answer carries the merge", node(`["m"]`, false), nil},
		{"merge committed before the answer", node(`[]`, true), nil},
		{"answer leaves it out", node(`[]`, false), []string{
			"n1.jsonl:3: bootstrap answer of epoch 2 leaves out merge m, prepared at line 2 and neither committed nor aborted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Read("n1.jsonl", strings.NewReader(tc.log))
			require.NoError(t, err)
			run, err := Merge([]*Process{p})
			require.NoError(t, err)
			var got []string
			for _, f := range Audit(run) {
				got = append(got, f.String())
			}
			require.Equal(t, tc.issues, got)
		})
	}
}

// A process that sends to itself has each event once in the merge, and a hand-built
// process without events gets an error, not a panic.
func TestMergeEdgeProcesses(t *testing.T) {
	log := line("n1", 0, NodeStarted, `"cf":"cf","id":"n1@a","grpc":"x"`) +
		line("n1", 1, MaintainerSend, `"node":"n1@a","epoch":7,"seq":1,"sent":true,"kind":"Create","reqEpoch":7,"id":"t1"`) +
		line("n1", 2, DMDeliver, `"epoch":7,"seq":1,"owner":7,"kind":"Create","reqEpoch":7,"id":"t1"`)
	p, err := Read("n1.jsonl", strings.NewReader(log))
	require.NoError(t, err)
	run, err := Merge([]*Process{p})
	require.NoError(t, err)
	require.Len(t, run.Events, 3)
	_, err = Merge([]*Process{p, {File: "empty.jsonl", Changefeed: "other"}})
	require.ErrorIs(t, err, ErrChangefeed)
}
