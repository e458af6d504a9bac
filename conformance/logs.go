package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/cluster/eventlog"
)

// ErrNotSpecLog: a cluster log that cannot be checked against the spec: a run outside the
// spec's world (another table layout, a node restarted, DDL, an action the spec does not
// have) or a log without the trace events of `--trace` processes. The error is an
// *eventlog.LineError naming the file and line.
var ErrNotSpecLog = errors.New("log outside the spec's world")

// LogEntry is one protocol step of a cluster run, on the spec's world: the action
// (Kind), its parameters, and what its process logged of its own variables after it, as
// TLA+ values (empty when the entry does not fix them).
type LogEntry struct {
	Kind string
	// Proc, File and Line say where the step was logged.
	Proc, File string
	Line       int
	// N is the node the step is about (1-based; 0 none), E the epoch of a delivery's
	// stream, Dest a destination node, D a dispatcher id ("m", "a", "b" or "").
	N, E, Dest int
	D          string
	// Msg is the request a delivery takes, St the status a MaintainerStatus takes.
	Msg, St string
	// Row is the node's variables after the step, MV the maintainer's.
	Row, MV string
}

// String names the entry for reports: the action, its parameters and where it was logged.
func (e LogEntry) String() string {
	var args []string
	if e.N > 0 {
		args = append(args, "node "+strconv.Itoa(e.N))
	}
	if e.E > 0 {
		args = append(args, "epoch "+strconv.Itoa(e.E))
	}
	if e.D != "" {
		args = append(args, strconv.Quote(e.D))
	}
	if e.Dest > 0 {
		args = append(args, "to node "+strconv.Itoa(e.Dest))
	}
	return fmt.Sprintf("%s(%s) by %s at %s:%d", e.Kind, strings.Join(args, ", "), e.Proc, e.File, e.Line)
}

// LogRun is a cluster run's logs as spec steps.
type LogRun struct {
	Entries []LogEntry
	// Nodes are the node names, in the order of the spec's node numbers; Epochs the
	// elected maintainers' epochs in order: spec epoch k+2 is Epochs[k] (spec epoch 1 is
	// the nodes' start, before any bootstrap).
	Nodes  []string
	Epochs []uint64
	// Events counts the events read; Ops the operations started (the spec's budget),
	// Resends, Crashes the resends and node crashes (its fault budgets).
	Events, Ops, Resends, Crashes int
}

// ReadLogs reads the logs of one run (every *.jsonl in dir), merges them in an order
// consistent with their messages and elections, and maps their protocol steps onto the
// spec's world. The run must be a spec-world run whose processes logged trace events
// (opfsm cluster chaos --spec).
func ReadLogs(dir string) (*LogRun, error) {
	procs, err := eventlog.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	run, err := eventlog.Merge(procs, eventlog.ElectionOrder())
	if err != nil {
		return nil, err
	}
	return mapLogs(procs, run.Events)
}

func mapLogs(procs []*eventlog.Process, events []eventlog.Event) (*LogRun, error) {
	m := &logMapper{nodes: map[string]int{}, epochs: map[uint64]int{0: 1}, ids: map[string]string{}}
	r := &LogRun{Events: len(events)}
	names := map[string]string{} // name -> identity
	for _, p := range procs {
		if p.Node == "" {
			continue
		}
		name := nodeName(p.Node)
		if other, dup := names[name]; dup {
			return nil, notSpec(p.File, 1, "node %s started twice (%s and %s): the spec's nodes do not restart", name, other, p.Node)
		}
		names[name] = p.Node
		r.Nodes = append(r.Nodes, name)
	}
	if len(r.Nodes) == 0 {
		return nil, notSpec(procs[0].File, 1, "no node process in the run")
	}
	slices.Sort(r.Nodes)
	for i, n := range r.Nodes {
		m.nodes[n] = i + 1
	}
	for _, ev := range events {
		if ev.Action == eventlog.Elected {
			r.Epochs = append(r.Epochs, ev.Epoch)
		}
	}
	slices.Sort(r.Epochs)
	for i, e := range r.Epochs {
		m.epochs[e] = i + 2
	}
	node := map[string]int{} // process -> its node number
	for _, p := range procs {
		if p.Node != "" {
			node[p.Proc] = m.nodes[nodeName(p.Node)]
		}
	}
	for _, ev := range events {
		e, ok, err := m.entry(ev, node[ev.Proc])
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		switch e.Kind {
		case "StartMove", "StartSplit", "StartMerge", "DropTable":
			r.Ops++
		case "Resend":
			r.Resends++
		case "NodeCrash":
			r.Crashes++
		}
		r.Entries = append(r.Entries, e)
	}
	if len(r.Entries) == 0 {
		return nil, notSpec(procs[0].File, 1, "no trace events: run the processes with --trace (opfsm cluster chaos --spec)")
	}
	return r, nil
}

