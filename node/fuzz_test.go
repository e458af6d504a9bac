package node_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/opfsm/opfsm/fsm"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The fuzz alphabet: dispatcher ids, spans of tables 1 and 2 (halves, quarters, one across
// the halves, whole tables) and epochs 0..3.
var (
	fuzzIDs   = []ops.DispatcherID{"a", "b", "c", "m", "x"}
	fuzzSpans = []ops.Span{t1All, t1a, t1b, t1a1, t1a2, t1mid, t2All, t2a, t2b}
)

// Indexes into the alphabet, for the seed corpus.
const (
	iA, iB, iC, iM, iX                                 = 0, 1, 2, 3, 4
	sAll, sA, sB, sA1, sA2, sMid, s2All, s2A, s2B byte = 0, 1, 2, 3, 4, 5, 6, 7, 8
)

// The operations: each is one byte (its kind, modulo fopCount) followed by its parameters.
const (
	fopCreate    = iota // id, span, epoch, checkpoint
	fopRemove           // id, span, epoch, variant
	fopMerge            // id, span, epoch, 2 + n%2 sources, each an id
	fopBootstrap        // epoch
	fopInvalid          // kind, variant, id, span, epoch
	fopWorking          // id
	fopPrepared         // id
	fopClosed           // id, checkpoint
	fopAdvanced         // id, checkpoint
	fopCommit           // id
	fopAbort            // id
	fopCleanup          // id
	fopTick             //
	fopReady            // Ready, then Advance
	fopApply            // action kind (mod 7: 6 is unknown), id
	fopResend           // index into the accepted requests
	fopEnabled          // index into Enabled: take that step
	fopCount
)

const maxFuzzOps = 64

// fuzzRun decodes data into a sequence of operations on a node and checks the node's
// invariants after every one.
type fuzzRun struct {
	t    testing.TB
	data []byte
	pos  int
	n    *node.Node

	accepted []protocol.Request // requests Step accepted, for resends
	removes  []ops.Record       // records of accepted Removes
	merges   []ops.Record       // records of accepted Merges
	log      []string
	ok       [fopCount]int // operations that succeeded, by kind
	steps    [6]int        // local steps taken, by ActionKind
}

func (f *fuzzRun) next() byte {
	if f.pos >= len(f.data) {
		return 0
	}
	b := f.data[f.pos]
	f.pos++
	return b
}

func (f *fuzzRun) id() ops.DispatcherID { return fuzzIDs[int(f.next())%len(fuzzIDs)] }
func (f *fuzzRun) span() ops.Span       { return fuzzSpans[int(f.next())%len(fuzzSpans)] }

// epoch decodes an epoch: 0..3 as such, 4..7 (mod 8) the node's owner epoch, so that
// mutated inputs reach the fence's inside half the time.
func (f *fuzzRun) epoch() ops.Epoch {
	if b := f.next() % 8; b < 4 {
		return ops.Epoch(b)
	}
	return f.n.Owner()
}

func (f *fuzzRun) fail(format string, args ...any) {
	f.t.Helper()
	f.t.Fatalf("%s\nsteps:\n  %s", fmt.Sprintf(format, args...), strings.Join(f.log, "\n  "))
}

// padding are dispatchers of table 3, which the alphabet never names: with them a node
// has more than a slab scans, so it lists its dispatchers by table.
var padding = func() []protocol.Dispatcher {
	var ds []protocol.Dispatcher
	for i := range 16 {
		ds = append(ds, disp(ops.DispatcherID(fmt.Sprintf("p%02d", i)),
			ops.Span{Table: 3, Start: fmt.Sprintf("k%02d", i), End: fmt.Sprintf("k%02d", i+1)}, ops.Working, 1))
	}
	return ds
}()

