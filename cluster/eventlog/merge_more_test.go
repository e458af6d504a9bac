package eventlog

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// order lists a merged run's events as "proc action".
func order(run *Run) []string {
	var out []string
	for _, ev := range run.Events {
		out = append(out, ev.Proc+" "+ev.Action)
	}
	return out
}

// anyTS matches a line's timestamp.
var anyTS = regexp.MustCompile(`"ts":"[^"]*"`)

// sameSecond rewrites every timestamp of a log to one instant.
func sameSecond(log string) string {
	return anyTS.ReplaceAllString(log, `"ts":"2026-12-01T00:00:00.000000000Z"`)
}

// Merge orders what the messages and each process's order leave free by timestamp, and
// events of one timestamp by the processes' order in the slice it is given; a process
// with no events (a caller may build one) adds nothing.
func TestMergeOrderWithoutClocks(t *testing.T) {
	files := aRun()
	c1, err := Read("c1.jsonl", strings.NewReader(sameSecond(files["c1.jsonl"])))
	require.NoError(t, err)
	n1, err := Read("n1.jsonl", strings.NewReader(sameSecond(files["n1.jsonl"])))
	require.NoError(t, err)
	empty := &Process{File: "empty.jsonl", Changefeed: "cf"}
	for _, tc := range []struct {
		name  string
		procs []*Process
		want  []string
	}{
		{"maintainer first", []*Process{c1, n1}, []string{
			"c1 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 NodeStarted", "n1 DMDeliver", "n1 DMAnswer",
			"c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend", "c1 MaintainerStatus",
		}},
		{"node first", []*Process{n1, c1}, []string{
			"n1 NodeStarted", "c1 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMAnswer",
			"c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend", "c1 MaintainerStatus",
		}},
		{"an empty process first", []*Process{empty, n1, c1}, []string{
			"n1 NodeStarted", "c1 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMAnswer",
			"c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend", "c1 MaintainerStatus",
		}},
		{"an empty process last", []*Process{c1, n1, empty}, []string{
			"c1 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 NodeStarted", "n1 DMDeliver", "n1 DMAnswer",
			"c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend", "c1 MaintainerStatus",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := Merge(tc.procs)
			require.NoError(t, err)
			require.Equal(t, tc.want, order(run))
			require.Equal(t, 5, run.Sent)
			require.Equal(t, 4, run.Received)
			require.Equal(t, 1, run.Lost)
		})
	}
}

// Several maintainer processes merge, and a status two of them received (the node had a
// session of its epoch with each) is one message received twice, not an error.
func TestMergeSeveralMaintainers(t *testing.T) {
	c2 := line("c2", 1, CandidateStarted, `"cf":"cf","name":"c2"`)
	for _, tc := range []struct {
		name             string
		c2               string
		sent, recv, lost int
		want             []string
	}{
		{"a second candidate that never led", c2, 5, 4, 1, []string{
			"n1 NodeStarted", "c1 CandidateStarted", "c2 CandidateStarted", "c1 Elected", "c1 MaintainerSend", "n1 DMDeliver",
			"n1 DMAnswer", "c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend", "n1 DMSend",
			"c1 MaintainerStatus",
		}},
		{"a second maintainer that got the same status", c2 + line("c2", 2, Elected, `"epoch":7`) +
			line("c2", 10, MaintainerStatus, `"node":"n1@a","seq":3,"epoch":7,"statuses":[{"id":"t1","state":"Working","checkpoint":5}]`),
			5, 5, 1, []string{
				"n1 NodeStarted", "c1 CandidateStarted", "c2 CandidateStarted", "c1 Elected", "c2 Elected", "c1 MaintainerSend",
				"n1 DMDeliver", "n1 DMAnswer", "c1 MaintainerAnswer", "c1 MaintainerSend", "n1 DMDeliver", "n1 DMSend",
				"n1 DMSend", "c1 MaintainerStatus", "c2 MaintainerStatus",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := aRun()
			files["c2.jsonl"] = tc.c2
			procs, err := ReadDir(writeRun(t, files))
			require.NoError(t, err)
			run, err := Merge(procs)
			require.NoError(t, err)
			require.Equal(t, tc.want, order(run))
			require.Equal(t, tc.sent, run.Sent)
			require.Equal(t, tc.recv, run.Received)
			require.Equal(t, tc.lost, run.Lost)
		})
	}
}

// ElectionOrder puts the whole log of epoch 7's maintainer before epoch 9's Elected even
// when clocks say otherwise; a repeated epoch by one process adds no edge to itself.
func TestMergeElectionOrder(t *testing.T) {
	files := aRun()
	files["c2.jsonl"] = line("c2", 0, CandidateStarted, `"cf":"cf","name":"c2"`) + line("c2", 1, Elected, `"epoch":9`)
	for _, f := range []string{"c1.jsonl", "c2.jsonl", "n1.jsonl"} {
		files[f] = sameSecond(files[f])
	}
	procs, err := ReadDir(writeRun(t, files))
	require.NoError(t, err)
	plain, err := Merge(procs)
	require.NoError(t, err)
	require.Less(t, slices.Index(order(plain), "c2 Elected"), slices.Index(order(plain), "c1 MaintainerStatus"), "clocks alone")
	run, err := Merge(procs, ElectionOrder())
	require.NoError(t, err)
	got := order(run)
	require.Equal(t, "c2 Elected", got[len(got)-1], "after all of c1's log: %v", got)
	require.Equal(t, slices.Index(order(plain), "c2 CandidateStarted"), slices.Index(got, "c2 CandidateStarted"), "only Elected waits")
}
