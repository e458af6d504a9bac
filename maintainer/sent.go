package maintainer

import ops "github.com/opfsm/opfsm/operators"

// sentScan is the number of entries from which a sentTable indexes them by a map.
const sentScan = 16

// sentTable holds, by operator id, what the maintainer last sent for that operator: in a
// short slice scanned by id while it holds fewer than sentScan entries, which a copy
// duplicates at the cost of its few entries (a model checker copies it with every
// maintainer state that sends or finishes something), and in a map from then on (a
// recovered maintainer of a large changefeed, with thousands of operators). The zero
// value is empty. A maintainer writes it only through setSent and deleteSent (cow.go).
type sentTable struct {
	small []sentEntry // in no order; nil once byID is used
	byID  map[ops.DispatcherID]sent
}

type sentEntry struct {
	id ops.DispatcherID
	s  sent
}

// get returns what was last sent for operator id.
func (t *sentTable) get(id ops.DispatcherID) (sent, bool) {
	if t.byID != nil {
		s, ok := t.byID[id]
		return s, ok
	}
	for _, e := range t.small {
		if e.id == id {
			return e.s, true
		}
	}
	return sent{}, false
}

// len is the number of operators with something sent.
func (t *sentTable) len() int {
	if t.byID != nil {
		return len(t.byID)
	}
	return len(t.small)
}

// set records s as what was last sent for operator id. t must be its writer's own.
func (t *sentTable) set(id ops.DispatcherID, s sent) {
	if t.byID != nil {
		t.byID[id] = s
		return
	}
	for i := range t.small {
		if t.small[i].id == id {
			t.small[i].s = s
			return
		}
	}
	if len(t.small) < sentScan-1 {
		t.small = append(t.small, sentEntry{id, s})
		return
	}
	t.byID = map[ops.DispatcherID]sent{}
	for _, e := range t.small {
		t.byID[e.id] = e.s
	}
	t.byID[id], t.small = s, nil
}

// del forgets operator id. t must be its writer's own.
func (t *sentTable) del(id ops.DispatcherID) {
	if t.byID != nil {
		delete(t.byID, id)
		return
	}
	for i := range t.small {
		if t.small[i].id == id {
			last := len(t.small) - 1
			t.small[i] = t.small[last]
			t.small[last] = sentEntry{}
			t.small = t.small[:last]
			return
		}
	}
}

// each calls fn for every entry, in no order.
func (t *sentTable) each(fn func(id ops.DispatcherID, s sent)) {
	if t.byID != nil {
		for id, s := range t.byID {
			fn(id, s)
		}
		return
	}
	for _, e := range t.small {
		fn(e.id, e.s)
	}
}

// clone returns a copy of t for its writer to change, without the entry of id (no id
// when it is ""): a maintainer forgetting an operator copies what it keeps only.
func (t *sentTable) clone(without ops.DispatcherID) sentTable {
	if t.byID != nil {
		m := make(map[ops.DispatcherID]sent, len(t.byID))
		for id, s := range t.byID {
			if id != without {
				m[id] = s
			}
		}
		return sentTable{byID: m}
	}
	var small []sentEntry
	for _, e := range t.small {
		if e.id != without {
			small = append(small, e)
		}
	}
	return sentTable{small: small}
}