func runFuzz(t testing.TB, data []byte) *fuzzRun {
	f := &fuzzRun{t: t, data: data}
	var layout []protocol.Dispatcher
	kind := f.next() % 5
	switch kind {
	case 1:
		layout = []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)}
	case 2:
		layout = []protocol.Dispatcher{disp("a", t1a1, ops.Working, 4), disp("b", t1a2, ops.Working, 6),
			disp("c", t1b, ops.Working, 2), disp("x", t2All, ops.Working, 9)}
	case 3, 4:
		layout = []protocol.Dispatcher{disp("a", t1a, ops.Working, 1), disp("b", t1b, ops.Working, 2),
			disp("c", t2a, ops.Working, 3), disp("x", t2b, ops.Working, 4)}
	}
	if kind == 4 { // a large node, which lists its dispatchers by table
		layout = append(layout, padding...)
	}
	f.n = newNode(t, 1, layout...)
	f.check(nil, nil, snap(f.n), 1)
	for i := 0; i < maxFuzzOps && f.pos < len(f.data); i++ {
		f.op()
	}
	return f
}

func (f *fuzzRun) op() {
	n := f.n
	before := snap(n)
	enabled := n.Enabled()
	owner := n.Owner()
	var (
		req *protocol.Request
		err error
	)
	kind := f.next() % fopCount
	switch kind {
	case fopCreate:
		r := createReq(f.id(), f.span(), f.epoch(), uint64(f.next()))
		req = &r
	case fopRemove:
		id, s, e := f.id(), f.span(), f.epoch()
		var r protocol.Request
		switch f.next() % 3 {
		case 0:
			r = removeReq(id, s, e)
		case 1:
			rec := removeRec(id, s, e)
			rec.Hook = ops.HookMarkAbsent
			r = request(protocol.Remove, rec)
		default:
			r = request(protocol.Remove, moveRec(id, s, e))
		}
		req = &r
	case fopMerge:
		id, s, e := f.id(), f.span(), f.epoch()
		srcs := make([]ops.DispatcherID, 2+f.next()%2)
		for i := range srcs {
			srcs[i] = f.id()
		}
		r := mergeReq(id, s, e, srcs...)
		req = &r
	case fopBootstrap:
		r := bootstrapReq(f.epoch())
		req = &r
	case fopInvalid:
		r := f.invalid()
		req = &r
	case fopWorking:
		err = n.Working(f.id())
	case fopPrepared:
		err = n.Prepared(f.id())
	case fopClosed:
		err = n.Closed(f.id(), uint64(f.next()))
	case fopAdvanced:
		id, c := f.id(), uint64(f.next())
		old, had := n.Dispatcher(id)
		err = n.Advanced(id, c)
		if had {
			d, _ := n.Dispatcher(id)
			if d.Checkpoint != max(old.Checkpoint, c) {
				f.fail("Advanced(%s, %d) from %d left %d", id, c, old.Checkpoint, d.Checkpoint)
			}
		}
	case fopCommit:
		err = n.CommitMerge(f.id())
	case fopAbort:
		err = n.AbortMerge(f.id())
	case fopCleanup:
		err = n.CleanupMergeJournal(f.id())
	case fopTick:
		n.Tick()
	case fopReady:
		f.ready()
	case fopApply:
		a := node.Action{Kind: node.ActionKind(f.next() % 7), ID: f.id()}
		err = n.Apply(a)
		if (err == nil) != slices.Contains(enabled, a) {
			f.fail("Apply(%v) returned %v, enabled %v", a, err, enabled)
		}
		f.log = append(f.log, fmt.Sprintf("Apply(%v) = %v", a, err))
	case fopEnabled:
		b := int(f.next())
		if len(enabled) > 0 {
			a := enabled[b%len(enabled)]
			err = n.Apply(a)
			if err != nil {
				f.fail("enabled %v failed: %v", a, err)
			}
			f.steps[a.Kind]++
			f.log = append(f.log, fmt.Sprintf("Apply(%v) = %v", a, err))
		}
	case fopResend:
		if len(f.accepted) > 0 {
			r := f.accepted[int(f.next())%len(f.accepted)]
			req = &r
		}
	}
	if req != nil {
		err = f.step(*req, before)
	} else if kind != fopApply && kind != fopEnabled {
		f.log = append(f.log, fmt.Sprintf("op %d = %v", kind, err))
	}
	if err != nil && !errors.Is(err, node.ErrNotEnabled) && req == nil {
		f.fail("local step failed with %v", err)
	}
	var de *fsm.DecodeError
	if kind == fopInvalid && !errors.As(err, &de) {
		f.fail("invalid request %+v: %v", *req, err)
	}
	if err == nil {
		f.ok[kind]++
	}
	f.check(req, err, before, owner)
}

