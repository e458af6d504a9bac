package sim

import (
	"maps"
	"slices"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Fingerprint is a canonical encoding of the cluster's whole observable state: every node's
// dispatchers, journals and owner epoch, the network, the maintainer (epoch, phase, pending
// bootstrap answers, tasks, operator records), the live tables, the spans standalone
// removes uncovered, and the fault and operation budgets used. Two clusters with equal
// fingerprints have the same enabled actions with the same outcomes, up to the
// controller's split-id counter, which only names the tasks a split creates. The
// exhaustive explorer keys states by it, so it must distinguish every two states whose
// abstract states (package conformance) differ. It is compact binary, not text: every
// field of every value is written (a test holds the encoders to that), strings with their
// length, so no two states share an encoding.
func (c *Cluster) Fingerprint() string {
	return string(c.AppendFingerprint(make([]byte, 0, 1024)))
}

// AppendFingerprint appends the cluster's Fingerprint to b and returns the extended
// buffer: a search that hashes fingerprints reuses one buffer instead of allocating a
// string per state. The encodings of node cores and of the maintainer are cached with
// them (a clone shares the bytes of the parts it shares), so, like Apply, it must not run
// concurrently with other uses of c. Each stream of the network carries its own encoding,
// written when the stream is (network.go).
func (c *Cluster) AppendFingerprint(b []byte) []byte {
	w := fpWriter{b: b}
	w.num(uint64(c.Epoch()))
	w.flag(c.Booting())
	w.num(uint64(c.loss))
	w.num(uint64(c.dup))
	w.num(uint64(c.crash))
	w.num(uint64(c.fail))
	w.num(uint64(c.opsLeft))
	w.num(uint64(len(c.tables)))
	for _, t := range c.tables {
		w.num(uint64(t))
	}
	dropped := make([]ops.TableID, 0, len(c.dropped))
	for t := range c.dropped {
		dropped = append(dropped, t)
	}
	slices.Sort(dropped)
	w.num(uint64(len(dropped)))
	for _, t := range dropped {
		w.num(uint64(t))
		w.num(uint64(c.dropped[t]))
	}
	w.num(uint64(len(c.late)))
	for _, a := range c.late {
		w.action(a)
	}
	var removed []ops.TableID
	if len(c.removed) > 0 {
		removed = slices.Sorted(maps.Keys(c.removed))
	}
	w.num(uint64(len(removed)))
	for _, t := range removed {
		w.num(uint64(t))
		w.num(uint64(len(c.removed[t])))
		for _, s := range c.removed[t] {
			w.span(s)
		}
	}
	for i, n := range c.cfg.Nodes {
		nd := c.nodes[i].core
		w.str(string(n))
		w.num(uint64(nd.Owner()))
		// A dead node's owner epoch stays part of the abstract state (the spec keeps
		// owner[n]), so it tells states apart here too; so does its kept bootstrap answer
		// (maintainerFingerprint).
		w.flag(c.alive[n])
		if c.alive[n] {
			c.nodeFingerprint(&w, i)
			for _, rq := range c.net.req {
				if rq.s.Node != n {
					continue
				}
				w.num(uint64(rq.s.Epoch) + 1) // 0 ends the streams
				w.b = append(w.b, rq.fp...)   // the queue's length and requests
			}
			w.num(0)
			if k, ok := c.net.findStatuses(n); ok {
				w.b = append(w.b, c.net.stq[k].fp...) // the queue's length and reports
			} else {
				w.num(0)
			}
		}
	}
	c.maintainerFingerprint(&w)
	return w.b
}

// nodeFingerprint writes the encoding of the dispatchers and journals of the core of
// cfg.Nodes[i], from the cache when the core did not change since it was written, else
// afresh, and then caches a copy of what it wrote. Filling the cache changes c: like
// Apply, it must not run concurrently with other uses of c.
func (c *Cluster) nodeFingerprint(w *fpWriter, i int) {
	if fp := c.nodes[i].fp; fp != nil {
		w.b = append(w.b, fp...)
		return
	}
	start := len(w.b)
	nd := c.nodes[i].core
	ds, removes, merges := nd.Len()
	w.num(uint64(ds))
	nd.EachDispatcherByID(func(d protocol.Dispatcher) { w.dispatcher(d) })
	w.num(uint64(removes))
	nd.EachRemove(func(r ops.Record) { w.record(r) })
	w.num(uint64(merges))
	nd.EachMerge(func(r ops.Record) { w.record(r) })
	c.nodes[i].fp = w.since(start)
}

// maintainerFingerprint writes the encoding of the maintainer's bootstrap answers,
// schema, the DDL it will replay and its registry, from the cache when the maintainer did
// not change since it was written (filling the cache changes c, as nodeFingerprint's
// does).
func (c *Cluster) maintainerFingerprint(w *fpWriter) {
	if c.fpM != nil {
		w.b = append(w.b, c.fpM...)
		return
	}
	start := len(w.b)
	c.answersFingerprint(w)
	tables := c.m.Tables()
	w.num(uint64(len(tables)))
	for _, t := range tables {
		w.num(uint64(t))
	}
	late := c.m.Deferred()
	w.num(uint64(len(late)))
	for _, d := range late {
		w.flag(d.Drop)
		w.num(uint64(d.Table))
		w.str(string(d.ID))
		w.num(d.Checkpoint)
	}
	ctrl := c.m.Controller()
	w.flag(ctrl == nil)
	if ctrl != nil {
		tasks := ctrl.Tasks()
		w.num(uint64(len(tasks)))
		for _, t := range tasks {
			w.task(t)
		}
		_, n := ctrl.Len()
		w.num(uint64(n))
		ctrl.EachOperator(func(r ops.Record) { w.record(r) }) // by id
	}
	c.fpM = w.since(start)
}

// answersFingerprint writes the encoding of the bootstrap answers the maintainer holds,
// kept for dead nodes too (the spec keeps resp[n]). A running maintainer never changes
// its answers (only a booting one takes or forgets them) and every new maintainer has a
// new epoch, so the encoding is cached with the epoch of the running maintainer it was
// written for (a booting maintainer of that epoch came before it, never after): the
// answers are most of the maintainer's encoding, and most changes to a running
// maintainer leave them alone.
func (c *Cluster) answersFingerprint(w *fpWriter) {
	if c.fpAns != nil && c.fpAnsEpoch == c.m.Epoch() {
		w.b = append(w.b, c.fpAns...)
		return
	}
	start := len(w.b)
	for _, n := range c.cfg.Nodes {
		r, ok := c.m.Answer(n)
		w.flag(ok)
		if ok {
			w.answer(r)
		}
	}
	if !c.m.Booting() {
		c.fpAns, c.fpAnsEpoch = w.since(start), c.m.Epoch()
	}
}

// fpWriter appends the fingerprint's encoding: numbers as uvarints, strings and lists
// with their lengths first.
type fpWriter struct{ b []byte }

// since is a copy, exactly as long, of what w wrote from offset start on: a part's cached
// encoding, written into the caller's buffer first so that it grows no slice of its own.
func (w *fpWriter) since(start int) []byte {
	return append(make([]byte, 0, len(w.b)-start), w.b[start:]...)
}

func (w *fpWriter) num(v uint64) {
	for v >= 0x80 {
		w.b = append(w.b, byte(v)|0x80)
		v >>= 7
	}
	w.b = append(w.b, byte(v))
}

func (w *fpWriter) flag(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *fpWriter) str(s string) {
	w.num(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *fpWriter) span(s ops.Span) {
	w.num(uint64(s.Table))
	w.str(s.Start)
	w.str(s.End)
}

func (w *fpWriter) ids(ids []ops.DispatcherID) {
	w.num(uint64(len(ids)))
	for _, id := range ids {
		w.str(string(id))
	}
}

func (w *fpWriter) dispatcher(d protocol.Dispatcher) {
	w.str(string(d.ID))
	w.span(d.Span)
	w.num(uint64(d.State))
	w.flag(d.Removing)
	w.num(d.Checkpoint)
}

func (w *fpWriter) record(r ops.Record) {
	w.str(string(r.Changefeed))
	w.str(string(r.ID))
	w.num(uint64(r.Type))
	w.num(uint64(r.State))
	w.num(uint64(r.Epoch))
	w.span(r.Span)
	w.str(string(r.Origin))
	w.str(string(r.Dest))
	w.num(uint64(len(r.SplitSpans)))
	for _, s := range r.SplitSpans {
		w.span(s)
	}
	w.num(uint64(len(r.SplitTargets)))
	for _, n := range r.SplitTargets {
		w.str(string(n))
	}
	w.ids(r.Sources)
	w.num(uint64(r.Hook))
	w.num(r.Checkpoint)
}

// records writes a journal (in id order).
func (w *fpWriter) records(j []ops.Record) {
	w.num(uint64(len(j)))
	for _, r := range j {
		w.record(r)
	}
}

func (w *fpWriter) request(r protocol.Request) {
	w.str(string(r.Changefeed))
	w.num(uint64(r.Epoch))
	w.num(uint64(r.Kind))
	w.record(r.Record)
}

func (w *fpWriter) report(r Report) {
	w.str(string(r.Status.ID))
	w.num(uint64(r.Status.State))
	w.num(r.Status.Checkpoint)
	w.num(uint64(r.Epoch))
}

func (w *fpWriter) answer(r protocol.BootstrapAnswer) {
	w.str(string(r.Node))
	w.str(string(r.Changefeed))
	w.num(uint64(r.Epoch))
	w.num(uint64(len(r.Dispatchers)))
	for _, d := range r.Dispatchers {
		w.dispatcher(d)
	}
	w.records(r.Removes)
	w.records(r.Merges)
}

func (w *fpWriter) task(t ops.Task) {
	w.str(string(t.ID))
	w.span(t.Span)
	w.num(uint64(t.Sched))
	w.str(string(t.Node))
	w.num(t.Checkpoint)
}

func (w *fpWriter) action(a Action) {
	w.str(a.Name)
	w.str(string(a.Node))
	w.num(uint64(a.Epoch))
	w.str(string(a.ID))
	w.ids(a.IDs)
	w.num(uint64(int64(a.Index)))
	w.num(uint64(a.Table))
	w.str(a.Key)
	w.str(a.DDL)
}
