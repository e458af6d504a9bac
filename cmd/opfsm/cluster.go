package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/opfsm/opfsm/cluster"
	"github.com/opfsm/opfsm/cluster/chaos"
	"github.com/opfsm/opfsm/cluster/eventlog"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The cluster verbs: one node process, one maintainer candidate, and a whole cluster of
// them under chaos. A process prints one JSON line (its identity and addresses) on stdout
// once it serves; its protocol events go to --events DIR as JSON lines.

// openEvents opens dir/<name>-<pid>.jsonl, or nothing when dir is "".
func openEvents(dir, name string) (*cluster.Events, func(), error) {
	if dir == "" {
		return nil, func() {}, nil
	}
	ev, f, err := cluster.OpenEvents(dir, name+"-"+strconv.Itoa(os.Getpid()))
	if err != nil {
		return nil, nil, badInput("--events: %v", err)
	}
	return ev, func() { ev.Sync(); _ = f.Close() }, nil
}

func printStarted(stdout io.Writer) func(cluster.Started) {
	return func(s cluster.Started) {
		b, _ := json.Marshal(s)
		fmt.Fprintln(stdout, string(b))
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("node", stderr)
	name := fs.String("name", "", "the node's name (required)")
	cf := fs.String("changefeed", "cf", "the changefeed whose dispatchers it hosts")
	etcd := fs.String("etcd", "", "etcd endpoints, comma separated (required)")
	listen := fs.String("listen", "127.0.0.1:0", "gRPC address")
	web := fs.String("http", "127.0.0.1:0", "address of /metrics and /state")
	events := fs.String("events", "", "directory for the protocol event log (JSON lines)")
	prepare := fs.Int("prepare-ticks", 0, "ticks a merged dispatcher takes to prepare")
	bug := fs.String("bug", "", "seeded dispatcher-manager bug to switch on")
	tick := fs.Duration("tick", 10*time.Millisecond, "the node's clock: data plane steps and heartbeats")
	trace := fs.Bool("trace", false, "log every step of the core with its state (Step events), for `opfsm conform --logs`")
	preload := fs.String("preload", "", `dispatchers to run from the start, a JSON array as /state lists them `+
		`([{"id":"a","span":{"table":1,"start":"","end":"1"},"state":"Working","checkpoint":1}, ...])`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	var pre []protocol.Dispatcher
	if *preload != "" {
		if err := json.Unmarshal([]byte(*preload), &pre); err != nil {
			return badInput("--preload: %v", err)
		}
	}
	ev, closeEv, err := openEvents(*events, *name)
	if err != nil {
		return err
	}
	defer closeEv()
	o := cluster.NodeOptions{Name: *name, Changefeed: ops.ChangefeedID(*cf), Etcd: splitList(*etcd), Listen: *listen, HTTP: *web,
		Tick: *tick, PrepareTicks: *prepare, Trace: *trace, Preload: pre, Events: ev, Logger: stderrLogger(stderr), Started: printStarted(stdout)}
	if *bug != "" {
		o.Bugs = []string{*bug}
	}
	return clusterErr(cluster.RunNode(ctx, o))
}

func runMaintainer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("maintainer", stderr)
	name := fs.String("name", "", "the candidate's name (required)")
	cf := fs.String("changefeed", "cf", "the changefeed it maintains")
	etcd := fs.String("etcd", "", "etcd endpoints, comma separated (required)")
	web := fs.String("http", "127.0.0.1:0", "address of /metrics and /state")
	events := fs.String("events", "", "directory for the protocol event log (JSON lines)")
	work := fs.Duration("work", 0, "run the random workload (moves, splits, merges) this often; 0: none")
	until := fs.String("work-until", "", "stop the workload at this time (RFC 3339)")
	seed := fs.Uint64("seed", 1, "the workload's seed (mixed with the epoch)")
	bug := fs.String("bug", "", "seeded recovery bug to switch on")
	tick := fs.Duration("tick", 10*time.Millisecond, "the maintainer's clock: resends, bootstrap retries, placement")
	trace := fs.Bool("trace", false, "log every step of the maintainer with its state (Step events), for `opfsm conform --logs`")
	specWork := fs.Bool("spec-work", false, "keep the workload inside the spec's world: one move, split at \"1\" or merge at a time")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	o := cluster.MaintainerOptions{Name: *name, Changefeed: ops.ChangefeedID(*cf), Etcd: splitList(*etcd), HTTP: *web, Tick: *tick,
		Work: *work, Seed: *seed, SpecWork: *specWork, Trace: *trace, Bug: *bug, Logger: stderrLogger(stderr), Started: printStarted(stdout)}
	if *until != "" {
		t, err := time.Parse(time.RFC3339Nano, *until)
		if err != nil {
			return badInput("--work-until: %v", err)
		}
		o.WorkUntil = t
	}
	ev, closeEv, err := openEvents(*events, *name)
	if err != nil {
		return err
	}
	defer closeEv()
	o.Events = ev
	return clusterErr(cluster.RunMaintainer(ctx, o))
}

// clusterErr turns bad options into exit 2.
func clusterErr(err error) error {
	if errors.Is(err, cluster.ErrBadOptions) {
		return badInput("%v", err)
	}
	return err
}

// stderrLogger is a process's operational log: JSON lines on stderr, info and above.
func stderrLogger(stderr io.Writer) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(stderr), zapcore.InfoLevel))
}