func notSpec(file string, line int, format string, args ...any) error {
	return &eventlog.LineError{File: file, Line: line, Err: ErrNotSpecLog, Detail: fmt.Sprintf(format, args...)}
}

// nodeName is a node identity's name: "n1" of "n1@6f3a".
func nodeName(id string) string {
	name, _, _ := strings.Cut(id, "@")
	return name
}

func (m *logMapper) entry(ev eventlog.Event, n int) (LogEntry, bool, error) {
	e := LogEntry{Proc: ev.Proc, File: ev.File, Line: ev.Line}
	bad := func(format string, args ...any) (LogEntry, bool, error) {
		return e, false, notSpec(ev.File, ev.Line, format, args...)
	}
	switch ev.Action {
	case eventlog.DMDeliver:
		raw, traced := ev.Fields["state"]
		if !traced {
			return bad("DMDeliver without its state: the node did not run with --trace")
		}
		msg, err := m.request(ev)
		if err != nil {
			return bad("%v", err)
		}
		row, err := m.nodeRow(raw)
		if err != nil {
			return bad("%v", err)
		}
		e.Kind, e.N, e.Msg, e.Row = "DMDeliver", n, msg, row
		if e.E, err = m.epoch(ev.Epoch); err != nil {
			return bad("%v", err)
		}
		return e, true, nil
	case eventlog.NodeStarted:
		raw, traced := ev.Fields["state"]
		if !traced {
			return e, false, nil // checked where its first step needs it
		}
		row, err := m.nodeRow(raw)
		if err != nil {
			return bad("%v", err)
		}
		e.Kind, e.N, e.Row = "NodeStarted", n, row
		return e, true, nil
	case "Step":
	default:
		return e, false, nil
	}
	var s stepJSON
	if err := json.Unmarshal(mustObject(ev.Fields), &s); err != nil {
		return bad("Step: %v", err)
	}
	e.Kind = s.Step
	switch {
	case nodeSteps[s.Step]:
		e.N = n
		if s.Step != "DMHeartbeat" {
			row, err := m.nodeRow(s.State)
			if err != nil {
				return bad("%v", err)
			}
			e.Row = row
		}
		if s.Step == "DMWorking" || s.Step == "DMSweep" || s.Step == "DMHeartbeat" {
			d, err := m.idOf(s.ID)
			if err != nil {
				return bad("%v", err)
			}
			e.D = d
		}
		return e, true, nil
	case maintainerSteps[s.Step]:
		mv, err := m.maintainerVars(s.State)
		if err != nil {
			return bad("%v", err)
		}
		e.MV = mv
		switch s.Step {
		case "MaintainerStatus":
			if e.N, err = m.nodeNum(s.Node); err != nil {
				return bad("%v", err)
			}
			d, err := m.idOf(s.Status.ID)
			if err != nil {
				return bad("%v", err)
			}
			ep, err := m.epoch(s.ReportEpoch)
			if err != nil {
				return bad("%v", err)
			}
			e.St = statusText(d, s.Status.State, uint64(ep))
		case "ScheduleAbsent", "StartMove", "Resend":
			if e.D, err = m.idOf(s.ID); err != nil {
				return bad("%v", err)
			}
			if s.Step != "Resend" {
				if e.Dest, err = m.nodeNum(s.Node); err != nil {
					return bad("%v", err)
				}
			}
		case "NodeCrash", "AskBootstrap":
			if e.N, err = m.nodeNum(s.Node); err != nil {
				return bad("%v", err)
			}
		}
		return e, true, nil
	}
	return bad("step %q is not an action of the spec", s.Step)
}

// mustObject re-encodes an event's fields as one JSON object.
func mustObject(fields map[string]json.RawMessage) []byte {
	b, _ := json.Marshal(fields) // raw messages that were read as JSON encode
	return b
}
