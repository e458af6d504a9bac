package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster/eventlog"
)

// Spans and states of the hand-written run, as trace events write them.
const (
	spanA   = `{"table":1,"start":"","end":"1"}`
	spanB   = `{"table":1,"start":"1","end":""}`
	working = `"state":"Working","removing":false`
)

func nodeState(owner int, disp, removes string) string {
	return fmt.Sprintf(`"state":{"owner":%d,"disp":[%s],"removes":[%s],"merges":[]}`, owner, disp, removes)
}

func maintState(booting bool, tasks, ops string) string {
	return fmt.Sprintf(`"state":{"epoch":7,"booting":%v,"tasks":[%s],"ops":[%s]}`, booting, tasks, ops)
}

var (
	twoHalves = `{"id":"a","span":` + spanA + `,` + working + `},{"id":"b","span":` + spanB + `,` + working + `}`
	onlyB     = `{"id":"b","span":` + spanB + `,` + working + `}`
	tasksOn   = func(a, b, schedA string) string {
		return `{"id":"a","span":` + spanA + `,"sched":"` + schedA + `","node":"` + a + `"},{"id":"b","span":` + spanB + `,"sched":"Replicating","node":"` + b + `"}`
	}
)

// logLine is one event of the hand-written run; s orders lines by second.
func logLine(proc string, s int, event, fields string) string {
	return fmt.Sprintf(`{"ts":"2026-12-01T00:00:%02d.000000000Z","event":%q,"proc":%q,%s}`, s, event, proc, fields) + "\n"
}

// movedRun is a spec-world run: nodes n1 (with both halves) and n2, maintainer c1 elected
// at etcd epoch 7 bootstraps both, recovers, and moves "a" to n2. mutate, if not nil,
// may change n2's log (onN2) to make the run one the spec does not allow.
func movedRun(t *testing.T, onN2 func(n2 string) string) string {
	return movedRunAll(t, func(file, body string) string {
		if file == "n2.jsonl" && onN2 != nil {
			return onN2(body)
		}
		return body
	})
}

