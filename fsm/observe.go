package fsm

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Observers fans one transition out to several observers, in order; nil entries are skipped.
type Observers []Observer

// Observe calls every observer.
func (os Observers) Observe(t Transition) {
	for _, o := range os {
		if o != nil {
			o.Observe(t)
		}
	}
}

// ZapObserver logs every transition at level with structured fields (machine, id, from, to,
// trigger). It checks the level first, so a disabled logger costs one branch.
func ZapObserver(log *zap.Logger, level zapcore.Level) Observer {
	return ObserverFunc(func(t Transition) {
		if ce := log.Check(level, "fsm transition"); ce != nil {
			ce.Write(
				zap.String("machine", t.Def.Name()),
				zap.String("id", t.ID),
				zap.String("from", t.FromName()),
				zap.String("to", t.ToName()),
				zap.String("trigger", t.TriggerName()),
			)
		}
	})
}

// Recorder keeps every transition it observes, in order, as records. It is safe for
// concurrent use.
type Recorder struct {
	mu   sync.Mutex
	recs []TransitionRecord
}

// Observe appends t.
func (r *Recorder) Observe(t Transition) {
	rec := t.Record()
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

// Records returns a copy of what was recorded.
func (r *Recorder) Records() []TransitionRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TransitionRecord(nil), r.recs...)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.recs = r.recs[:0]
	r.mu.Unlock()
}

// Counter counts transitions per edge of the definitions it serves, with atomic counters and
// no allocation per transition: a metrics source for a maintainer's exporter.
type Counter struct {
	mu     sync.RWMutex
	counts map[*Definition][]atomic.Uint64
}

// NewCounter returns a Counter for defs; transitions of other definitions are not counted.
func NewCounter(defs ...*Definition) *Counter {
	c := &Counter{counts: make(map[*Definition][]atomic.Uint64, len(defs))}
	for _, d := range defs {
		c.counts[d] = make([]atomic.Uint64, len(d.states)*len(d.triggers))
	}
	return c
}

// Observe counts t.
func (c *Counter) Observe(t Transition) {
	c.mu.RLock()
	slots := c.counts[t.Def]
	c.mu.RUnlock()
	if slots != nil {
		slots[int(t.From)*len(t.Def.triggers)+int(t.Trigger)].Add(1)
	}
}

// Count returns how often from --t--> fired on def.
func (c *Counter) Count(def *Definition, from State, t Trigger) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	slots := c.counts[def]
	i := int(from)*len(def.triggers) + int(t)
	if slots == nil || i >= len(slots) {
		return 0
	}
	return slots[i].Load()
}

// Snapshot returns the non-zero counts keyed "machine: From --Trigger--> To", sorted keys
// being the caller's business.
func (c *Counter) Snapshot() map[string]uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]uint64)
	defs := make([]*Definition, 0, len(c.counts))
	for d := range c.counts {
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].name < defs[j].name })
	for _, d := range defs {
		for _, e := range d.edges {
			if n := c.counts[d][int(e.From)*len(d.triggers)+int(e.Trigger)].Load(); n > 0 {
				out[fmt.Sprintf("%s: %s --%s--> %s", d.name, d.states[e.From], d.triggers[e.Trigger], d.states[e.To])] = n
			}
		}
	}
	return out
}
