package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	ops "github.com/opfsm/opfsm/operators"
)

// Run is one seeded random walk: the random steps taken, the fair steps that followed
// once faults stopped, and the first violation, if any.
type Run struct {
	Seed      uint64
	Trace     []Action
	Settle    []Action
	Violation error
}

// SettleSteps bounds the fair phase that follows a walk's random steps.
const SettleSteps = 2000

// Walk takes up to steps random enabled actions from a fresh cluster of cfg, seeded by seed,
// checking the invariants after every step; it stops at the first violation or when
// nothing is enabled. Faults and scheduler operations are bounded by cfg.Limits. Then the
// faults stop and the cluster must settle (Settle): a walk that does not converge within
// SettleSteps fair steps is a Converge violation (L1-L5).
func Walk(cfg Config, seed uint64, steps int) (Run, error) {
	c, err := NewCluster(cfg)
	if err != nil {
		return Run{}, err
	}
	return walkOn(c, seed, steps)
}

// walkOn is Walk on an existing cluster.
func walkOn(c *Cluster, seed uint64, steps int) (Run, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6f7066736d))
	run := Run{Seed: seed}
	var acts []Action
	for len(run.Trace) < steps {
		acts = c.AppendEnabled(acts[:0])
		if len(acts) == 0 {
			break
		}
		a := pick(c.cfg, rng, acts)
		if err := c.Apply(a); err != nil {
			return run, fmt.Errorf("sim: seed %d step %d %s: enabled action failed: %w", seed, len(run.Trace)+1, a, err)
		}
		run.Trace = append(run.Trace, a)
		if err := c.Check(); err != nil {
			run.Violation = err
			return run, nil
		}
	}
	return settle(c, run)
}

// pick chooses a walk's next action from acts: uniformly, or with cfg.OpsByKind each
// operation kind as one choice beside every other action, then one operation of that kind.
func pick(cfg *Config, rng *rand.Rand, acts []Action) Action {
	if !cfg.OpsByKind {
		return acts[rng.IntN(len(acts))]
	}
	var kinds []string
	for _, a := range acts {
		if a.IsScheduler() && !slices.Contains(kinds, a.Name) {
			kinds = append(kinds, a.Name)
		}
	}
	other := func(a Action) bool { return !a.IsScheduler() }
	others := count(acts, other)
	r := rng.IntN(others + len(kinds))
	if r < others {
		return nth(acts, other, r)
	}
	ofKind := func(a Action) bool { return a.Name == kinds[r-others] }
	return nth(acts, ofKind, rng.IntN(count(acts, ofKind)))
}

// count is how many of acts keep accepts.
func count(acts []Action, keep func(Action) bool) int {
	n := 0
	for _, a := range acts {
		if keep(a) {
			n++
		}
	}
	return n
}

// nth is the i-th (from 0) of the acts keep accepts; i must be below their count.
func nth(acts []Action, keep func(Action) bool, i int) Action {
	for _, a := range acts {
		if keep(a) {
			if i == 0 {
				return a
			}
			i--
		}
	}
	return acts[len(acts)-1]
}

// settle runs the fair phase after a run's steps and records its outcome in the run.
func settle(c *Cluster, run Run) (Run, error) {
	tail, err := c.Settle(SettleSteps)
	run.Settle = tail
	var v *Violation
	if errors.As(err, &v) {
		run.Violation = err
		return run, nil
	}
	return run, err
}

// Timeline formats a run's trace one numbered step a line, for reports.
func (r Run) Timeline() string {
	var b strings.Builder
	for i, a := range r.Trace {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, a)
	}
	if len(r.Settle) > 0 {
		fmt.Fprintf(&b, "     then, faults stopped, %d fair steps:\n", len(r.Settle))
		const shown = 20
		for i, a := range r.Settle[:min(len(r.Settle), shown)] {
			fmt.Fprintf(&b, "%3d  %s\n", len(r.Trace)+i+1, a)
		}
		if len(r.Settle) > shown {
			fmt.Fprintf(&b, "     ... %d more\n", len(r.Settle)-shown)
		}
	}
	if r.Violation != nil {
		fmt.Fprintf(&b, "     %v\n", r.Violation)
	}
	return b.String()
}

// DefaultConfig is the built-in cluster: nodes A, B, C; table 100 as two spans on B and
// table 200 whole on C; one maintainer failover, one node crash, one lost and one
// duplicated request, and two scheduler operations per run. No merged dispatcher fails
// before its commit: that fault aborts merges early and makes the window of TiCDC 4763
// (a merge in flight at the failover) rarer; the deep campaign has it.
func DefaultConfig() Config {
	return Config{
		Changefeed: "cf",
		Nodes:      []ops.NodeID{"A", "B", "C"},
		Tables:     []ops.TableID{100, 200},
		Tasks: []ops.Task{
			{ID: "t100-a", Span: ops.Span{Table: 100, End: "m"}, Node: "B"},
			{ID: "t100-b", Span: ops.Span{Table: 100, Start: "m"}, Node: "B"},
			{ID: "t200", Span: ops.Span{Table: 200}, Node: "C"},
		},
		Limits: Limits{MaxEpoch: 2, MaxLoss: 1, MaxDup: 1, MaxCrash: 1, MaxOps: 2},
	}
}

// DeepLimits bound a deep walk: three maintainer failovers, two node crashes, three lost
// and three duplicated requests, one merged dispatcher failed before its commit, and six
// scheduler operations.
var DeepLimits = Limits{MaxEpoch: 4, MaxLoss: 3, MaxDup: 3, MaxCrash: 2, MaxFail: 1, MaxOps: 6}

