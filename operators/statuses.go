package operators

// Status is one dispatcher's state as its node reports it.
type Status struct {
	ID         DispatcherID
	State      ComponentState
	Checkpoint uint64
}

// HandleStatus feeds one status report from node from. A status for a dispatcher with an
// operator goes to that operator (merge sources to their occupy operators, the merged id to
// the merge). Without an operator the controller reconciles as domain.md 3.6 says, and
// returns the one-shot messages that needs (an orphan's Remove).
func (c *Controller) HandleStatus(from NodeID, s Status) []Message {
	if o, ok := c.ops[s.ID]; ok {
		c.statusForOp(o, from, s)
		return nil
	}
	return c.statusForTask(from, s, c.tasks.get(s.ID))
}

// hintedBatch is the smallest batch of statuses HandleStatuses keeps hints for: a
// heartbeat, not a status or two pushed when a dispatcher changed state.
const hintedBatch = 32

// HandleStatuses feeds statuses from node from, in order, exactly as HandleStatus one at a
// time would; after each status that changed an operator (AppendChanged has more to say)
// or asked for one-shot messages it calls after, if not nil, with the status's index and
// those messages. A heartbeat (a batch of hintedBatch statuses or more) finds its tasks
// by where the node's last heartbeat found them, checked against the ids, and by hash
// only where that misses: a million statuses that change nothing cost a few tens of
// milliseconds, where hashing each id costs several times that in cache misses.
func (c *Controller) HandleStatuses(from NodeID, ss []Status, after func(i int, msgs []Message)) {
	var hints []uint32
	if len(ss) >= hintedBatch {
		hints = c.hintsFor(from, len(ss))
	}
	for i, s := range ss {
		var slot uint32
		ok := false
		if hints != nil && hints[i] != 0 {
			// A hint names a slot this table used (slots are never given back), which
			// may hold another task by now.
			slot = hints[i] - 1
			ok = c.tasks.at(slot).ID == s.ID
		}
		if !ok {
			c.lookups++
			slot, ok = c.tasks.lookup(s.ID, c.tasks.hash(s.ID))
			if hints != nil {
				hints[i] = 0
				if ok {
					hints[i] = slot + 1
				}
			}
		}
		changed := len(c.changed)
		var msgs []Message
		var t *Task
		if ok {
			t = c.tasks.at(slot)
		}
		var o *Operator
		if t == nil || c.tasks.opAt(slot) {
			o = c.ops[s.ID] // a task without its mark has no operator: no lookup
		}
		if o != nil {
			c.statusForOp(o, from, s)
		} else {
			msgs = c.statusForTask(from, s, t)
		}
		if (len(c.changed) > changed || len(msgs) > 0) && after != nil {
			after(i, msgs)
		}
	}
}

// hintsFor returns node from's hints, grown to n positions.
func (c *Controller) hintsFor(from NodeID, n int) []uint32 {
	if c.hints == nil {
		c.hints = map[NodeID][]uint32{}
	}
	h := c.hints[from]
	h = append(h, make([]uint32, max(0, n-len(h)))...)
	c.hints[from] = h
	return h
}

// statusForOp: operator o checks a status (domain.md section 1, the Check rows).
func (c *Controller) statusForOp(o *Operator, from NodeID, s Status) {
	if s.Checkpoint > o.checkpoint {
		o = c.writeOp(o)
		o.checkpoint = s.Checkpoint // what a finished operator's task starts from
	}
	c.fire(o, kinds[o.typ].statusTrigger(o, from, s.State))
}

// statusForTask reconciles a status for a dispatcher no operator owns, with its task t
// (nil: none) as domain.md 3.6 says.
func (c *Controller) statusForTask(from NodeID, s Status, t *Task) []Message {
	if t == nil {
		if s.State == Working {
			// An orphan: no task, no operator. Remove it (domain.md 3.6, L4).
			return []Message{{To: from, Kind: Remove, Record: Record{Changefeed: c.cfg.Changefeed, ID: s.ID,
				Type: TypeRemove, State: RemoveRunning, Epoch: c.cfg.Epoch, Span: Span{}, Origin: from}}}
		}
		return nil
	}
	if t.Node != from {
		return nil // G1: a report from a node the task is not bound to
	}
	t.Checkpoint = max(t.Checkpoint, s.Checkpoint)
	if s.State.Terminal() {
		if c.coveredByMerged(t) {
			c.tasks.remove(t.ID) // a late merge source (C8)
		} else {
			t.Sched, t.Node = Absent, "" // the dispatcher stopped although the task wants it
		}
	}
	return nil
}

// coveredByMerged reports whether another Replicating task of the same table covers t.
func (c *Controller) coveredByMerged(t *Task) bool {
	covered := false
	c.tasks.each(func(o *Task) {
		covered = covered || o.ID != t.ID && o.Sched == Replicating && o.Span.Contains(t.Span)
	})
	return covered
}