// movedRunAll is movedRun with mutate seeing every log (file name, body).
func movedRunAll(t *testing.T, mutate func(file, body string) string) string {
	t.Helper()
	c1 := logLine("c1", 1, "CandidateStarted", `"cf":"cf","name":"c1"`) +
		logLine("c1", 2, "Elected", `"epoch":7`) +
		logLine("c1", 2, "Step", `"step":"MaintainerCrash",`+maintState(true, "", "")) +
		logLine("c1", 2, "MaintainerSend", `"node":"n1@x","epoch":7,"seq":1,"sent":true,"kind":"Bootstrap","reqEpoch":7`) +
		logLine("c1", 2, "MaintainerSend", `"node":"n2@y","epoch":7,"seq":1,"sent":true,"kind":"Bootstrap","reqEpoch":7`) +
		logLine("c1", 4, "MaintainerAnswer", `"node":"n1@x","seq":1,"epoch":7`) +
		logLine("c1", 4, "MaintainerAnswer", `"node":"n2@y","seq":1,"epoch":7`) +
		logLine("c1", 4, "Step", `"step":"Recover",`+maintState(false, tasksOn("n1@x", "n1@x", "Replicating"), "")) +
		logLine("c1", 5, "Step", `"step":"StartMove","id":"a","node":"n2@y",`+
			maintState(false, tasksOn("n1@x", "n1@x", "Scheduling"), `{"id":"a","span":`+spanA+`,"type":"move","state":"RemoveOrigin","origin":"n1@x","dest":"n2@y"}`)) +
		logLine("c1", 5, "MaintainerSend", `"node":"n1@x","epoch":7,"seq":2,"sent":true,"kind":"Remove","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y"`) +
		logLine("c1", 8, "MaintainerStatus", `"node":"n1@x","seq":2,"epoch":7,"statuses":[{"id":"a","state":"Stopped","checkpoint":3}]`) +
		logLine("c1", 8, "Step", `"step":"MaintainerStatus","node":"n1@x","status":{"id":"a","state":"Stopped"},"reportEpoch":7,`+
			maintState(false, tasksOn("n2@y", "n1@x", "Scheduling"), `{"id":"a","span":`+spanA+`,"type":"move","state":"AddDest","origin":"n1@x","dest":"n2@y"}`)) +
		logLine("c1", 8, "MaintainerSend", `"node":"n2@y","epoch":7,"seq":2,"sent":true,"kind":"Create","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y"`) +
		logLine("c1", 11, "MaintainerStatus", `"node":"n2@y","seq":2,"epoch":7,"statuses":[{"id":"a","state":"Working","checkpoint":3}]`) +
		logLine("c1", 11, "Step", `"step":"MaintainerStatus","node":"n2@y","status":{"id":"a","state":"Working"},"reportEpoch":7,`+
			maintState(false, tasksOn("n2@y", "n1@x", "Replicating"), ""))
	n1 := logLine("n1", 0, "NodeStarted", `"cf":"cf","id":"n1@x","grpc":"g"`) +
		logLine("n1", 3, "DMDeliver", `"epoch":7,"seq":1,"owner":7,"kind":"Bootstrap","reqEpoch":7,`+nodeState(7, twoHalves, "")) +
		logLine("n1", 3, "DMAnswer", `"epoch":7,"seq":1,"sessions":1,"dispatchers":2`) +
		logLine("n1", 6, "DMDeliver", `"epoch":7,"seq":2,"owner":7,"kind":"Remove","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y",`+
			nodeState(7, `{"id":"a","span":`+spanA+`,"state":"Working","removing":true},`+onlyB,
				`{"id":"a","span":`+spanA+`,"op":"move","epoch":7,"dest":"n2@y"}`)) +
		logLine("n1", 7, "Step", `"step":"DMSweep","id":"a",`+nodeState(7, onlyB, "")) +
		logLine("n1", 7, "DMSend", `"epoch":7,"seq":2,"sessions":1,"statuses":[{"id":"a","state":"Stopped","checkpoint":3}]`)
	n2 := logLine("n2", 0, "NodeStarted", `"cf":"cf","id":"n2@y","grpc":"g"`) +
		logLine("n2", 3, "DMDeliver", `"epoch":7,"seq":1,"owner":7,"kind":"Bootstrap","reqEpoch":7,`+nodeState(7, "", "")) +
		logLine("n2", 3, "DMAnswer", `"epoch":7,"seq":1,"sessions":1,"dispatchers":0`) +
		logLine("n2", 9, "DMDeliver", `"epoch":7,"seq":2,"owner":7,"kind":"Create","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y",`+
			nodeState(7, `{"id":"a","span":`+spanA+`,"state":"Initializing","removing":false}`, "")) +
		logLine("n2", 10, "Step", `"step":"DMWorking","id":"a",`+nodeState(7, `{"id":"a","span":`+spanA+`,`+working+`}`, "")) +
		logLine("n2", 10, "DMSend", `"epoch":7,"seq":2,"sessions":1,"statuses":[{"id":"a","state":"Working","checkpoint":3}]`)
	dir := t.TempDir()
	for name, body := range map[string]string{"c1.jsonl": c1, "n1.jsonl": n1, "n2.jsonl": n2} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(mutate(name, body)), 0o644))
	}
	return dir
}