// DeepConfig is the deep campaign's cluster: nodes A..E and tables 101..110, the odd ones
// as two spans on one node (merge candidates), the even ones whole, two tables a node;
// tables 111..113 may be created; every kind of scheduler operation (move, split, merge,
// drop, remove, create), chosen kind first (OpsByKind), within DeepLimits.
func DeepConfig() Config {
	cfg := Config{
		Changefeed: "cf",
		Nodes:      []ops.NodeID{"A", "B", "C", "D", "E"},
		NewTables:  []ops.TableID{111, 112, 113},
		OpKinds:    []string{"move", "split", "merge", "drop", "remove", "create"},
		OpsByKind:  true,
		Limits:     DeepLimits,
	}
	for i := range 10 {
		tb := ops.TableID(101 + i)
		n := cfg.Nodes[i%len(cfg.Nodes)]
		cfg.Tables = append(cfg.Tables, tb)
		id := NewTableTask(tb)
		if i%2 == 1 {
			cfg.Tasks = append(cfg.Tasks, ops.Task{ID: id, Span: ops.Span{Table: tb}, Node: n})
			continue
		}
		cfg.Tasks = append(cfg.Tasks,
			ops.Task{ID: id + "-a", Span: ops.Span{Table: tb, End: "m"}, Node: n},
			ops.Task{ID: id + "-b", Span: ops.Span{Table: tb, Start: "m"}, Node: n})
	}
	return cfg
}

// Campaign is a seeded fault campaign: Walks random walks of up to Steps steps each on
// fresh clusters of Config, walk i seeded by Seed+i.
type Campaign struct {
	Config Config
	Seed   uint64
	Walks  int
	Steps  int
	// Workers is how many walks run at once (0: runtime.GOMAXPROCS(0)). The summary is
	// the same for every number of workers: each walk's randomness comes from its own
	// seed, and the walks are summed in walk order.
	Workers int
}

// DefaultCampaign is 2,000 walks of up to 100 steps on DefaultConfig, from seed 1.
func DefaultCampaign() Campaign {
	return Campaign{Config: DefaultConfig(), Seed: 1, Walks: 2000, Steps: 100}
}

// DeepCampaign is 2,000 walks of up to 400 steps on DeepConfig, from seed 1.
func DeepCampaign() Campaign {
	return Campaign{Config: DeepConfig(), Seed: 1, Walks: 2000, Steps: 400}
}

// ErrBadCampaign: a campaign with a negative number of walks, steps or workers.
var ErrBadCampaign = errors.New("bad campaign")

// Summary is what a campaign found.
type Summary struct {
	Runs, Steps, Violations int
	// ByProperty counts the violating runs by the property they broke.
	ByProperty map[string]int
	// First is the first violating run (by seed), shrunk.
	First *Run
}

// PropertyCount is how many walks of a campaign broke one property.
type PropertyCount struct {
	Property string
	Walks    int
}

// Properties lists ByProperty, most walks first, then by name.
func (s Summary) Properties() []PropertyCount {
	out := make([]PropertyCount, 0, len(s.ByProperty))
	for p, n := range s.ByProperty {
		out = append(out, PropertyCount{Property: p, Walks: n})
	}
	slices.SortFunc(out, func(a, b PropertyCount) int {
		if a.Walks != b.Walks {
			return b.Walks - a.Walks
		}
		return strings.Compare(a.Property, b.Property)
	})
	return out
}

// walkResult is what the summary needs of one walk: the whole run only if it failed.
type walkResult struct {
	steps  int
	failed *Run
	err    error
}

// campaignBatch is how many walks a worker takes between two merges, per worker.
const campaignBatch = 64

// Run runs the campaign's walks on Workers goroutines and sums them up in walk order;
// progress, if not nil, is called (on the caller's goroutine) after each walk is summed.
// It stops at the first walk, in walk order, whose enabled action failed; the first
// violating walk is shrunk (Shrink) once all have run.
func (p Campaign) Run(progress func(done int, s Summary)) (Summary, error) {
	var s Summary
	if p.Walks < 0 || p.Steps < 0 || p.Workers < 0 {
		return s, fmt.Errorf("sim: %w: walks %d, steps %d, workers %d", ErrBadCampaign, p.Walks, p.Steps, p.Workers)
	}
	workers := p.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]walkResult, min(workers*campaignBatch, p.Walks))
	var first *Run
	for lo := 0; lo < p.Walks; lo += len(results) {
		batch := results[:min(len(results), p.Walks-lo)]
		p.walkBatch(lo, batch, workers)
		for i, r := range batch {
			if r.err != nil {
				return s, r.err
			}
			s.Runs++
			s.Steps += r.steps
			if r.failed != nil {
				s.Violations++
				var v *Violation
				if errors.As(r.failed.Violation, &v) {
					if s.ByProperty == nil {
						s.ByProperty = map[string]int{}
					}
					s.ByProperty[v.Property]++
				}
				if first == nil {
					first = r.failed
				}
			}
			batch[i] = walkResult{}
			if progress != nil {
				progress(lo+i+1, s)
			}
		}
	}
	if first != nil {
		shrunk := Shrink(p.Config, *first)
		s.First = &shrunk
	}
	return s, nil
}

// walkBatch runs walks lo..lo+len(out)-1 into out on up to workers goroutines.
func (p Campaign) walkBatch(lo int, out []walkResult, workers int) {
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(out) {
				return
			}
			run, err := Walk(p.Config, p.Seed+uint64(lo+i), p.Steps)
			out[i] = walkResult{steps: len(run.Trace), err: err}
			if run.Violation != nil {
				out[i].failed = &run
			}
		}
	}
	if workers == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range min(workers, len(out)) {
		wg.Go(work)
	}
	wg.Wait()
}