// invalid returns a request Validate refuses: a valid one of some kind, broken.
func (f *fuzzRun) invalid() protocol.Request {
	kind := protocol.Kind(f.next() % 4)
	variant := f.next() % 6
	id, s, e := f.id(), f.span(), ops.Epoch(1+f.next()%3)
	var r protocol.Request
	switch kind {
	case protocol.Create:
		r = createReq(id, s, e, 0)
	case protocol.Remove:
		r = removeReq(id, s, e)
	case protocol.Merge:
		r = mergeReq(id, s, e, "a", "b")
	default:
		r = bootstrapReq(e)
	}
	switch variant {
	case 0: // the record's epoch differs from the envelope's
		r.Record.Epoch = e + 1
		if kind == protocol.Bootstrap {
			r.Record = addRec(id, s, e, 0)
		}
	case 1: // epoch 0
		r.Epoch, r.Record.Epoch = 0, 0
	case 2: // unknown kind
		r.Kind = protocol.Kind(4 + variant)
	case 3: // a record without its type's parameters, a bootstrap with a record
		r.Record.Dest, r.Record.Origin, r.Record.Sources = "", "", nil
		if kind == protocol.Bootstrap {
			r.Record.Changefeed = cf
		}
	case 4: // an empty span
		r.Record.Span = ops.Span{Table: 1, Start: "p", End: "f"}
		if kind == protocol.Bootstrap {
			r.Record.ID = id
		}
	default: // a record of another type than the request kind
		if kind == protocol.Merge {
			r.Record = addRec(id, s, e, 0)
		} else {
			r.Record = mergeRec(id, s, e, "a", "b")
		}
	}
	return r
}

func (f *fuzzRun) step(req protocol.Request, before state) error {
	n := f.n
	err := n.Step(req)
	f.log = append(f.log, fmt.Sprintf("Step(%s %s %s e%d %v) = %v", req.Kind, req.Record.ID, req.Record.Span, req.Epoch, req.Record.Sources, err))
	if err != nil {
		re, ok := err.(*node.RefusedError) // the error itself, not wrapped: Step's contract
		if !ok || re.Node != self || re.Kind != req.Kind || re.ID != req.Record.ID || re.Epoch != req.Epoch {
			f.fail("Step error %v is not the request's *RefusedError", err)
		}
		var de *fsm.DecodeError
		switch {
		case req.Changefeed != cf:
			if !errors.Is(err, node.ErrWrongChangefeed) {
				f.fail("wrong changefeed: %v", err)
			}
		case req.Validate() != nil:
			if !errors.As(err, &de) {
				f.fail("invalid request not a DecodeError: %v", err)
			}
		case errors.Is(err, node.ErrFenced):
			if req.Kind == protocol.Bootstrap && req.Epoch >= before.Owner || req.Kind != protocol.Bootstrap && req.Epoch == before.Owner {
				f.fail("fenced under owner %d: %v", before.Owner, err)
			}
		case errors.Is(err, node.ErrOverlap), errors.Is(err, node.ErrBadMerge):
		default:
			f.fail("unexpected refusal %v", err)
		}
		return err
	}
	if req.Validate() != nil || req.Kind != protocol.Bootstrap && req.Epoch != before.Owner || req.Kind == protocol.Bootstrap && req.Epoch < before.Owner {
		f.fail("accepted %s of epoch %d under owner %d (valid: %v)", req.Kind, req.Epoch, before.Owner, req.Validate())
	}
	f.accepted = append(f.accepted, req)
	switch req.Kind {
	case protocol.Remove:
		f.removes = append(f.removes, req.Record)
	case protocol.Merge:
		f.merges = append(f.merges, req.Record)
	case protocol.Bootstrap:
		if n.Owner() != req.Epoch {
			f.fail("bootstrap of %d left owner %d", req.Epoch, n.Owner())
		}
	}
	return nil
}

func journaled(rs []ops.Record, id ops.DispatcherID) *ops.Record {
	for i := range rs {
		if rs[i].ID == id {
			return &rs[i]
		}
	}
	return nil
}

