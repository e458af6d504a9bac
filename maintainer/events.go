package maintainer

import (
	"fmt"
	"slices"

	"go.uber.org/zap"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/recovery"
)

// StepAnswer takes node a.Node's bootstrap answer. An answer of another changefeed
// (ErrWrongChangefeed) or epoch (ErrStaleEpoch), from a node that is not live
// (ErrUnknownNode) or invalid (*fsm.DecodeError) is refused and changes nothing; a repeat
// replaces the node's earlier answer. Recovery runs in Recover (or the next Tick) once
// every live node answered. A running maintainer takes the answer of a node that joined
// (NodeAdded) and places tasks on it from then on.
func (m *Maintainer) StepAnswer(a protocol.BootstrapAnswer) error {
	switch {
	case a.Changefeed != m.cfg.Changefeed:
		return fmt.Errorf("maintainer: answer of node %s: %w: %q", a.Node, ErrWrongChangefeed, a.Changefeed)
	case a.Epoch != m.cfg.Epoch:
		return fmt.Errorf("maintainer: answer of node %s: %w: %d (this maintainer is %d)", a.Node, ErrStaleEpoch, a.Epoch, m.cfg.Epoch)
	case !m.isLive(a.Node):
		return fmt.Errorf("maintainer: answer of node %s: %w", a.Node, ErrUnknownNode)
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("maintainer: answer of node %s: %w", a.Node, err)
	}
	if !m.booting {
		if !m.isJoined(a.Node) {
			m.writeMember(a.Node).joined = true
			m.placing = true
		}
		return nil
	}
	m.writeAnswers()[a.Node] = a
	return nil
}

// Recoverable reports whether Recover may run now: the maintainer boots and every live
// node has answered.
func (m *Maintainer) Recoverable() bool {
	return m.booting && (len(m.Waiting()) == 0 || m.bugs.RecoverEarly)
}

// Recover rebuilds the maintainer from the answers once every live node has answered
// (ErrAwaitingAnswers before; ErrNotBooting after recovery). The first requests of every
// restored operator and one-shot cleanups go to the outbox, then the DDL that arrived
// while booting is replayed and the statuses that arrived are applied, in order.
func (m *Maintainer) Recover() error {
	if !m.booting {
		return fmt.Errorf("maintainer: recover: %w", ErrNotBooting)
	}
	if !m.Recoverable() {
		return fmt.Errorf("maintainer: recover: %w: %v", ErrAwaitingAnswers, m.Waiting())
	}
	snap := protocol.Snapshot{Changefeed: m.cfg.Changefeed, Epoch: m.cfg.Epoch, Checkpoint: m.cfg.Checkpoint, Tables: m.Tables()}
	for _, n := range m.liveNodes() {
		if a, ok := m.answers[n]; ok { // every live node's, but with a seeded bug
			snap.Answers = append(snap.Answers, a)
		}
	}
	return m.recoverFrom(snap)
}

// FromSnapshot returns a maintainer that has recovered from a snapshot gathered
// elsewhere (a host that collects the answers itself, or a test putting an arbitrary
// snapshot to recovery): like New, StepAnswer for every answer and Recover, but the
// snapshot's answers are taken as they are, and recovery rejects what it must. cfg's
// Changefeed and Epoch must be the snapshot's; its Tables and Checkpoint are replaced by
// the snapshot's.
func FromSnapshot(cfg Config, snap protocol.Snapshot) (*Maintainer, error) {
	if cfg.Changefeed != snap.Changefeed || cfg.Epoch != snap.Epoch {
		return nil, fmt.Errorf("maintainer: %w: snapshot of %q epoch %d for a maintainer of %q epoch %d", ErrInvalidConfig,
			snap.Changefeed, snap.Epoch, cfg.Changefeed, cfg.Epoch)
	}
	cfg.Tables, cfg.Checkpoint = snap.Tables, snap.Checkpoint
	m, err := newMaintainer(cfg)
	if err != nil {
		return nil, err
	}
	m.booting = true
	for _, a := range snap.Answers {
		if m.isLive(a.Node) {
			m.answers[a.Node] = a // a new maintainer owns its parts
		}
	}
	if err := m.recoverFrom(snap); err != nil {
		return nil, err
	}
	return m, nil
}

