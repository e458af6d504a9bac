package operators

// MessageKind is what a message asks a dispatcher manager to do.
type MessageKind uint8

// The request kinds a maintainer sends (domain.md 0).
const (
	Create MessageKind = iota
	Remove
	Merge
)

var kindNames = [...]string{"Create", "Remove", "Merge"}

// String returns the kind's name.
func (k MessageKind) String() string { return enumName(kindNames[:], k, "MessageKind") }

// ParseMessageKind maps a name back to its kind.
func ParseMessageKind(name string) (MessageKind, error) {
	return parseEnum[MessageKind](kindNames[:], name, "message kind", ErrUnknownMessageKind)
}

// Message is a request to one dispatcher manager. It carries the sending operator's whole
// record, which the dispatcher manager journals; an orphan cleanup has a remove record
// that no operator owns.
type Message struct {
	To     NodeID
	Kind   MessageKind
	Record Record
}

// AppendChanged appends to dst the ids of the operators started, moved to another state or
// finished since the last call, in the order that happened (an id may repeat), and forgets
// them. A maintainer driver compares each one's current request with what it last sent,
// so it sends exactly what is new without listing every operator (Pending) after every
// event.
func (c *Controller) AppendChanged(dst []DispatcherID) []DispatcherID {
	dst = append(dst, c.changed...)
	c.changed = c.changed[:0]
	return dst
}

// Request returns the request operator id wants delivered now, if it has one: what
// Pending lists for it.
func (c *Controller) Request(id DispatcherID) (Message, bool) {
	o, ok := c.ops[id]
	if !ok {
		return Message{}, false
	}
	to, kind, ok := kinds[o.typ].message(o)
	if !ok {
		return Message{}, false
	}
	return Message{To: to, Kind: kind, Record: o.Record(c.cfg.Changefeed, c.cfg.Epoch)}, true
}

// Pending returns the request every unfinished operator wants delivered now, ordered by
// operator id. The caller decides when to resend; the operators keep asking until they hear
// back.
func (c *Controller) Pending() []Message {
	sorted := c.sortedOps(nil)
	out := make([]Message, 0, len(sorted))
	for _, k := range sorted {
		if to, kind, ok := kinds[k.o.typ].message(k.o); ok {
			out = append(out, Message{To: to, Kind: kind, Record: k.o.Record(c.cfg.Changefeed, c.cfg.Epoch)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// EachPending calls fn with each request Pending lists, in its order, without copying the
// records: as in EachOperator, a record's slices are read only and valid while the
// controller does not change, and fn must not change the controller.
func (c *Controller) EachPending(fn func(msg Message)) {
	var buf [smallOps]keyedOp
	for _, k := range c.sortedOps(buf[:0]) {
		if to, kind, ok := kinds[k.o.typ].message(k.o); ok {
			fn(Message{To: to, Kind: kind, Record: k.o.view(c.cfg.Changefeed, c.cfg.Epoch)})
		}
	}
}