func TestReadLogsMapsOntoTheSpecsWorld(t *testing.T) {
	r, err := ReadLogs(movedRun(t, nil))
	require.NoError(t, err)
	require.Equal(t, []string{"n1", "n2"}, r.Nodes)
	require.Equal(t, []uint64{7}, r.Epochs)
	var kinds []string
	for _, e := range r.Entries {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"MaintainerCrash", "DMDeliver", "DMDeliver", "Recover", "StartMove", "DMDeliver", "DMSweep",
		"MaintainerStatus", "DMDeliver", "DMWorking", "MaintainerStatus"}, kinds)
	require.Equal(t, 1, r.Ops)
	mv := r.Entries[4]
	require.Equal(t, "a", mv.D)
	require.Equal(t, 2, mv.Dest)
	require.Equal(t, `[type |-> "remove", id |-> "a", op |-> "move", dest |-> 2]`, r.Entries[5].Msg)
	require.Equal(t, 2, r.Entries[5].E)
	require.Equal(t, `[id |-> "a", st |-> "Stopped", epoch |-> 2]`, r.Entries[7].St)
	require.Contains(t, r.Entries[5].Row, `opJ |-> [m |-> `+noRec+`, a |-> [op |-> "move", epoch |-> 2, dest |-> 2], b |-> `+noRec+`]`)
	require.Contains(t, r.Constants(), "N = 2\n    MaxEpoch = 2\n")
	require.Equal(t, "StartMove(\"a\", to node 2) by c1 at "+filepath.Join(filepath.Dir(r.Entries[4].File), "c1.jsonl")+":9", mv.String())
}

func TestReadLogsRefusesLogsOutsideTheWorld(t *testing.T) {
	for name, mutate := range map[string]func(string) string{
		"a span of another table": func(s string) string {
			return strings.Replace(s, `"table":1,"start":"","end":"1"`, `"table":2,"start":"","end":"1"`, 1)
		},
		"a third split key": func(s string) string {
			return strings.Replace(s, `"table":1,"start":"","end":"1"`, `"table":1,"start":"","end":"2"`, 1)
		},
		"no trace state": func(s string) string {
			return strings.Replace(s, `,"state":{"owner":7,"disp":[],"removes":[],"merges":[]}`, "", 1)
		},
		"a step the spec lacks": func(s string) string { return strings.Replace(s, `"step":"DMWorking"`, `"step":"DMRestart"`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadLogs(movedRun(t, mutate))
			require.ErrorIs(t, err, ErrNotSpecLog)
			var le *eventlog.LineError
			require.True(t, errors.As(err, &le))
			require.Equal(t, "n2.jsonl", filepath.Base(le.File))
		})
	}
}

func TestValidateLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	ctx := context.Background()
	r, err := ReadLogs(movedRun(t, nil))
	require.NoError(t, err)
	rep, err := ValidateLogs(ctx, "../spec/failover", r)
	require.NoError(t, err)
	require.True(t, rep.Passed, "%+v\n%s", rep.Failure, rep.TLC.Output)
	require.Equal(t, len(r.Entries), rep.Matched)

	// n2 says it made "a" Working without being asked to create it: the first entry the
	// spec cannot match is n2's delivery, whose row the spec does not allow.
	bad, err := ReadLogs(movedRun(t, func(s string) string {
		return strings.Replace(s, `"state":"Initializing","removing":false`, `"state":"Working","removing":false`, 1)
	}))
	require.NoError(t, err)
	rep, err = ValidateLogs(ctx, "../spec/failover", bad)
	require.NoError(t, err)
	require.False(t, rep.Passed)
	require.NotNil(t, rep.Failure)
	require.Equal(t, 9, rep.Failure.Index)
	require.Equal(t, 8, rep.Matched)
	require.Equal(t, "DMDeliver", rep.Failure.Entry.Kind)
	require.Equal(t, []string{`node 2 disp: logged [a |-> "Working", b |-> "none", m |-> "none"], spec [a |-> "Initializing", b |-> "none", m |-> "none"]`}, rep.Failure.Diff)
	require.Contains(t, rep.Failure.String(), "n2.jsonl:4")
}

// An action the spec does not enable there: n2 says "b" became Working, but n2 has no "b".
func TestValidateLogsNamesADisabledAction(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	bad, err := ReadLogs(movedRun(t, func(s string) string {
		return strings.Replace(s, `"step":"DMWorking","id":"a",`+nodeState(7, `{"id":"a","span":`+spanA+`,`+working+`}`, ""),
			`"step":"DMWorking","id":"b",`+nodeState(7, `{"id":"a","span":`+spanA+`,"state":"Initializing","removing":false},{"id":"b","span":`+spanB+`,`+working+`}`, ""), 1)
	}))
	require.NoError(t, err)
	rep, err := ValidateLogs(context.Background(), "../spec/failover", bad)
	require.NoError(t, err)
	require.NotNil(t, rep.Failure)
	require.Equal(t, 10, rep.Failure.Index)
	require.Empty(t, rep.Failure.Allowed)
	require.Contains(t, rep.Failure.String(), `DMWorking(node 2, "b") by n2`)
	require.Contains(t, rep.Failure.String(), "the spec does not allow that action there")
}