// recoverFrom runs recovery on snap and starts the maintainer running.
func (m *Maintainer) recoverFrom(snap protocol.Snapshot) error {
	opts := append([]recovery.Option{recovery.WithObserver(m.cfg.Observer), recovery.WithLogger(m.cfg.Logger)}, m.cfg.RecoveryOptions...)
	res, err := recovery.Recover(snap, opts...)
	if err != nil {
		return fmt.Errorf("maintainer: %w", err)
	}
	m.result, m.ctrl, m.booting = &res, res.Controller, false
	m.unshare(partCtrl) // recovery's new controller is m's own: it is not copied
	m.metrics.Recoveries++
	// Every restored operator's request goes out now; from here on a request goes out
	// when it changes.
	m.changed = m.ctrl.AppendChanged(m.changed[:0])
	for _, msg := range res.Messages {
		if _, ok := m.ctrl.Operator(msg.Record.ID); ok {
			if cur, ok := m.ctrl.Request(msg.Record.ID); ok && m.keyOf(cur) == m.keyOf(msg) {
				m.setSent(msg.Record.ID, sent{key: m.keyOf(msg), tick: m.tick})
			}
		}
	}
	m.addStrays(res.Strays)
	m.queue(slices.Clone(res.Messages))
	m.placing = true
	m.trace(Step{Action: StepRecover})
	late := m.late
	m.late = nil
	for _, d := range late {
		if d.Drop {
			m.dropTable(d.Table)
		} else if err := m.createTable(d.Table, d.ID, d.Checkpoint); err != nil {
			return fmt.Errorf("maintainer: replay CREATE TABLE %d after recovery: %w", d.Table, err)
		}
	}
	early := m.early
	m.early = nil
	for _, r := range early {
		m.applyStatuses(r)
	}
	return nil
}

// StepStatus takes a node's status report. A report for another maintainer epoch is
// dropped (Metrics.StatusesFenced), as is one from a node that is not live; while the
// maintainer boots, reports for its epoch wait for recovery. An invalid report is refused
// with a *fsm.DecodeError and changes nothing.
func (m *Maintainer) StepStatus(r protocol.StatusReport) error {
	if err := m.CheckStatus(r); err != nil {
		return err
	}
	switch {
	case r.Epoch != m.cfg.Epoch:
		m.metrics.StatusesFenced += uint64(len(r.Statuses))
		for _, s := range r.Statuses {
			m.trace(Step{Action: StepStatus, Node: r.Node, Status: s, Epoch: r.Epoch})
		}
		m.logDebug("statuses fenced", zap.String("node", string(r.Node)), zap.Uint64("epoch", uint64(r.Epoch)), zap.Int("statuses", len(r.Statuses)))
	case !m.isLive(r.Node):
		m.metrics.StatusesDropped += uint64(len(r.Statuses))
	case m.booting:
		r.Statuses = slices.Clone(r.Statuses)
		m.appendEarly(r)
	default:
		m.applyStatuses(r)
	}
	return nil
}

// CheckStatus returns the error StepStatus refuses report r with (nil if it takes it),
// without stepping it: a host that logs a report's receive before stepping it logs this.
func (m *Maintainer) CheckStatus(r protocol.StatusReport) error {
	if r.Changefeed != m.cfg.Changefeed {
		return fmt.Errorf("maintainer: status report of node %s: %w: %q", r.Node, ErrWrongChangefeed, r.Changefeed)
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("maintainer: status report of node %s: %w", r.Node, err)
	}
	return nil
}

