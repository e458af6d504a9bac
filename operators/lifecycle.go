package operators

import (
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/opfsm/opfsm/fsm"
)

// admit checks the common admission rules: a task exists in one of the wanted states and
// has no operator.
func (c *Controller) admit(typ Type, id DispatcherID, want ...Sched) (*Task, error) {
	if _, ok := c.ops[id]; ok {
		return nil, c.refused(typ, id, ErrOperatorExists)
	}
	t := c.tasks.get(id)
	if t == nil {
		return nil, c.refused(typ, id, ErrUnknownTask)
	}
	if !slices.Contains(want, t.Sched) {
		return nil, c.refused(typ, id, fmt.Errorf("%w: %s", ErrTaskState, t.Sched))
	}
	return t, nil
}

func (c *Controller) refused(typ Type, id DispatcherID, err error) error {
	e := refuse(typ, id, err)
	if c.cfg.Logger != nil {
		c.cfg.Logger.Info("operator refused", zap.String("type", typ.String()), zap.String("id", string(id)), zap.Error(err))
	}
	return e
}

func (c *Controller) start(o *Operator) {
	o.gen = c.gen.Load()
	c.ops[o.id] = o
	c.tasks.markOp(o.id, true)
	c.changed = append(c.changed, o.id)
	if c.cfg.Logger != nil {
		c.cfg.Logger.Debug("operator added", zap.String("type", o.typ.String()), zap.String("id", string(o.id)),
			zap.String("state", o.StateName()))
	}
}

// Restore inserts an operator exactly as a record describes it, for recovery after a
// failover: no Start effect is applied again, the tasks it needs must already be in the
// registry (recovery puts them there in the states it derived), and the operator is
// re-stamped with this controller's epoch so its resent requests pass the new fence. A
// terminal record is finished at once.
func (c *Controller) Restore(r Record) error {
	if r.Changefeed != c.cfg.Changefeed {
		return c.refused(r.Type, r.ID, fmt.Errorf("%w: %q (want %q)", ErrWrongChangefeed, r.Changefeed, c.cfg.Changefeed))
	}
	o, err := fromRecord(r)
	if err != nil {
		return c.refused(r.Type, r.ID, err)
	}
	if _, ok := c.ops[r.ID]; ok {
		return c.refused(r.Type, r.ID, ErrOperatorExists)
	}
	if c.tasks.get(r.ID) == nil && r.Type != TypeRemove {
		return c.refused(r.Type, r.ID, ErrUnknownTask)
	}
	c.start(o)
	if o.Done() {
		c.finish(o)
	}
	return nil
}

// fire fires t on o, applies the effect of the state it entered, and finishes o if that
// state is terminal. Events that mean nothing to o are not fired.
func (c *Controller) fire(o *Operator, t fsm.Trigger) {
	if t == noTrigger {
		return
	}
	if next, ok := defs[o.typ].Next(o.state, t); ok && next == o.state {
		return // ignored in this state (an origin still Working, say): nothing fires
	}
	o = c.writeOp(o)
	tr, err := defs[o.typ].Fire(&o.state, t, string(o.id), c.cfg.Observer)
	if err != nil {
		// Every trigger the mapping produces is permitted or ignored in every non-terminal
		// state (TestEveryTriggerHandled); a terminal operator is never kept.
		return
	}
	if tr.From == tr.To {
		return
	}
	c.changed = append(c.changed, o.id)
	kinds[o.typ].entered(c, o)
	if o.Done() {
		c.finish(o)
	}
}

// finish applies a terminal operator's PostFinish effect exactly once and deletes it.
func (c *Controller) finish(o *Operator) {
	if c.ops[o.id] != o {
		return // already finished or replaced
	}
	delete(c.ops, o.id)
	c.tasks.markOp(o.id, false)
	c.changed = append(c.changed, o.id)
	task := c.tasks.get(o.id) // valid until its task is deleted
	if task != nil {
		task.Checkpoint = max(task.Checkpoint, o.checkpoint) // the highest the operator heard of
	}
	kinds[o.typ].finish(c, o, task)
	if c.cfg.Logger != nil {
		c.cfg.Logger.Debug("operator finished", zap.String("type", o.typ.String()), zap.String("id", string(o.id)),
			zap.String("state", o.StateName()))
	}
}