// ready takes a Ready, checks it and advances.
func (f *fuzzRun) ready() {
	rd := f.n.Ready()
	var last ops.Epoch
	for i, r := range rd.Reports {
		if r.Changefeed != cf || r.Node != self || len(r.Statuses) == 0 || r.Validate() != nil {
			f.fail("bad report %+v", r)
		}
		if i > 0 && r.Epoch <= last {
			f.fail("reports not grouped by increasing epoch: %+v", rd.Reports)
		}
		last = r.Epoch
	}
	if len(rd.Reports) > 0 && last > f.n.Owner() {
		f.fail("a report of epoch %d beyond the owner %d", last, f.n.Owner())
	}
	for _, a := range rd.Answers {
		if a.Validate() != nil || a.Node != self || a.Changefeed != cf || a.Epoch > f.n.Owner() {
			f.fail("bad answer %+v", a)
		}
	}
	for _, e := range rd.Effects {
		if e.Kind > node.EffectAbortMerge || e.ID == "" {
			f.fail("bad effect %+v", e)
		}
	}
	f.n.Advance()
	f.log = append(f.log, "Ready+Advance")
	if f.n.HasReady() {
		f.fail("HasReady after Ready and Advance")
	}
}

// check asserts the invariants after an operation that returned err (req: the request it
// stepped, if any).
func (f *fuzzRun) check(req *protocol.Request, err error, before state, owner ops.Epoch) {
	n := f.n
	after := snap(n)

	// (d) a refused request or a step that was not enabled changed nothing.
	if err != nil && !reflect.DeepEqual(before, after) {
		f.fail("%v changed the node:\nbefore %+v\nafter  %+v", err, before, after)
	}

	// (e) the owner never decreases.
	if after.Owner < owner {
		f.fail("owner went from %d to %d", owner, after.Owner)
	}

	// (a) no two active dispatchers overlap; (b) no two that are not closing overlap, but a
	// journaled merged dispatcher before its commit and one of its waiting sources.
	{
		if o := activeOverlaps(n); len(o) > 0 {
			f.fail("active dispatchers overlap: %v\n%+v", o, after.Dispatchers)
		}
		ds := after.Dispatchers
		for i, x := range ds {
			for _, y := range ds[i+1:] {
				if x.Removing || y.Removing || !x.Span.Overlaps(y.Span) {
					continue
				}
				if !mergePair(after.Merges, x, y) && !mergePair(after.Merges, y, x) {
					f.fail("%+v and %+v overlap, neither closing\nmerges %+v", x, y, after.Merges)
				}
			}
		}
	}

	// (c) journal entries are records of accepted requests; the remove journal's
	// dispatchers exist and are closing.
	for _, r := range after.Removes {
		if !slices.ContainsFunc(f.removes, func(a ops.Record) bool { return reflect.DeepEqual(a, r) }) {
			f.fail("remove journal entry %+v was never accepted", r)
		}
		if d, ok := n.Dispatcher(r.ID); !ok || !d.Removing {
			f.fail("remove journal entry %s without a closing dispatcher (%+v)", r.ID, d)
		}
	}
	for _, r := range after.Merges {
		if !slices.ContainsFunc(f.merges, func(a ops.Record) bool { return reflect.DeepEqual(a, r) }) {
			f.fail("merge journal entry %+v was never accepted", r)
		}
	}

	// The accessors agree with each other.
	d, r, m := n.Len()
	if d != len(after.Dispatchers) || r != len(after.Removes) || m != len(after.Merges) {
		f.fail("Len %d %d %d for %d %d %d", d, r, m, len(after.Dispatchers), len(after.Removes), len(after.Merges))
	}
	if !slices.IsSortedFunc(after.Dispatchers, func(a, b protocol.Dispatcher) int { return strings.Compare(string(a.ID), string(b.ID)) }) {
		f.fail("dispatchers not sorted: %+v", after.Dispatchers)
	}
}

// mergePair: x is a journaled merged dispatcher before its commit and y one of its sources,
// waiting for it.
func mergePair(merges []ops.Record, x, y protocol.Dispatcher) bool {
	if x.State != ops.Preparing && x.State != ops.MergeReady || y.State != ops.WaitingMerge {
		return false
	}
	j := journaled(merges, x.ID)
	return j != nil && slices.Contains(j.Sources, y.ID)
}
