package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
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
	return settle(c, run)
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
