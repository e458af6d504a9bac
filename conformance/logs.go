package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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

// logMapper maps real names onto the spec's.
type logMapper struct {
	nodes  map[string]int    // node name -> spec number
	epochs map[uint64]int    // real epoch -> spec epoch
	ids    map[string]string // dispatcher id -> spec id, learned from spans
	table  int64
	key    string // the split key: "a" ends and "b" starts there
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

// The JSON of trace events (docs/cluster.md).
type (
	spanJSON struct {
		Table int64  `json:"table"`
		Start string `json:"start"`
		End   string `json:"end"`
	}
	nodeStateJSON struct {
		Owner uint64 `json:"owner"`
		Disp  []struct {
			ID       string   `json:"id"`
			Span     spanJSON `json:"span"`
			State    string   `json:"state"`
			Removing bool     `json:"removing"`
		} `json:"disp"`
		Removes []struct {
			ID    string   `json:"id"`
			Span  spanJSON `json:"span"`
			Op    string   `json:"op"`
			Epoch uint64   `json:"epoch"`
			Dest  string   `json:"dest"`
		} `json:"removes"`
		Merges []struct {
			ID    string   `json:"id"`
			Span  spanJSON `json:"span"`
			Epoch uint64   `json:"epoch"`
		} `json:"merges"`
	}
	maintainerStateJSON struct {
		Epoch   uint64 `json:"epoch"`
		Booting bool   `json:"booting"`
		Tasks   []struct {
			ID    string   `json:"id"`
			Span  spanJSON `json:"span"`
			Sched string   `json:"sched"`
			Node  string   `json:"node"`
		} `json:"tasks"`
		Ops []struct {
			ID     string   `json:"id"`
			Span   spanJSON `json:"span"`
			Type   string   `json:"type"`
			State  string   `json:"state"`
			Origin string   `json:"origin"`
			Dest   string   `json:"dest"`
		} `json:"ops"`
	}
	stepJSON struct {
		Step        string `json:"step"`
		ID          string `json:"id"`
		Node        string `json:"node"`
		ReportEpoch uint64 `json:"reportEpoch"`
		Status      struct{ ID, State string }
		State       json.RawMessage `json:"state"`
	}
)

// nodeSteps are the node steps a log may hold, as the spec names them.
var nodeSteps = map[string]bool{"DMWorking": true, "DMPrepared": true, "DMCommit": true, "DMAbortMerge": true,
	"DMSweep": true, "DMJournalCleanup": true, "DMHeartbeat": true}

// maintainerSteps are the maintainer steps the spec has.
var maintainerSteps = map[string]bool{"MaintainerStatus": true, "MaintainerCrash": true, "Recover": true, "ScheduleAbsent": true,
	"StartMove": true, "StartSplit": true, "StartMerge": true, "DropTable": true, "Resend": true, "NodeCrash": true, "AskBootstrap": true}

// entry maps one event; ok is false for an event that is not a protocol step.
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
			e.St = fmt.Sprintf("[id |-> %q, st |-> %q, epoch |-> %d]", d, s.Status.State, ep)
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

func (m *logMapper) epoch(e uint64) (int, error) {
	k, ok := m.epochs[e]
	if !ok {
		return 0, fmt.Errorf("epoch %d: no maintainer was elected at it", e)
	}
	return k, nil
}

func (m *logMapper) nodeNum(id string) (int, error) {
	if id == "" {
		return 0, nil
	}
	k, ok := m.nodes[nodeName(id)]
	if !ok {
		return 0, fmt.Errorf("node %q: no such node process in the run", id)
	}
	return k, nil
}

// specID maps a span of the spec's one table to "m" (whole), "a" or "b" (the halves at
// the one split key), and learns id's spec id.
func (m *logMapper) specID(id string, sp spanJSON) (string, error) {
	if m.table == 0 {
		m.table = sp.Table
	}
	var d string
	switch {
	case sp.Table != m.table:
	case sp.Start == "" && sp.End == "":
		d = "m"
	case sp.Start == "" && (m.key == "" || sp.End == m.key):
		d, m.key = "a", sp.End
	case sp.End == "" && (m.key == "" || sp.Start == m.key):
		d, m.key = "b", sp.Start
	}
	if d == "" {
		return "", fmt.Errorf("span %d[%s,%s) of %s: the spec's world is one table, whole or in two halves at one key", sp.Table, sp.Start, sp.End, id)
	}
	if id != "" {
		m.ids[id] = d
	}
	return d, nil
}

func (m *logMapper) idOf(id string) (string, error) {
	d, ok := m.ids[id]
	if !ok {
		return "", fmt.Errorf("dispatcher %q was never logged with a span", id)
	}
	return d, nil
}

// reSpan parses a span as operators.Span.String prints it: table[start,end).
var reSpan = regexp.MustCompile(`^(\d+)\[([^,]*),([^,]*)\)$`)

// request is the request a DMDeliver took, as the spec writes requests.
func (m *logMapper) request(ev eventlog.Event) (string, error) {
	var f struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
		Op   string `json:"op"`
		Span string `json:"span"`
		Dest string `json:"dest"`
	}
	if err := json.Unmarshal(mustObject(ev.Fields), &f); err != nil {
		return "", err
	}
	switch f.Kind {
	case "Bootstrap":
		return `[type |-> "bootstrap", id |-> "m", op |-> "", dest |-> 0]`, nil
	case "Merge":
		return `[type |-> "merge", id |-> "m", op |-> "merge", dest |-> 0]`, nil
	case "Create", "Remove":
	default:
		return "", fmt.Errorf("request kind %q", f.Kind)
	}
	d, err := m.idOf(f.ID)
	if sm := reSpan.FindStringSubmatch(f.Span); sm != nil && sm[1] != "0" {
		t, _ := strconv.ParseInt(sm[1], 10, 64)
		d, err = m.specID(f.ID, spanJSON{Table: t, Start: sm[2], End: sm[3]})
	}
	if err != nil {
		return "", err
	}
	dest := 0
	if f.Op == "move" {
		if dest, err = m.nodeNum(f.Dest); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("[type |-> %q, id |-> %q, op |-> %q, dest |-> %d]", strings.ToLower(f.Kind), d, f.Op, dest), nil
}

// nodeRow is a node's variables as an entry fixes them.
func (m *logMapper) nodeRow(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("a node step without its state")
	}
	var st nodeStateJSON
	if err := json.Unmarshal(raw, &st); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	states, removing, journal := map[string]string{}, map[string]bool{}, map[string]string{}
	for _, d := range st.Disp {
		id, err := m.specID(d.ID, d.Span)
		if err != nil {
			return "", err
		}
		if _, dup := states[id]; dup {
			return "", fmt.Errorf("two dispatchers of span %q on one node", id)
		}
		states[id], removing[id] = d.State, d.Removing
	}
	for _, r := range st.Removes {
		id, err := m.specID(r.ID, r.Span)
		if err != nil {
			return "", err
		}
		ep, err := m.epoch(r.Epoch)
		if err != nil {
			return "", err
		}
		dest, err := m.nodeNum(r.Dest)
		if err != nil {
			return "", err
		}
		journal[id] = fmt.Sprintf("[op |-> %q, epoch |-> %d, dest |-> %d]", r.Op, ep, dest)
	}
	mj := 0
	for _, r := range st.Merges {
		if _, err := m.specID(r.ID, r.Span); err != nil {
			return "", err
		}
		ep, err := m.epoch(r.Epoch)
		if err != nil {
			return "", err
		}
		mj = ep
	}
	owner, err := m.epoch(st.Owner)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("[disp |-> %s, rem |-> %s, opJ |-> %s, mergeJ |-> %d, owner |-> %d]",
		idFunc(func(d string) string { return quoteOr(states[d], "none") }),
		idFunc(func(d string) string { return boolText(removing[d]) }),
		idFunc(func(d string) string { return orText(journal[d], noRec) }), mj, owner), nil
}

