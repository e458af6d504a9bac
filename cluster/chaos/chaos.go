package chaos

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opfsm/opfsm/cluster"
	"github.com/opfsm/opfsm/cluster/coord"
	"github.com/opfsm/opfsm/cluster/eventlog"
	"github.com/opfsm/opfsm/internal/seeded"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Options configure a chaos run.
type Options struct {
	// Binary is the opfsm binary the processes run (its node and maintainer verbs).
	Binary string
	// Etcd are the endpoints of an existing etcd; empty: an embedded one in a temp dir.
	Etcd []string
	// Duration is how long the workload and the faults run (default 30s); Converge how
	// long the cluster then gets to converge (default 30s).
	Duration, Converge time.Duration
	// Kills is how many times the current maintainer is killed (default 5); every third
	// kill waits for a merge in flight, every third for a split.
	Kills int
	// Nodes is how many node processes run (default 3), Tables how many tables the
	// changefeed starts with (default 4).
	Nodes, Tables int
	// NodeRestart: kill one node halfway and start it again (default on; see NoNodeRestart).
	NoNodeRestart bool
	Seed          uint64
	// Bug is a seeded bug: a dispatcher-manager bug runs on the nodes, a recovery bug on
	// the maintainers.
	Bug string
	// Logs is where every process's logs go (default a new temp dir).
	Logs string
}

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

