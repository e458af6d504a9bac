package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/recovery"
)

// Errors a Manager returns; callers test them with errors.Is.
var (
	// ErrUnknownRequest: a request kind the manager does not know.
	ErrUnknownRequest = errors.New("unknown request kind")
	// ErrNotEnabled: a local action (Prepared, Commit, ...) whose precondition does not hold.
	ErrNotEnabled = errors.New("action not enabled")
)

// RequestKind is what a maintainer asks a dispatcher manager to do.
type RequestKind uint8

// The request kinds of spec/failover/Network.tla.
const (
	CreateRequest RequestKind = iota
	RemoveRequest
	MergeRequest
	BootstrapRequest
)

var requestNames = [...]string{"create", "remove", "merge", "bootstrap"}

// String returns the kind's name as the spec writes it.
func (k RequestKind) String() string {
	if int(k) < len(requestNames) {
		return requestNames[k]
	}
	return fmt.Sprintf("RequestKind(%d)", uint8(k))
}

// Request is one maintainer request: the sender's epoch, what to do and the record of the
// operator that asks (for a bootstrap, only Changefeed and Epoch matter).
type Request struct {
	Epoch  ops.Epoch
	Kind   RequestKind
	Record ops.Record
}

// Bugs are the seeded bugs of the dispatcher manager, named as in spec/README.md; the zero
// value is the correct design.
type Bugs struct {
	// MergeJournalLost: bootstrap responses omit the merge journal (TiCDC 4763).
	MergeJournalLost bool
	// NoEpochFence: requests of any epoch are applied.
	NoEpochFence bool
	// BootstrapNoFence: a stale bootstrap takes the node over.
	BootstrapNoFence bool
	// SweepSkipsPreCommit: removing Preparing/MergeReady dispatchers are never swept (G6).
	SweepSkipsPreCommit bool
	// JournalMissingRemove: a Remove for a missing dispatcher is journaled anyway.
	JournalMissingRemove bool
}

// Dispatcher is one dispatcher on a node.
type Dispatcher struct {
	ID       ops.DispatcherID
	Span     ops.Span
	State    ops.ComponentState
	Removing bool
}

// Manager is one node's dispatcher manager (domain.md section 2): its dispatchers, its
// schedule journal (the records of the Removes it accepted), its merge journal, and the
// maintainer epoch it obeys. A journaled merge whose target has not committed is the one
// the manager checks for commit or abort (TiCDC's MergeCheckTask), as in the spec.
type Manager struct {
	Node       ops.NodeID
	Changefeed ops.ChangefeedID
	Owner      ops.Epoch
	Bugs       Bugs

	disp    map[ops.DispatcherID]*Dispatcher
	journal map[ops.DispatcherID]ops.Record
	mergeJ  map[ops.DispatcherID]ops.Record
}

// NewManager returns the manager of node n, obeying the maintainer of epoch owner.
func NewManager(n ops.NodeID, cf ops.ChangefeedID, owner ops.Epoch) *Manager {
	return &Manager{
		Node: n, Changefeed: cf, Owner: owner,
		disp:    map[ops.DispatcherID]*Dispatcher{},
		journal: map[ops.DispatcherID]ops.Record{},
		mergeJ:  map[ops.DispatcherID]ops.Record{},
	}
}

// Place puts a Working dispatcher on the node (the initial placement of a scenario).
func (m *Manager) Place(id ops.DispatcherID, sp ops.Span) {
	m.disp[id] = &Dispatcher{ID: id, Span: sp, State: ops.Working}
}

// Dispatcher returns a copy of dispatcher id and whether the node has it.
func (m *Manager) Dispatcher(id ops.DispatcherID) (Dispatcher, bool) {
	d, ok := m.disp[id]
	if !ok {
		return Dispatcher{}, false
	}
	return *d, true
}

