package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Run is one seeded random walk: the actions taken and the first violation, if any.
type Run struct {
	Seed      uint64
	Trace     []Action
	Violation error
}

// Walk takes up to steps random enabled actions from a fresh cluster of cfg, seeded by seed,
// checking the invariants after every step; it stops at the first violation or when
// nothing is enabled. Faults and scheduler operations are bounded by cfg.Limits.
func Walk(cfg Config, seed uint64, steps int) (Run, error) {
	c, err := NewCluster(cfg)
	if err != nil {
		return Run{}, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6f7066736d))
	run := Run{Seed: seed}
	for len(run.Trace) < steps {
		acts := c.Enabled()
		if len(acts) == 0 {
			break
		}
		a := acts[rng.IntN(len(acts))]
		if err := c.Apply(a); err != nil {
			return run, fmt.Errorf("sim: seed %d step %d %s: enabled action failed: %w", seed, len(run.Trace)+1, a, err)
		}
		run.Trace = append(run.Trace, a)
		if err := c.Check(); err != nil {
			run.Violation = err
			return run, nil
		}
	}
	return run, nil
}

// Timeline formats a run's trace one numbered step a line, for reports.
func (r Run) Timeline() string {
	var b strings.Builder
	for i, a := range r.Trace {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, a)
	}
	if r.Violation != nil {
		fmt.Fprintf(&b, "     %v\n", r.Violation)
	}
	return b.String()
}
