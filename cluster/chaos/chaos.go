package chaos

import (
	"context"
	"encoding/json"
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
	// Spec keeps the run inside the world of the TLA+ spec spec/failover, with every
	// process tracing its steps, so that `opfsm conform --logs` can check it
	// (docs/cluster.md, "Runs the spec can check"): one table, its halves preloaded on the
	// first node, only moves, splits and merges one at a time, only maintainer kills.
	Spec bool
}

// The clocks of a Spec run: ticks slower than the default 10ms, so that a run logs 20
// heartbeats a second per dispatcher instead of 100 (and resends after 500ms, not 100ms);
// merges 4s before their commit point, longer than a failover takes (1.2-2.2s), so that a
// maintainer killed as a merge starts leaves it uncommitted to the next one; a kill
// mid-merge waits up to specMergeWait for one to start (the one in flight may take 4s to
// end first).
const (
	specTick         = 50 * time.Millisecond
	specPrepareTicks = 80
	specMergeWait    = 10 * time.Second
)

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
	if o.Spec {
		if o.Tables > 1 {
			return fmt.Errorf("chaos: %w: the spec's world has one table, not %d", cluster.ErrBadOptions, o.Tables)
		}
		o.Tables, o.NoNodeRestart = 1, true
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
	// The nodes are started one after another, each registered before the next: every
	// node is registered before the first candidate starts, so that the first maintainer
	// bootstraps them all (with Spec, the preloaded halves of table 1 on n1 too).
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
	if r.o.Spec {
		fmt.Fprintln(r.out, "spec world: table 1 in halves a and b on n1; moves, splits and merges one at a time; maintainer kills only; every process traces its steps")
	}
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
	for k := 1; k < 6 && !r.o.Spec; k++ {
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
		"--events", r.o.Logs}
	if r.o.Spec {
		args = append(args, "--trace", "--tick", specTick.String(), "--prepare-ticks", strconv.Itoa(specPrepareTicks))
		if name == "n1" {
			args = append(args, "--preload", specPreload())
		}
	} else {
		args = append(args, "--prepare-ticks", "250")
	}
	if cluster.NodeBugNames[r.o.Bug] != nil {
		args = append(args, "--bug", r.o.Bug)
	}
	return args
}

// specPreload are the dispatchers n1 starts with in a Spec run, as --preload takes them:
// the halves of table 1, Working, "a" below cluster.SpecCut and "b" from it.
func specPreload() string {
	h := cluster.SpecHalves(1)
	b, _ := json.Marshal([]protocol.Dispatcher{{ID: "a", Span: h[0], State: ops.Working, Checkpoint: 1},
		{ID: "b", Span: h[1], State: ops.Working, Checkpoint: 1}}) // dispatchers always encode
	return string(b)
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
	if r.o.Spec {
		args = append(args, "--trace", "--spec-work", "--tick", specTick.String())
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

func (r *run) stopAll() {
	r.mu.Lock()
	all := append(slices.Clone(r.nodes), r.maintainers...)
	r.mu.Unlock()
	for _, p := range all {
		p.kill()
	}
}
