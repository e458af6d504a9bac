package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opfsm/opfsm/cluster"
	ops "github.com/opfsm/opfsm/operators"
)

// The faults a run injects: maintainer kills, a node restart, DDL.

// killMaintainer SIGKILLs the leader, if mid is set once an operator of that kind is in
// flight (waiting up to 5s), starts a new candidate, and waits for the next leader to
// recover. With Spec, a kill mid-merge waits (up to specMergeWait) for a merge that starts
// while it waits: killed within milliseconds of the merge's start, the maintainer leaves
// it seconds before its commit point (specPrepareTicks) when the next one bootstraps,
// which a bug such as merge_journal_lost needs to show in the logs.
func (r *run) killMaintainer(ctx context.Context, mid string) error {
	wait, fresh := 5*time.Second, r.o.Spec && mid == "merge"
	var older map[string]bool // with fresh, the merges in flight when the wait began
	if fresh {
		wait = specMergeWait
	}
	deadline := time.Now().Add(wait)
	var p *proc
	var st cluster.MaintainerState
	for {
		var ok bool
		p, st, ok = r.leader(ctx)
		if ok && !st.Booting && (mid == "" || inFlight(st, mid, fresh, &older)) {
			break
		}
		if time.Now().After(deadline) {
			if !ok {
				r.violate("no maintainer was elected within %s before kill %d", wait, len(r.report.Kills)+1)
				return nil
			}
			mid = ""
			if !st.Booting {
				break
			}
		}
		if err := sleepUntil(ctx, time.Now().Add(5*time.Millisecond)); err != nil {
			return err
		}
	}
	p.kill()
	k := Kill{Epoch: ops.Epoch(st.Epoch), Mid: mid, InFlight: st.Operators}
	at := time.Now()
	if err := r.startCandidate(); err != nil {
		return err
	}
	for time.Since(at) < 20*time.Second {
		if _, nst, ok := r.leader(ctx); ok && nst.Epoch > st.Epoch && !nst.Booting {
			k.Failover = time.Since(at)
			break
		}
		if err := sleepUntil(ctx, time.Now().Add(10*time.Millisecond)); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.report.Kills = append(r.report.Kills, k)
	n := len(r.report.Kills)
	r.mu.Unlock()
	if k.Failover == 0 {
		r.violate("no maintainer recovered within 20s after kill %d (epoch %d)", n, k.Epoch)
	}
	fmt.Fprintf(r.out, "kill %d: maintainer %s epoch %d (in flight %v, waited for %q); next recovered after %s\n", n, p.name, k.Epoch,
		k.InFlight, mid, k.Failover.Round(time.Millisecond))
	return nil
}

// inFlight says whether st has an operator of kind in flight; with fresh, only one that
// started since the first state inFlight saw (*older holds those in flight then).
func inFlight(st cluster.MaintainerState, kind string, fresh bool, older *map[string]bool) bool {
	if !fresh {
		return st.Operators[kind] > 0
	}
	first := *older == nil
	if first {
		*older = map[string]bool{}
	}
	for _, op := range st.InFlight {
		switch {
		case op.Kind != kind:
		case first:
			(*older)[op.ID] = true
		case !(*older)[op.ID]:
			return true
		}
	}
	return false
}

// restartNode SIGKILLs one node and starts it again under the same name: a new incarnation
// with no dispatchers.
func (r *run) restartNode(ctx context.Context) error {
	r.mu.Lock()
	var live []*proc
	for _, p := range r.nodes {
		if p.alive() {
			live = append(live, p)
		}
	}
	r.mu.Unlock()
	if len(live) == 0 {
		return nil
	}
	p := live[r.rng.IntN(len(live))]
	p.kill()
	name := strings.SplitN(p.name, ".", 2)[0]
	fmt.Fprintf(r.out, "node %s (%s) killed; restarting it\n", name, p.started.ID)
	r.report.NodeRestarts++
	return r.startNode(name)
}

// mergingTable waits up to 5s for a merge in flight and returns its table.
func (r *run) mergingTable(ctx context.Context) (ops.TableID, bool) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, st, ok := r.leader(ctx); ok {
			for _, op := range st.InFlight {
				if op.Kind == "merge" {
					return ops.TableID(op.Table), true
				}
			}
		}
		if sleepUntil(ctx, time.Now().Add(5*time.Millisecond)) != nil {
			break
		}
	}
	return 0, false
}

// ddl creates a table and, when more than two are live, drops one: with midMerge, the
// table of a merge in flight if one shows within 5s.
func (r *run) ddl(ctx context.Context, midMerge bool) error {
	ckpt, err := r.c.Checkpoint(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	t := r.nextTable
	r.nextTable++
	r.mu.Unlock()
	if err := r.c.CreateTable(ctx, t, ckpt); err != nil {
		return err
	}
	what := fmt.Sprintf("created table %d", t)
	r.mu.Lock()
	r.live[t] = true
	tables := slices.Sorted(maps.Keys(r.live))
	r.mu.Unlock()
	r.report.DDL++
	if len(tables) > 2 {
		drop := tables[r.rng.IntN(len(tables)-1)] // never the one just created
		mm := ""
		if midMerge {
			if mt, ok := r.mergingTable(ctx); ok && mt != t {
				drop = mt
				mm = " mid-merge"
				r.report.DropsMidMerge++
			}
		}
		r.mu.Lock()
		delete(r.live, drop)
		r.mu.Unlock()
		if err := r.c.DropTable(ctx, drop); err != nil {
			return err
		}
		r.report.DDL++
		what = fmt.Sprintf("%s, dropped table %d%s", what, drop, mm)
	}
	fmt.Fprintln(r.out, what)
	return nil
}