// Dispatchers returns every dispatcher, sorted by id.
func (m *Manager) Dispatchers() []Dispatcher {
	out := make([]Dispatcher, 0, len(m.disp))
	for _, id := range sortedKeys(m.disp) {
		out = append(out, *m.disp[id])
	}
	return out
}

// Journaled returns the record of the Remove the node journaled for id, if any.
func (m *Manager) Journaled(id ops.DispatcherID) (ops.Record, bool) {
	r, ok := m.journal[id]
	return r, ok
}

// MergeJournaled returns the journaled merge request for merged id, if any.
func (m *Manager) MergeJournaled(id ops.DispatcherID) (ops.Record, bool) {
	r, ok := m.mergeJ[id]
	return r, ok
}

func (m *Manager) fenced(e ops.Epoch) bool { return m.Bugs.NoEpochFence || e == m.Owner }

// admit passes r through the fence and returns its record stamped with the sender's epoch,
// as the node journals it.
func (m *Manager) admit(r Request) (ops.Record, bool) {
	if !m.fenced(r.Epoch) {
		return ops.Record{}, false
	}
	rec := r.Record
	rec.Epoch = r.Epoch
	return rec, true
}

// Handle applies request r (DMDeliver). It returns the statuses the node reports, and for
// an accepted bootstrap the response. A request the fence rejects changes nothing.
func (m *Manager) Handle(r Request) ([]ops.Status, *recovery.Response, error) {
	switch r.Kind {
	case CreateRequest:
		return m.create(r), nil, nil
	case RemoveRequest:
		return m.remove(r), nil, nil
	case MergeRequest:
		return m.merge(r), nil, nil
	case BootstrapRequest:
		return nil, m.bootstrap(r.Epoch), nil
	}
	return nil, nil, fmt.Errorf("sim: node %s: %w: %v", m.Node, ErrUnknownRequest, r.Kind)
}

// create: a missing dispatcher is created Initializing; an existing one drops the request.
func (m *Manager) create(r Request) []ops.Status {
	if m.fenced(r.Epoch) {
		if _, ok := m.disp[r.Record.ID]; !ok {
			m.disp[r.Record.ID] = &Dispatcher{ID: r.Record.ID, Span: r.Record.Span, State: ops.Initializing}
		}
	}
	return nil
}

// remove: an existing dispatcher starts closing and the record is journaled; a missing one
// answers Stopped at once (and is not journaled: nothing would ever delete the entry).
func (m *Manager) remove(r Request) []ops.Status {
	rec, ok := m.admit(r)
	if !ok {
		return nil
	}
	d, ok := m.disp[rec.ID]
	if !ok {
		if m.Bugs.JournalMissingRemove {
			m.journal[rec.ID] = rec
		}
		return []ops.Status{{ID: rec.ID, State: ops.Stopped}}
	}
	d.Removing = true
	m.journal[rec.ID] = rec
	return nil
}

// merge: journaled after the fence; starts when every source is Working and the merged
// dispatcher is missing; a Working merged dispatcher is re-reported; a merge that can
// neither start nor is in progress drops its journal entry.
func (m *Manager) merge(r Request) []ops.Status {
	rec, ok := m.admit(r)
	if !ok {
		return nil
	}
	merged, exists := m.disp[rec.ID]
	switch {
	case !exists && m.sourcesWorking(rec.Sources):
		m.disp[rec.ID] = &Dispatcher{ID: rec.ID, Span: rec.Span, State: ops.Preparing}
		for _, s := range rec.Sources {
			m.disp[s].State = ops.WaitingMerge
		}
		m.mergeJ[rec.ID] = rec
	case !exists:
		delete(m.mergeJ, rec.ID)
	default:
		m.mergeJ[rec.ID] = rec
		if merged.State == ops.Working && !merged.Removing {
			return []ops.Status{{ID: rec.ID, State: ops.Working}}
		}
	}
	return nil
}

func (m *Manager) sourcesWorking(srcs []ops.DispatcherID) bool {
	if len(srcs) < 2 {
		return false
	}
	for _, s := range srcs {
		d, ok := m.disp[s]
		if !ok || d.State != ops.Working || d.Removing {
			return false
		}
	}
	return true
}

