package operators

import "github.com/opfsm/opfsm/fsm"

// Operator is one in-flight operator: its machine state plus the parameters its type needs.
// It is small on purpose (a controller holds hundreds of thousands); type-specific slices
// live behind one pointer that add, remove and move never allocate.
type Operator struct {
	id         DispatcherID
	typ        Type
	state      fsm.State
	hook       RemoveHook
	span       Span
	origin     NodeID
	dest       NodeID
	checkpoint uint64
	extra      *extra // never changed once set: copies share it
	gen        uint64 // the generation of the controller that may change it (writeOp)
}

// extra holds the parameters of split and merge operators.
type extra struct {
	splitSpans   []Span
	splitTargets []NodeID
	sources      []DispatcherID
}

// ID returns the operator's dispatcher id.
func (o *Operator) ID() DispatcherID { return o.id }

// Type returns the operator's type.
func (o *Operator) Type() Type { return o.typ }

// State returns the operator's machine state.
func (o *Operator) State() fsm.State { return o.state }

// StateName returns the name of the operator's machine state.
func (o *Operator) StateName() string { return defs[o.typ].StateName(o.state) }

// Done reports whether the operator reached a terminal state.
func (o *Operator) Done() bool { return defs[o.typ].IsTerminal(o.state) }

// Record returns the operator's serialisable record for changefeed cf and maintainer epoch
// e: every operator of a controller carries its controller's epoch.
func (o *Operator) Record(cf ChangefeedID, e Epoch) Record {
	r := o.view(cf, e)
	if o.extra != nil {
		r.SplitSpans = append([]Span(nil), r.SplitSpans...)
		r.SplitTargets = append([]NodeID(nil), r.SplitTargets...)
		r.Sources = append([]DispatcherID(nil), r.Sources...)
	}
	return r
}

// view is Record without copying: its slices are o's own, for a reader that neither keeps
// nor changes them (EachOperator, EachPending).
func (o *Operator) view(cf ChangefeedID, e Epoch) Record {
	r := Record{
		Changefeed: cf, ID: o.id, Type: o.typ, State: o.state, Epoch: e, Span: o.span,
		Origin: o.origin, Dest: o.dest, Hook: o.hook, Checkpoint: o.checkpoint,
	}
	if o.extra != nil {
		r.SplitSpans, r.SplitTargets, r.Sources = o.extra.splitSpans, o.extra.splitTargets, o.extra.sources
	}
	return r
}

// fromRecord builds an operator in exactly the record's state; the record must be valid.
func fromRecord(r Record) (*Operator, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	o := &Operator{id: r.ID, typ: r.Type, state: r.State, hook: r.Hook, span: r.Span,
		origin: r.Origin, dest: r.Dest, checkpoint: r.Checkpoint}
	if len(r.SplitSpans) > 0 || len(r.Sources) > 0 {
		o.extra = &extra{
			splitSpans:   append([]Span(nil), r.SplitSpans...),
			splitTargets: append([]NodeID(nil), r.SplitTargets...),
			sources:      append([]DispatcherID(nil), r.Sources...),
		}
	}
	return o, nil
}

// noTrigger marks an event that means nothing to an operator.
const noTrigger = fsm.Trigger(255)