func (m *Maintainer) applyStatuses(r protocol.StatusReport) {
	for _, s := range r.Statuses {
		if s.State.Terminal() {
			m.placing = true // it may leave a task Absent, which Tick places
			break
		}
	}
	if m.cfg.Trace != nil {
		for i := range r.Statuses {
			one := r.Statuses[i : i+1]
			m.writeCtrl().HandleStatuses(r.Node, one, m.afterStatus) // Trace may clone m: asked anew each time
			m.straysStopped(r.Node, one)
			m.trace(Step{Action: StepStatus, Node: r.Node, Status: one[0], Epoch: r.Epoch})
		}
		m.metrics.StatusesApplied += uint64(len(r.Statuses))
		return
	}
	m.writeCtrl().HandleStatuses(r.Node, r.Statuses, m.afterStatus)
	m.metrics.StatusesApplied += uint64(len(r.Statuses))
	if m.strays != nil {
		m.straysStopped(r.Node, r.Statuses)
	}
}

// afterStatus flushes what a status changed.
func (m *Maintainer) afterStatus(_ int, oneShots []ops.Message) { m.flush(oneShots) }

// NodeAdded: node n is live. A booting maintainer asks it for a bootstrap answer and
// waits for it too; a running one asks it too, so it obeys this epoch, and places tasks on
// it once it answered.
func (m *Maintainer) NodeAdded(n ops.NodeID) {
	if m.addMember(n, m.booting) {
		m.askBootstrap(n)
		m.trace(Step{Action: StepNodeAdded, Node: n})
	}
}

// NodeRemoved: node n died. A booting maintainer stops waiting for it and forgets its
// answer; a running one tells the controller (its tasks without operator go Absent, its
// operators react).
func (m *Maintainer) NodeRemoved(n ops.NodeID) {
	if !m.dropMember(n) {
		return
	}
	if m.booting {
		if _, ok := m.answers[n]; ok {
			delete(m.writeAnswers(), n)
		}
		m.trace(Step{Action: StepNodeCrash, Node: n})
		return
	}
	m.writeCtrl().HandleNodeRemoved(n)
	m.placing = true
	m.flush(nil)
	m.straysGone(n)
	m.trace(Step{Action: StepNodeCrash, Node: n})
}

// DropTable applies DROP TABLE t (every task of t goes, a remove for each bound one). A
// booting maintainer replays it right after recovery (its commit came after the start
// checkpoint, so the snapshot's schema still has t).
func (m *Maintainer) DropTable(t ops.TableID) {
	if m.booting {
		m.appendLate(DDL{Drop: true, Table: t})
		return
	}
	m.dropTable(t)
}

func (m *Maintainer) dropTable(t ops.TableID) {
	m.removeTable(t)
	m.writeCtrl().HandleTableDropped(t)
	m.flush(nil)
	m.trace(Step{Action: StepDropTable, Table: t})
}

// CreateTable applies CREATE TABLE t: an Absent task id for its whole key range, to start
// at checkpoint (the DDL's commit). A booting maintainer replays it after recovery.
func (m *Maintainer) CreateTable(t ops.TableID, id ops.DispatcherID, checkpoint uint64) error {
	if m.booting {
		m.appendLate(DDL{Table: t, ID: id, Checkpoint: checkpoint})
		return nil
	}
	return m.createTable(t, id, checkpoint)
}

func (m *Maintainer) createTable(t ops.TableID, id ops.DispatcherID, checkpoint uint64) error {
	if m.hasTable(t) {
		return fmt.Errorf("maintainer: create table %d: %w", t, ErrTableExists)
	}
	if err := m.writeCtrl().AddTask(ops.Task{ID: id, Span: ops.Span{Table: t}, Sched: ops.Absent, Checkpoint: checkpoint}); err != nil {
		return fmt.Errorf("maintainer: create table %d: %w", t, err)
	}
	m.addTable(t)
	m.placing = true
	m.trace(Step{Action: StepCreateTable, ID: id, Table: t})
	return nil
}