// FuzzTraceStates: a trace event's state, node's or maintainer's, maps or is refused
// with an error, never a panic.
func FuzzTraceStates(f *testing.F) {
	f.Add([]byte(`{` + strings.TrimPrefix(nodeState(7, twoHalves, `{"id":"a","span":`+spanA+`,"op":"move","epoch":7,"dest":"n2@y"}`), `"state":`) + `}`))
	f.Add([]byte(strings.TrimPrefix(maintState(false, tasksOn("n1@x", "n2@y", "Scheduling"), `{"id":"a","span":`+spanA+`,"type":"move","state":"AddDest","origin":"n1@x","dest":"n2@y"}`), `"state":`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &logMapper{nodes: map[string]int{"n1": 1, "n2": 2}, epochs: map[uint64]int{0: 1, 7: 2}, ids: map[string]string{}}
		if row, err := m.nodeRow(b); err == nil {
			require.Contains(t, row, "owner |-> ")
		}
		if mv, err := m.maintainerVars(b); err == nil {
			require.Contains(t, mv, "phase |-> ")
		}
	})
}

// A node that says it started with a dispatcher the spec's Init does not give it.
func TestValidateLogsChecksTheStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	bad, err := ReadLogs(movedRun(t, func(s string) string {
		return strings.Replace(s, `"grpc":"g"}`, `"grpc":"g",`+nodeState(0, onlyB, "")+`}`, 1)
	}))
	require.NoError(t, err)
	require.Equal(t, "NodeStarted", bad.Entries[0].Kind)
	rep, err := ValidateLogs(context.Background(), "../spec/failover", bad)
	require.NoError(t, err)
	require.NotNil(t, rep.Failure)
	require.Equal(t, 1, rep.Failure.Index)
	require.Equal(t, []string{`node 2 disp: logged [a |-> "none", b |-> "Working", m |-> "none"], spec [a |-> "none", b |-> "none", m |-> "none"]`}, rep.Failure.Diff)
}

