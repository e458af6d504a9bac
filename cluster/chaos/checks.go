package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/opfsm/opfsm/cluster/eventlog"
	"github.com/opfsm/opfsm/protocol"
)

// The checks a run makes while it runs and at its end.

// round reads every live node's state.
func (r *run) round(ctx context.Context) ([]protocol.BootstrapAnswer, error) {
	r.mu.Lock()
	nodes := slices.Clone(r.nodes)
	r.mu.Unlock()
	var out []protocol.BootstrapAnswer
	for _, p := range nodes {
		if !p.alive() {
			continue
		}
		s, err := nodeState(ctx, p)
		if err != nil {
			if p.alive() && ctx.Err() == nil {
				return nil, fmt.Errorf("node %s: %w", p.name, err)
			}
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// monitor checks, round after round, that no keys are served twice and that no span's
// checkpoint is behind the changefeed's.
func (r *run) monitor(ctx context.Context) {
	var prev []active
	for ctx.Err() == nil {
		stored, err := r.c.Checkpoint(ctx)
		r.mu.Lock()
		live := maps.Clone(r.live)
		r.mu.Unlock()
		states, rerr := r.round(ctx)
		if err != nil || rerr != nil {
			prev = nil
			_ = sleepUntil(ctx, time.Now().Add(100*time.Millisecond))
			continue
		}
		cur := activeOf(states)
		for _, v := range duplicates(prev, cur) {
			r.violate("%s", v)
		}
		for _, v := range behind(cur, live, stored) {
			r.violate("%s", v)
		}
		prev = cur
		r.mu.Lock()
		r.report.Rounds++
		r.mu.Unlock()
		_ = sleepUntil(ctx, time.Now().Add(50*time.Millisecond))
	}
}

func (r *run) violate(format string, args ...any) {
	v := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.found[v] {
		r.found[v] = true
		r.report.Violations = append(r.report.Violations, v)
		fmt.Fprintln(r.out, "VIOLATION:", v)
	}
}

func (r *run) awaitConvergence(ctx context.Context) error {
	start := time.Now()
	why := ""
	for time.Since(start) < r.o.Converge {
		_, st, ok := r.leader(ctx)
		states, err := r.round(ctx)
		switch {
		case !ok:
			why = "no maintainer is elected"
		case err != nil:
			why = err.Error()
		default:
			r.mu.Lock()
			live := maps.Clone(r.live)
			r.mu.Unlock()
			why = converged(st, states, live)
		}
		if why == "" {
			r.report.Converged, r.report.Convergence = true, time.Since(start)
			return nil
		}
		if err := sleepUntil(ctx, time.Now().Add(50*time.Millisecond)); err != nil {
			return err
		}
	}
	r.report.NotWhy = why
	fmt.Fprintf(r.out, "NOT CONVERGED after %s: %s\n", r.o.Converge, why)
	return nil
}

// audit merges the processes' event logs and checks them: logs that do not fit together,
// or that show a node answering a bootstrap without a merge it had journaled, are
// violations.
func (r *run) audit() {
	procs, err := eventlog.ReadDir(r.o.Logs)
	if err != nil {
		r.violate("event logs: %v", err)
		return
	}
	merged, err := eventlog.Merge(procs)
	if err != nil {
		r.violate("event logs do not fit together: %v", err)
		return
	}
	r.report.Events = len(merged.Events)
	for _, f := range eventlog.Audit(merged) {
		r.violate("%s", f)
	}
}