// bootstrap: the owner switches to the new epoch first; the response carries every
// dispatcher, the schedule journal and the merge journal. A stale bootstrap gets nothing.
func (m *Manager) bootstrap(e ops.Epoch) *recovery.Response {
	if e < m.Owner && !m.Bugs.BootstrapNoFence {
		return nil
	}
	m.Owner = e
	resp := &recovery.Response{Node: m.Node, Changefeed: m.Changefeed, Epoch: e}
	for _, d := range m.Dispatchers() {
		resp.Dispatchers = append(resp.Dispatchers, recovery.Dispatcher{ID: d.ID, Span: d.Span, State: d.State, Removing: d.Removing})
	}
	for _, id := range sortedKeys(m.journal) {
		resp.Journal = append(resp.Journal, recovery.JournalEntry{Action: ops.Remove, Record: m.journal[id]})
	}
	if !m.Bugs.MergeJournalLost {
		for _, id := range sortedKeys(m.mergeJ) {
			resp.MergeJournal = append(resp.MergeJournal, m.mergeJ[id])
		}
	}
	return resp
}

// Local actions, each enabled by the node's own state.

// Prepared: the merged dispatcher finished preparing (DMPrepared).
func (m *Manager) Prepared(id ops.DispatcherID) error {
	d, ok := m.disp[id]
	if !ok || d.State != ops.Preparing || d.Removing {
		return m.notEnabled("Prepared", id)
	}
	d.State = ops.MergeReady
	return nil
}

// Commit is the commit point (DMCommit): every source closes, the merged dispatcher goes
// Initializing.
func (m *Manager) Commit(id ops.DispatcherID) error {
	if !m.committable(id) {
		return m.notEnabled("Commit", id)
	}
	m.disp[id].State = ops.Initializing
	for _, s := range m.mergeJ[id].Sources {
		m.disp[s].Removing = true
	}
	return nil
}

// committable: a journaled merge whose MergeReady target's sources all still wait for it.
func (m *Manager) committable(id ops.DispatcherID) bool {
	d, ok := m.disp[id]
	rec, journaled := m.mergeJ[id]
	if !ok || !journaled || d.State != ops.MergeReady || d.Removing {
		return false
	}
	for _, s := range rec.Sources {
		if sd, ok := m.disp[s]; !ok || sd.State != ops.WaitingMerge || sd.Removing {
			return false
		}
	}
	return true
}

// abortable: a journaled pre-commit merge one of whose members is missing or being
// removed. The journal entry is what the check runs on: an abort deletes it, so an
// aborted merge is not aborted again (the spec's DMAbortMerge has the same guard).
func (m *Manager) abortable(id ops.DispatcherID) bool {
	d, ok := m.disp[id]
	rec, journaled := m.mergeJ[id]
	if !ok || !journaled || (d.State != ops.Preparing && d.State != ops.MergeReady) {
		return false
	}
	if d.Removing {
		return true
	}
	for _, s := range rec.Sources {
		if sd, ok := m.disp[s]; !ok || sd.State != ops.WaitingMerge || sd.Removing {
			return true
		}
	}
	return false
}

// AbortMerge aborts a pre-commit merge (DMAbortMerge): sources back to Working, the merged
// dispatcher removed, the merge journal entry deleted.
func (m *Manager) AbortMerge(id ops.DispatcherID) error {
	if !m.abortable(id) {
		return m.notEnabled("AbortMerge", id)
	}
	for _, s := range m.mergeJ[id].Sources {
		if sd, ok := m.disp[s]; ok && sd.State == ops.WaitingMerge {
			sd.State = ops.Working
		}
	}
	m.disp[id].Removing = true
	delete(m.mergeJ, id)
	return nil
}