// A twin status: c1 resends the move's Remove before it heard n1's Stopped; n1, whose "a" is
// gone, answers Stopped again. The model aggregated the second Stopped into the first; c1
// takes both, and the second changes nothing: a behaviour. A twin that changes the
// maintainer is not.
func TestValidateLogsTwinStatuses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs TLC")
	}
	removing := maintState(false, tasksOn("n1@x", "n1@x", "Scheduling"), `{"id":"a","span":`+spanA+`,"type":"move","state":"RemoveOrigin","origin":"n1@x","dest":"n2@y"}`)
	addDest := maintState(false, tasksOn("n2@y", "n1@x", "Scheduling"), `{"id":"a","span":`+spanA+`,"type":"move","state":"AddDest","origin":"n1@x","dest":"n2@y"}`)
	twin := func(after string) func(file, body string) string {
		return func(file, body string) string {
			switch file {
			case "c1.jsonl":
				ls := strings.SplitAfter(body, "\n")
				resend := logLine("c1", 7, "Step", `"step":"Resend","id":"a","node":"n1@x",`+removing) +
					logLine("c1", 7, "MaintainerSend", `"node":"n1@x","epoch":7,"seq":3,"sent":true,"kind":"Remove","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y"`)
				second := logLine("c1", 8, "MaintainerStatus", `"node":"n1@x","seq":3,"epoch":7,"statuses":[{"id":"a","state":"Stopped","checkpoint":3}]`) +
					logLine("c1", 8, "Step", `"step":"MaintainerStatus","node":"n1@x","status":{"id":"a","state":"Stopped"},"reportEpoch":7,`+after)
				// after the StartMove's send (line 10): the resend; after the first Stopped's step (line 12): the twin
				return strings.Join(ls[:10], "") + resend + strings.Join(ls[10:12], "") + second + strings.Join(ls[12:], "")
			case "n1.jsonl":
				return body + logLine("n1", 7, "DMDeliver", `"epoch":7,"seq":3,"owner":7,"kind":"Remove","reqEpoch":7,"id":"a","op":"move","span":"1[,1)","dest":"n2@y",`+nodeState(7, onlyB, "")) +
					logLine("n1", 7, "DMSend", `"epoch":7,"seq":3,"sessions":1,"statuses":[{"id":"a","state":"Stopped","checkpoint":3}]`)
			}
			return body
		}
	}
	ctx := context.Background()
	r, err := ReadLogs(movedRunAll(t, twin(addDest)))
	require.NoError(t, err)
	require.Len(t, r.Entries, 14)
	rep, err := ValidateLogs(ctx, "../spec/failover", r)
	require.NoError(t, err)
	require.True(t, rep.Passed, "%+v\n%s", rep.Failure, rep.TLC.Output)

	bad, err := ReadLogs(movedRunAll(t, twin(removing))) // the twin took the move back
	require.NoError(t, err)
	rep, err = ValidateLogs(ctx, "../spec/failover", bad)
	require.NoError(t, err)
	require.NotNil(t, rep.Failure)
	require.Equal(t, "MaintainerStatus", rep.Failure.Entry.Kind)
	require.Contains(t, rep.Failure.Diff, `maintainer ops: logged [a |-> [dest |-> 2, origin |-> 1, st |-> "RemoveOrigin", type |-> "move"], b |-> [dest |-> 0, origin |-> 0, st |-> "", type |-> ""], m |-> [dest |-> 0, origin |-> 0, st |-> "", type |-> ""]], spec [a |-> [dest |-> 2, origin |-> 1, st |-> "AddDest", type |-> "move"], b |-> [dest |-> 0, origin |-> 0, st |-> "", type |-> ""], m |-> [dest |-> 0, origin |-> 0, st |-> "", type |-> ""]]`)
}

// FuzzLogEntry: any event's fields map to an entry or are refused with an error naming
// its file and line, never a panic.
func FuzzLogEntry(f *testing.F) {
	f.Add("Step", []byte(`{"step":"MaintainerStatus","node":"n1@x","status":{"id":"a","state":"Working"},"reportEpoch":7,`+maintState(false, tasksOn("n1@x", "n1@x", "Replicating"), "")+`}`))
	f.Add("Step", []byte(`{"step":"DMSweep","id":"a",`+nodeState(7, onlyB, "")+`}`))
	f.Add("DMDeliver", []byte(`{"epoch":7,"seq":2,"kind":"Remove","id":"a","op":"move","span":"1[,1)","dest":"n2@y",`+nodeState(7, onlyB, "")+`}`))
	f.Add("NodeStarted", []byte(`{"cf":"cf","id":"n1@x",`+nodeState(0, twoHalves, "")+`}`))
	f.Fuzz(func(t *testing.T, action string, fields []byte) {
		var raw map[string]json.RawMessage
		if json.Unmarshal(fields, &raw) != nil {
			return
		}
		m := &logMapper{nodes: map[string]int{"n1": 1, "n2": 2}, epochs: map[uint64]int{0: 1, 7: 2}, ids: map[string]string{"a": "a"}}
		ev := eventlog.Event{File: "n1.jsonl", Line: 3, Proc: "n1", Action: action, Epoch: 7, Fields: raw}
		e, ok, err := m.entry(ev, 1)
		if err != nil {
			require.ErrorIs(t, err, ErrNotSpecLog)
			require.Contains(t, err.Error(), "n1.jsonl:3")
			return
		}
		if ok {
			require.NotEmpty(t, e.Kind)
		}
	})
}