func (o *Options) normalize() error {
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Binary = exe
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Converge <= 0 {
		o.Converge = 30 * time.Second
	}
	if o.Kills < 0 || o.Nodes < 0 || o.Tables < 0 {
		return fmt.Errorf("chaos: %w: negative counts", cluster.ErrBadOptions)
	}
	if o.Kills == 0 {
		o.Kills = 5
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Tables == 0 {
		o.Tables = 4
	}
	if o.Bug != "" && cluster.NodeBugNames[o.Bug] == nil && !slices.Contains(seeded.RecoveryBugs, o.Bug) {
		return fmt.Errorf("chaos: %w: unknown seeded bug %q (node: %s; recovery: %s)", cluster.ErrBadOptions, o.Bug,
			strings.Join(slices.Sorted(maps.Keys(cluster.NodeBugNames)), ", "), strings.Join(seeded.RecoveryBugs, ", "))
	}
	return nil
}

// run is one chaos run in progress.
type run struct {
	o       Options
	out     io.Writer
	cf      ops.ChangefeedID
	etcd    []string
	c       *coord.Coord
	rng     *rand.Rand
	started time.Time
	until   time.Time

	mu          sync.Mutex
	nodes       []*proc
	maintainers []*proc
	live        map[ops.TableID]bool
	nextTable   ops.TableID
	nextCand    int
	report      Report
	found       map[string]bool
}

// Run starts an etcd (or uses o.Etcd), o.Nodes node processes and two maintainer
// candidates, drives the workload for o.Duration while it kills the maintainer o.Kills
// times (and one node once), then waits for the cluster to converge and checks it from the
// nodes' own state. Throughout, it checks that no keys are served twice and that no
// span's checkpoint falls behind the changefeed checkpoint. Progress goes to out. Every
// process it starts is killed, and the etcd data dir removed, before it returns; the logs
// stay in Report.Logs.
func Run(ctx context.Context, o Options, out io.Writer) (*Report, error) {
	r, err := withCluster(ctx, o, out, func(r *run) error {
		if err := r.play(ctx); err != nil {
			return err
		}
		r.stopAll() // every log complete before it is read
		r.audit()
		return nil
	})
	if r == nil {
		return nil, err
	}
	return &r.report, err
}

// Up starts what Run starts (the workload runs until ctx ends, without faults), prints
// every process's /metrics and /state address, and stops everything when ctx ends.
func Up(ctx context.Context, o Options, out io.Writer) error {
	_, err := withCluster(ctx, o, out, func(r *run) error {
		if err := r.startup(ctx); err != nil {
			return err
		}
		r.mu.Lock()
		for _, p := range append(slices.Clone(r.nodes), r.maintainers...) {
			fmt.Fprintf(out, "%-10s %-11s http://%s/metrics  http://%s/state\n", p.name, p.role, p.started.HTTP, p.started.HTTP)
		}
		r.mu.Unlock()
		fmt.Fprintln(out, "running; stop with Ctrl-C")
		<-ctx.Done()
		return nil
	})
	return err
}

// withCluster sets a run up (logs dir, etcd, client), runs body, and stops every
// process and the embedded etcd whatever body returns.
func withCluster(ctx context.Context, o Options, out io.Writer, body func(r *run) error) (*run, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	r := &run{o: o, out: out, rng: rand.New(rand.NewPCG(o.Seed, 0x0f5a)), live: map[ops.TableID]bool{}, found: map[string]bool{}}
	if o.Logs == "" {
		dir, err := os.MkdirTemp("", "opfsm-cluster-")
		if err != nil {
			return nil, err
		}
		r.o.Logs = dir
	} else if err := os.MkdirAll(o.Logs, 0o755); err != nil {
		return nil, err
	}
	r.report.Logs = r.o.Logs
	r.cf = ops.ChangefeedID("cf-" + strconv.FormatInt(time.Now().UnixNano(), 36))
	r.report.Changefeed = r.cf
	fmt.Fprintf(out, "logs in %s, changefeed %s\n", r.o.Logs, r.cf)
	r.etcd = o.Etcd
	if len(r.etcd) == 0 {
		dir, err := os.MkdirTemp("", "opfsm-etcd-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		elog, err := os.Create(filepath.Join(r.o.Logs, "etcd.log"))
		if err != nil {
			return nil, err
		}
		defer elog.Close()
		enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
		e, err := coord.StartEmbedded(dir, zap.New(zapcore.NewCore(enc, zapcore.AddSync(elog), zapcore.ErrorLevel)))
		if err != nil {
			return nil, err
		}
		defer e.Close()
		r.etcd = e.Endpoints()
		fmt.Fprintf(out, "embedded etcd at %s\n", strings.Join(r.etcd, ","))
	}
	cli, err := coord.Dial(r.etcd)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	r.c = coord.New(cli, r.cf)
	defer r.stopAll()
	return r, body(r)
}

// startup creates the tables and starts the nodes and two candidates.
func (r *run) startup(ctx context.Context) error {
	for t := 1; t <= r.o.Tables; t++ {
		if err := r.c.CreateTable(ctx, ops.TableID(t), 1); err != nil {
			return err
		}
		r.live[ops.TableID(t)] = true
	}
	r.nextTable = ops.TableID(r.o.Tables + 1)
	for i := 1; i <= r.o.Nodes; i++ {
		if err := r.startNode("n" + strconv.Itoa(i)); err != nil {
			return err
		}
	}
	for range 2 {
		if err := r.startCandidate(); err != nil {
			return err
		}
	}
	return nil
}

// play runs the workload and the faults for the run's duration, then waits for
// convergence.
func (r *run) play(ctx context.Context) error {
	r.started = time.Now()
	r.until = r.started.Add(r.o.Duration)
	if err := r.startup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "started %d nodes and 2 maintainer candidates; workload for %s\n", r.o.Nodes, r.o.Duration)
	mctx, stopMonitor := context.WithCancel(ctx)
	monitored := make(chan struct{})
	go func() { defer close(monitored); r.monitor(mctx) }()
	defer func() { stopMonitor(); <-monitored }()

	// The faults, spread over the run: kills at even intervals, a node restart halfway,
	// DDL every sixth of the run.
	type fault struct {
		at time.Duration
		do func() error
	}
	var faults []fault
	for k := 1; k <= r.o.Kills; k++ {
		mid := [...]string{"", "merge", "split"}[k%3]
		faults = append(faults, fault{r.o.Duration * time.Duration(k) / time.Duration(r.o.Kills+1), func() error { return r.killMaintainer(ctx, mid) }})
	}
	if !r.o.NoNodeRestart {
		faults = append(faults, fault{r.o.Duration / 2, func() error { return r.restartNode(ctx) }})
	}
	for k := 1; k < 6; k++ {
		// The third DDL drops the table of a merge in flight: the merge must abort.
		faults = append(faults, fault{r.o.Duration * time.Duration(k) / 6, func() error { return r.ddl(ctx, k == 3) }})
	}
	slices.SortStableFunc(faults, func(a, b fault) int { return int(a.at - b.at) })
	for _, f := range faults {
		if err := sleepUntil(ctx, r.started.Add(f.at)); err != nil {
			return err
		}
		if err := f.do(); err != nil {
			return err
		}
	}
	if err := sleepUntil(ctx, r.until); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "workload over after %s; waiting up to %s for convergence\n", time.Since(r.started).Round(time.Millisecond), r.o.Converge)
	return r.awaitConvergence(ctx)
}