// Working: a dispatcher receives its first event (DMWorking) and reports it.
func (m *Manager) Working(id ops.DispatcherID) (ops.Status, error) {
	d, ok := m.disp[id]
	if !ok || d.State != ops.Initializing || d.Removing {
		return ops.Status{}, m.notEnabled("Working", id)
	}
	d.State = ops.Working
	return ops.Status{ID: id, State: ops.Working}, nil
}

func (m *Manager) sweepable(d *Dispatcher) bool {
	if !d.Removing {
		return false
	}
	pre := d.State == ops.Preparing || d.State == ops.MergeReady
	return !(m.Bugs.SweepSkipsPreCommit && pre)
}

// Sweep deletes a closed dispatcher and its journal entry and reports Stopped (DMSweep).
// Pre-commit merge targets are swept too (opfsm fixes G6).
func (m *Manager) Sweep(id ops.DispatcherID) (ops.Status, error) {
	d, ok := m.disp[id]
	if !ok || !m.sweepable(d) {
		return ops.Status{}, m.notEnabled("Sweep", id)
	}
	delete(m.disp, id)
	delete(m.journal, id)
	return ops.Status{ID: id, State: ops.Stopped}, nil
}

func (m *Manager) cleanable(id ops.DispatcherID) bool {
	rec, ok := m.mergeJ[id]
	if !ok {
		return false
	}
	// By span, as the spec (whose ids are spans) sees it: no dispatcher inside the merged
	// span still waits for the merge, and whatever covers the whole span is Working. A
	// later incarnation of a source span (the target split again) does not hold the entry;
	// a source of this merge, closing, does.
	for _, d := range m.disp {
		if !rec.Span.Contains(d.Span) {
			continue
		}
		if (d.Span == rec.Span && d.State != ops.Working) || (d.Span != rec.Span && d.State == ops.WaitingMerge) {
			return false
		}
	}
	return true
}

// JournalCleanup drops a finished merge's journal entry: no source waits for the merge any
// more and the merged dispatcher is missing or Working (DMJournalCleanup).
func (m *Manager) JournalCleanup(id ops.DispatcherID) error {
	if !m.cleanable(id) {
		return m.notEnabled("JournalCleanup", id)
	}
	delete(m.mergeJ, id)
	return nil
}

// LocalAction is one enabled local action of a manager, named as in the spec.
type LocalAction struct {
	Name string
	ID   ops.DispatcherID
}

// String is the action as the spec labels it, e.g. DMSweep(d1).
func (a LocalAction) String() string { return a.Name + "(" + string(a.ID) + ")" }

// Enabled lists the enabled local actions in a fixed order (by id, then by name).
func (m *Manager) Enabled() []LocalAction {
	var out []LocalAction
	for _, id := range sortedKeys(m.disp) {
		d := m.disp[id]
		switch {
		case d.State == ops.Preparing && !d.Removing:
			out = append(out, LocalAction{"DMPrepared", id})
		case d.State == ops.Initializing && !d.Removing:
			out = append(out, LocalAction{"DMWorking", id})
		}
		if m.abortable(id) {
			out = append(out, LocalAction{"DMAbortMerge", id})
		}
		if m.committable(id) {
			out = append(out, LocalAction{"DMCommit", id})
		}
		if m.sweepable(d) {
			out = append(out, LocalAction{"DMSweep", id})
		}
	}
	for _, id := range sortedKeys(m.mergeJ) {
		if m.cleanable(id) {
			out = append(out, LocalAction{"DMJournalCleanup", id})
		}
	}
	slices.SortStableFunc(out, func(a, b LocalAction) int {
		if c := strings.Compare(string(a.ID), string(b.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func (m *Manager) notEnabled(action string, id ops.DispatcherID) error {
	return fmt.Errorf("sim: node %s: %w: %s(%s)", m.Node, ErrNotEnabled, action, id)
}

func sortedKeys[V any](mp map[ops.DispatcherID]V) []ops.DispatcherID {
	keys := make([]ops.DispatcherID, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
