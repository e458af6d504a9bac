package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/cluster/eventlog"
)

// The cluster-log reader's mapping of real names and states onto the spec's world: ids by
// span, nodes by name, epochs in election order; and the trace events' JSON.

// logMapper maps real names onto the spec's.
type logMapper struct {
	nodes  map[string]int    // node name -> spec number
	epochs map[uint64]int    // real epoch -> spec epoch
	ids    map[string]string // dispatcher id -> spec id, learned from spans
	table  int64
	key    string // the split key: "a" ends and "b" starts there
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
		return bootstrapReq, nil
	case "Merge":
		return mergeReq, nil
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
	return reqText(strings.ToLower(f.Kind), d, f.Op, dest), nil
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
	var rows dmRowSet
	seen := [len(rows)]bool{}
	for _, d := range st.Disp {
		id, err := m.specID(d.ID, d.Span)
		if err != nil {
			return "", err
		}
		i := specIndex(id)
		if seen[i] {
			return "", fmt.Errorf("two dispatchers of span %q on one node", id)
		}
		seen[i] = true
		rows[i].state, rows[i].removing = d.State, d.Removing
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
		rows[specIndex(id)].journal = journalEntry{op: r.Op, epoch: uint64(ep), dest: dest}
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
	disp, rem, opJ := rows.dmRows()
	return fmt.Sprintf("[disp |-> %s, rem |-> %s, opJ |-> %s, mergeJ |-> %d, owner |-> %d]", disp, rem, opJ, mj, owner), nil
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
		opsV[id] = opText(o.Type, o.State, origin, dest)
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