func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(t)):
		return nil
	}
}

func (r *run) nodeArgs(name string) []string {
	args := []string{"node", "--name", name, "--changefeed", string(r.cf), "--etcd", strings.Join(r.etcd, ","),
		"--events", r.o.Logs, "--prepare-ticks", "250"}
	if cluster.NodeBugNames[r.o.Bug] != nil {
		args = append(args, "--bug", r.o.Bug)
	}
	return args
}

func (r *run) startNode(name string) error {
	p, err := spawn(r.o.Binary, r.o.Logs, name+"."+strconv.Itoa(len(r.nodes)), "node", r.nodeArgs(name)...)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.nodes = append(r.nodes, p)
	r.mu.Unlock()
	return nil
}

func (r *run) startCandidate() error {
	r.nextCand++
	name := "c" + strconv.Itoa(r.nextCand)
	args := []string{"maintainer", "--name", name, "--changefeed", string(r.cf), "--etcd", strings.Join(r.etcd, ","),
		"--events", r.o.Logs, "--work", "100ms", "--seed", strconv.FormatUint(r.o.Seed, 10)}
	if !r.until.IsZero() {
		args = append(args, "--work-until", r.until.Format(time.RFC3339Nano))
	}
	if r.o.Bug != "" && cluster.NodeBugNames[r.o.Bug] == nil {
		args = append(args, "--bug", r.o.Bug)
	}
	p, err := spawn(r.o.Binary, r.o.Logs, name, "maintainer", args...)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.maintainers = append(r.maintainers, p)
	r.mu.Unlock()
	return nil
}

// leader finds the elected candidate and its state.
func (r *run) leader(ctx context.Context) (*proc, cluster.MaintainerState, bool) {
	r.mu.Lock()
	ms := slices.Clone(r.maintainers)
	r.mu.Unlock()
	var best *proc
	var bestSt cluster.MaintainerState
	for _, p := range ms {
		if !p.alive() {
			continue
		}
		st, err := maintainerState(ctx, p)
		if err == nil && st.Elected && (best == nil || st.Epoch > bestSt.Epoch) {
			best, bestSt = p, st
		}
	}
	return best, bestSt, best != nil
}

// killMaintainer SIGKILLs the leader, if mid is set once an operator of that kind is in
// flight (waiting up to 5s), starts a new candidate, and waits for the next leader to
// recover.
func (r *run) killMaintainer(ctx context.Context, mid string) error {
	deadline := time.Now().Add(5 * time.Second)
	var p *proc
	var st cluster.MaintainerState
	for {
		var ok bool
		p, st, ok = r.leader(ctx)
		if ok && !st.Booting && (mid == "" || st.Operators[mid] > 0) {
			break
		}
		if time.Now().After(deadline) {
			if !ok {
				r.violate("no maintainer was elected within 5s before kill %d", len(r.report.Kills)+1)
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

func (r *run) stopAll() {
	r.mu.Lock()
	all := append(slices.Clone(r.nodes), r.maintainers...)
	r.mu.Unlock()
	for _, p := range all {
		p.kill()
	}
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