// maintainerVars is the maintainer's variables as an entry fixes them.
func (m *logMapper) maintainerVars(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("a maintainer step without its state")
	}
	var st maintainerStateJSON
	if err := json.Unmarshal(raw, &st); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	ep, err := m.epoch(st.Epoch)
	if err != nil {
		return "", err
	}
	sched, node, opsV := map[string]string{}, map[string]string{}, map[string]string{}
	for _, t := range st.Tasks {
		id, err := m.specID(t.ID, t.Span)
		if err != nil {
			return "", err
		}
		if _, dup := sched[id]; dup {
			return "", fmt.Errorf("two tasks of span %q", id)
		}
		n, err := m.nodeNum(t.Node)
		if err != nil {
			return "", err
		}
		sched[id], node[id] = strconv.Quote(t.Sched), strconv.Itoa(n)
	}
	for _, o := range st.Ops {
		id, err := m.specID(o.ID, o.Span)
		if err != nil {
			return "", err
		}
		origin, err := m.nodeNum(o.Origin)
		if err != nil {
			return "", err
		}
		dest, err := m.nodeNum(o.Dest)
		if err != nil {
			return "", err
		}
		opsV[id] = fmt.Sprintf("[type |-> %q, st |-> %q, origin |-> %d, dest |-> %d]", o.Type, o.State, origin, dest)
	}
	phase := "run"
	if st.Booting {
		phase = "boot"
	}
	return fmt.Sprintf("[epoch |-> %d, phase |-> %q, sched |-> %s, node |-> %s, ops |-> %s]", ep, phase,
		idFunc(func(d string) string { return orText(sched[d], `"none"`) }),
		idFunc(func(d string) string { return orText(node[d], "0") }),
		idFunc(func(d string) string { return orText(opsV[d], noOp) })), nil
}