func runCluster(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "logs" {
		return runClusterLogs(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "up" {
		return runClusterUp(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "chaos" {
		return badInput("usage: opfsm cluster up|chaos [flags] | opfsm cluster logs [--timeline] DIR")
	}
	fs := newFlags("cluster chaos", stderr)
	duration := fs.Duration("duration", 30*time.Second, "how long the workload and the faults run")
	converge := fs.Duration("converge", 30*time.Second, "how long the cluster then gets to converge")
	kills := fs.Int("kills", 5, "how many times the current maintainer is SIGKILLed")
	nodes := fs.Int("nodes", 3, "node processes")
	tables := fs.Int("tables", 4, "tables the changefeed starts with")
	seed := fs.Uint64("seed", 1, "seed of the faults and the workload")
	bug := fs.String("bug", "", "seeded bug: a dispatcher-manager bug runs on the nodes, a recovery bug on the maintainers")
	logs := fs.String("logs", "", "where every process's logs go (default: a new temp dir, printed)")
	etcd := fs.String("etcd", "", "endpoints of an existing etcd, comma separated (default: an embedded one)")
	spec := fs.Bool("spec", false, "keep the run inside the world of spec/failover, every process tracing its steps, "+
		"for `opfsm conform --logs` (docs/cluster.md)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *duration <= 0 || *converge <= 0 || *kills <= 0 || *nodes <= 0 || *tables <= 0 {
		return badInput("--duration, --converge, --kills, --nodes and --tables must be positive")
	}
	if *spec {
		if *tables != 1 && flagSet(fs, "tables") {
			return badInput("--spec runs the spec's world of one table: --tables %d contradicts it", *tables)
		}
		*tables = 1
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rep, err := chaos.Run(ctx, chaos.Options{Binary: exe, Etcd: splitList(*etcd), Duration: *duration, Converge: *converge, Kills: *kills,
		Nodes: *nodes, Tables: *tables, Seed: *seed, Bug: *bug, Logs: *logs, Spec: *spec}, stdout)
	if err != nil {
		return clusterErr(err)
	}
	fmt.Fprintln(stdout, rep.Summary())
	if !rep.OK() {
		return errViolated
	}
	return nil
}

// flagSet reports whether flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// runClusterLogs reads the event logs of one run, checks them against each other, merges
// them into one causal order and audits them: a bad log is exit 2 naming its file and
// line, a broken promise exit 1.
func runClusterLogs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cluster logs", stderr)
	timeline := fs.Bool("timeline", false, "print every event in the merged order")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return badInput("want one directory of *.jsonl event logs")
	}
	procs, err := eventlog.ReadDir(fs.Arg(0))
	if err != nil {
		return badInput("%v", err)
	}
	run, err := eventlog.Merge(procs)
	if err != nil {
		return badInput("%v", err)
	}
	if *timeline {
		for _, ev := range run.Events {
			fmt.Fprintf(stdout, "%s %-10s %-16s %s\n", ev.TS.Format("15:04:05.000000"), ev.Proc, ev.Action, eventFields(ev))
		}
	}
	fmt.Fprintf(stdout, "changefeed %s: %d processes, %d events merged in causal order; messages sent %d, received %d, lost %d\n",
		run.Changefeed, len(run.Processes), len(run.Events), run.Sent, run.Received, run.Lost)
	findings := eventlog.Audit(run)
	for _, f := range findings {
		fmt.Fprintln(stdout, "VIOLATION:", f)
	}
	if len(findings) > 0 {
		return errViolated
	}
	fmt.Fprintln(stdout, "every bootstrap answer carried its node's merge journal")
	return nil
}

// eventFields prints an event's fields in name order.
func eventFields(ev eventlog.Event) string {
	keys := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + string(ev.Fields[k]))
	}
	return b.String()
}

// runClusterUp starts a cluster (an embedded etcd unless --etcd, nodes, two candidates
// running the workload) and keeps it up until Ctrl-C, for people to watch its metrics
// and kill its processes by hand.
func runClusterUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cluster up", stderr)
	nodes := fs.Int("nodes", 3, "node processes")
	tables := fs.Int("tables", 4, "tables the changefeed starts with")
	logs := fs.String("logs", "", "where every process's logs go (default: a new temp dir, printed)")
	etcd := fs.String("etcd", "", "endpoints of an existing etcd, comma separated (default: an embedded one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	if *nodes <= 0 || *tables <= 0 {
		return badInput("--nodes and --tables must be positive")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return clusterErr(chaos.Up(ctx, chaos.Options{Binary: exe, Etcd: splitList(*etcd), Nodes: *nodes, Tables: *tables, Logs: *logs}, stdout))
}
