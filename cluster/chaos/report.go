package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	ops "github.com/opfsm/opfsm/operators"
)

// The report: what a run saw, and its summary.

// Kill is one maintainer kill.
type Kill struct {
	Epoch ops.Epoch
	// Mid is the kind of operator the kill waited for ("merge", "split"), "" for none.
	Mid string
	// InFlight are the operators in flight by kind when it was killed.
	InFlight map[string]int
	// Failover is how long until the next maintainer had recovered (0: none did).
	Failover time.Duration
}

// Report is what a chaos run saw.
type Report struct {
	Logs         string
	Changefeed   ops.ChangefeedID
	Kills        []Kill
	NodeRestarts int
	DDL          int
	// DropsMidMerge counts tables dropped while a merge of theirs was in flight.
	DropsMidMerge int
	Rounds        int
	// Violations are what the checks found, each once, in the order found.
	Violations []string
	// Converged: the cluster converged after the workload; Convergence took that long.
	Converged   bool
	Convergence time.Duration
	NotWhy      string
	Events      int
}

// OK says whether the run passed: converged and nothing violated.
func (r *Report) OK() bool { return r.Converged && len(r.Violations) == 0 }

// Summary is the report in a few lines.
func (r *Report) Summary() string {
	var b strings.Builder
	var fails []time.Duration
	mids := map[string]int{}
	for _, k := range r.Kills {
		if k.Failover > 0 {
			fails = append(fails, k.Failover)
		}
		if k.Mid != "" {
			mids[k.Mid]++
		}
	}
	slices.Sort(fails)
	fmt.Fprintf(&b, "kills %d (mid-merge %d, mid-split %d), survived %d", len(r.Kills), mids["merge"], mids["split"], len(fails))
	if len(fails) > 0 {
		fmt.Fprintf(&b, "; failover median %s, max %s", fails[len(fails)/2].Round(time.Millisecond), fails[len(fails)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "\nnode restarts %d, DDL %d (drops mid-merge %d), check rounds %d, events logged %d\n", r.NodeRestarts, r.DDL,
		r.DropsMidMerge, r.Rounds, r.Events)
	if r.Converged {
		fmt.Fprintf(&b, "converged %s after the workload\n", r.Convergence.Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "NOT converged: %s\n", r.NotWhy)
	}
	fmt.Fprintf(&b, "violations %d", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  %s", v)
	}
	fmt.Fprintf(&b, "\nlogs in %s", r.Logs)
	return b.String()
}
