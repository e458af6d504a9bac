package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/cluster/coord"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestNodeOptions proves a node process's defaults, that explicit options stay, and which
// options are bad.
func TestNodeOptions(t *testing.T) {
	base := func() NodeOptions { return NodeOptions{Name: "n1", Changefeed: cf, Etcd: []string{"127.0.0.1:1"}} }
	o := base()
	require.NoError(t, o.normalize())
	require.Equal(t, "127.0.0.1:0", o.Listen)
	require.Equal(t, "127.0.0.1:0", o.HTTP)
	require.Equal(t, 10*time.Millisecond, o.Tick)
	require.Equal(t, 2, o.LeaseTTL)
	require.NotNil(t, o.Logger)

	log := zap.NewExample()
	o = base()
	o.Listen, o.HTTP, o.Tick, o.LeaseTTL, o.Logger, o.Bugs = "127.0.0.1:7", "127.0.0.1:8", time.Millisecond, 1, log,
		[]string{"merge_journal_lost", "no_epoch_fence", "bootstrap_no_fence", "sweep_skips_precommit", "journal_missing_remove"}
	o.Trace, o.Preload = true, []protocol.Dispatcher{{ID: "a", Span: t1a, State: ops.Working, Checkpoint: 1}, {ID: "b", Span: t1b, State: ops.Working}}
	want := o
	require.NoError(t, o.normalize())
	require.Equal(t, want, o)

	o = base()
	o.Tick, o.LeaseTTL = -time.Second, -1
	require.NoError(t, o.normalize())
	require.Equal(t, 10*time.Millisecond, o.Tick)
	require.Equal(t, 2, o.LeaseTTL)
}

// TestMaintainerOptions proves a maintainer process's defaults and that explicit options
// stay.
func TestMaintainerOptions(t *testing.T) {
	base := func() MaintainerOptions {
		return MaintainerOptions{Name: "c1", Changefeed: cf, Etcd: []string{"127.0.0.1:1"}}
	}
	o := base()
	require.NoError(t, o.normalize())
	require.Equal(t, "127.0.0.1:0", o.HTTP)
	require.Equal(t, 10*time.Millisecond, o.Tick)
	require.Equal(t, 2, o.LeaseTTL)
	require.Equal(t, 2, o.MaxInFlight)
	require.NotNil(t, o.Logger)

	o = base()
	o.HTTP, o.Tick, o.LeaseTTL, o.MaxInFlight, o.Logger, o.Bug = "127.0.0.1:8", time.Millisecond, 1, 1, zap.NewExample(), "strays_unlisted"
	o.Trace, o.SpecWork = true, true
	want := o
	require.NoError(t, o.normalize())
	require.Equal(t, want, o)

	o = base()
	o.Tick, o.LeaseTTL, o.MaxInFlight = -time.Second, -1, -1
	require.NoError(t, o.normalize())
	require.Equal(t, 10*time.Millisecond, o.Tick)
	require.Equal(t, 2, o.LeaseTTL)
	require.Equal(t, 2, o.MaxInFlight)
}

// TestBadOptions proves that RunNode and RunMaintainer refuse options they cannot run
// with, with an error wrapping ErrBadOptions, before they start anything (the etcd
// endpoint given is never dialed, Started is never called).
func TestBadOptions(t *testing.T) {
	etcd := []string{"127.0.0.1:1"}
	started := func(s Started) { t.Errorf("started %+v", s) }
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{name: "node without a name", run: func() error {
			return RunNode(t.Context(), NodeOptions{Changefeed: cf, Etcd: etcd, Started: started})
		}, want: "node: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "node without a changefeed", run: func() error {
			return RunNode(t.Context(), NodeOptions{Name: "n1", Etcd: etcd, Started: started})
		}, want: "node: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "node without etcd", run: func() error {
			return RunNode(t.Context(), NodeOptions{Name: "n1", Changefeed: cf, Started: started})
		}, want: "node: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "node with an unknown bug", run: func() error {
			return RunNode(t.Context(), NodeOptions{Name: "n1", Changefeed: cf, Etcd: etcd, Bugs: []string{"merge_journal_lost", "nope"},
				Started: started})
		}, want: `node: bad options: unknown seeded bug "nope"`},
		{name: "node with an overlapping preload", run: func() error {
			return RunNode(t.Context(), NodeOptions{Name: "n1", Changefeed: cf, Etcd: etcd, Started: started,
				Preload: []protocol.Dispatcher{{ID: "a", Span: t1a, State: ops.Working}, {ID: "m", Span: t1All, State: ops.Working}}})
		}, want: `node: bad options: node n1: preload "m" 1[,): invalid dispatcher: span overlaps a dispatcher that is not closing`},
		{name: "maintainer without a name", run: func() error {
			return RunMaintainer(t.Context(), MaintainerOptions{Changefeed: cf, Etcd: etcd, Started: started})
		}, want: "maintainer: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "maintainer without a changefeed", run: func() error {
			return RunMaintainer(t.Context(), MaintainerOptions{Name: "c1", Etcd: etcd, Started: started})
		}, want: "maintainer: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "maintainer without etcd", run: func() error {
			return RunMaintainer(t.Context(), MaintainerOptions{Name: "c1", Changefeed: cf, Started: started})
		}, want: "maintainer: bad options: need a name, a changefeed and etcd endpoints"},
		{name: "maintainer with an unknown bug", run: func() error {
			return RunMaintainer(t.Context(), MaintainerOptions{Name: "c1", Changefeed: cf, Etcd: etcd, Bug: "merge_journal_lost",
				Started: started})
		}, want: `maintainer: bad options: unknown seeded recovery bug "merge_journal_lost"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.run()
			require.ErrorIs(t, err, ErrBadOptions)
			require.EqualError(t, err, tc.want)
			require.Less(t, time.Since(start), time.Second)
		})
	}
}

// process is a RunNode or RunMaintainer running in a goroutine of the test.
type process struct {
	name    string
	started Started
	addr    string // HTTP
	events  string // its event log
	elected chan ops.Epoch
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
}

// errNoReturn means a process that did not return within 10s of its context's end.
var errNoReturn = errors.New("did not return within 10s of its context's end")

// stop cancels the process and returns what its Run returned, or errNoReturn. It may be
// called again.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		select {
		case p.err = <-p.done:
		case <-time.After(10 * time.Second):
			p.err = fmt.Errorf("%s %w", p.name, errNoReturn)
		}
	})
	return p.err
}

// launch runs run(ctx, events, started) in a goroutine as process name, waits for it to
// serve, and stops it when the test ends.
func launch(t *testing.T, dir, name string, run func(ctx context.Context, ev *Events, started func(Started)) error) *process {
	t.Helper()
	ev, f, err := OpenEvents(dir, name)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{name: name, events: f.Name(), elected: make(chan ops.Epoch, 1), cancel: cancel, done: make(chan error, 1)}
	addrs := make(chan Started, 1)
	go func() { p.done <- run(ctx, ev, func(s Started) { addrs <- s }) }()
	t.Cleanup(func() {
		// Here only a process that does not return fails the test; what it returns is
		// for the test that stops it.
		if err := p.stop(t); errors.Is(err, errNoReturn) {
			t.Error(err)
		}
		ev.Sync()
		f.Close()
	})
	select {
	case s := <-addrs:
		p.started, p.addr = s, s.HTTP
	case err := <-p.done:
		p.once.Do(func() { p.err = err })
		require.FailNow(t, "process ended before it served", "%s: %v", name, err)
	case <-time.After(30 * time.Second):
		require.FailNow(t, "process did not serve", "%s within 30s", name)
	}
	return p
}

func startNode(t *testing.T, etcd []string, dir, name string) *process {
	t.Helper()
	return runNode(t, dir, NodeOptions{Name: name, Changefeed: cf, Etcd: etcd})
}

// runNode runs a node process with options o, its events in dir.
func runNode(t *testing.T, dir string, o NodeOptions) *process {
	t.Helper()
	return launch(t, dir, o.Name, func(ctx context.Context, ev *Events, started func(Started)) error {
		o.Events, o.Started = ev, started
		return RunNode(ctx, o)
	})
}

func startMaintainer(t *testing.T, etcd []string, dir, name string, o MaintainerOptions) *process {
	t.Helper()
	o.Name, o.Changefeed, o.Etcd = name, cf, etcd
	return runMaintainer(t, dir, o)
}

// runMaintainer runs a maintainer candidate with options o, its events in dir.
func runMaintainer(t *testing.T, dir string, o MaintainerOptions) *process {
	t.Helper()
	elected := make(chan ops.Epoch, 1)
	p := launch(t, dir, o.Name, func(ctx context.Context, ev *Events, started func(Started)) error {
		o.Events, o.Started = ev, started
		o.Elected = func(e ops.Epoch) { elected <- e }
		return RunMaintainer(ctx, o)
	})
	p.elected = elected
	return p
}

// epoch waits for p to be elected and returns its epoch.
func (p *process) epoch(t *testing.T) ops.Epoch {
	t.Helper()
	select {
	case e := <-p.elected:
		p.elected <- e
		return e
	case <-time.After(30 * time.Second):
		require.FailNow(t, "not elected", "%s within 30s", p.name)
	}
	return 0
}

// getState decodes p's /state into v.
func getState(p *process, v any) error {
	resp, err := http.Get("http://" + p.addr + "/state")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/state: %s", p.name, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// poll calls check every 20ms until it returns nil, failing the test with its last error
// after d.
func poll(t *testing.T, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out", "after %s: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// view is one read of a maintainer's and its nodes' /state.
type view struct {
	lead  MaintainerState
	nodes []protocol.BootstrapAnswer
}

// settled reads lead and nodes and says why they have not settled under epoch: the leader
// runs epoch with no operator and every task Replicating; every node obeys epoch, journals
// nothing, and runs only Working dispatchers that tile the tables once, one per task, on
// the task's node.
func settled(lead *process, nodes []*process, epoch ops.Epoch, tables ...ops.TableID) (view, error) {
	var v view
	if err := getState(lead, &v.lead); err != nil {
		return v, err
	}
	switch {
	case !v.lead.Elected || v.lead.Booting || v.lead.Epoch != uint64(epoch):
		return v, fmt.Errorf("the maintainer is not running epoch %d: %+v", epoch, v.lead)
	case len(v.lead.InFlight) > 0:
		return v, fmt.Errorf("operators in flight: %+v", v.lead.InFlight)
	}
	where := map[string]string{}
	for _, x := range v.lead.Tasks {
		if x.Sched != "Replicating" {
			return v, fmt.Errorf("task %s is %s", x.ID, x.Sched)
		}
		where[x.ID] = x.Node
	}
	spans := map[ops.TableID][]ops.Span{}
	count := 0
	for _, n := range nodes {
		var a protocol.BootstrapAnswer
		if err := getState(n, &a); err != nil {
			return v, err
		}
		v.nodes = append(v.nodes, a)
		if a.Epoch != epoch || len(a.Removes)+len(a.Merges) > 0 {
			return v, fmt.Errorf("node %s: epoch %d, %d removes and %d merges journaled", a.Node, a.Epoch, len(a.Removes), len(a.Merges))
		}
		for _, d := range a.Dispatchers {
			if d.State != ops.Working || d.Removing || where[string(d.ID)] != string(a.Node) {
				return v, fmt.Errorf("dispatcher %s on %s: %s closing %v, its task on %q", d.ID, a.Node, d.State, d.Removing, where[string(d.ID)])
			}
			spans[d.Span.Table] = append(spans[d.Span.Table], d.Span)
			count++
		}
	}
	if count != len(v.lead.Tasks) {
		return v, fmt.Errorf("%d tasks, %d dispatchers", len(v.lead.Tasks), count)
	}
	if len(spans) != len(tables) {
		return v, fmt.Errorf("dispatchers of %d tables, want %d", len(spans), len(tables))
	}
	for _, tb := range tables {
		s := spans[tb]
		slices.SortFunc(s, ops.CompareSpans)
		if err := ops.Tiles(ops.Span{Table: tb}, s); err != nil {
			return v, fmt.Errorf("table %d: %w", tb, err)
		}
	}
	return v, nil
}

// working is the number of Working dispatchers of a view's nodes, and the lowest
// checkpoint among them.
func (v view) working() (n int, lowest uint64) {
	lowest = ^uint64(0)
	for _, a := range v.nodes {
		for _, d := range a.Dispatchers {
			n++
			lowest = min(lowest, d.Checkpoint)
		}
	}
	return n, lowest
}

// readEvents returns the names of the complete events in an event log; a log its process
// is still writing may end inside a line, which is left out.
func readEvents(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return eventNames(t, b[:bytes.LastIndexByte(b, '\n')+1])
}

// scheduled counts the operations a maintainer's workload started, by kind.
func scheduled(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]int{}
	for _, v := range lines(t, b) {
		if v["event"] != "Schedule" {
			continue
		}
		kind, _, _ := strings.Cut(v["what"].(string), " ")
		if v["error"] != nil {
			kind += " refused"
		}
		out[kind]++
	}
	return out
}

// TestCluster runs a cluster in this process: an embedded etcd, two node processes and
// two maintainer candidates over gRPC, with tables created before and while the cluster
// runs and a node joining a running maintainer. It proves that the elected maintainer
// places every table once on Working dispatchers, stores a changefeed checkpoint no higher
// than any span's, and exports metrics that say so; that a second candidate takes over
// when the first stops, recovers what the nodes run, runs its workload of moves, splits
// and merges and settles again; that it follows a node leaving and a table dropped; and
// that every process, a candidate that is campaigning too, returns nil when its context
// ends.
func TestCluster(t *testing.T) {
	dir := t.TempDir()
	e, err := coord.StartEmbedded(filepath.Join(dir, "etcd"), zap.NewNop())
	require.NoError(t, err)
	t.Cleanup(e.Close)
	etcd := e.Endpoints()
	cli, err := coord.Dial(etcd)
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	c := coord.New(cli, cf)
	ctx := t.Context()
	require.NoError(t, c.CreateTable(ctx, 1, 1))
	require.NoError(t, c.CreateTable(ctx, 2, 1))

	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.Mkdir(logs, 0o755))
	n1 := startNode(t, etcd, logs, "n1")
	c1 := startMaintainer(t, etcd, logs, "c1", MaintainerOptions{})
	e1 := c1.epoch(t)
	n2 := startNode(t, etcd, logs, "n2") // joins the running maintainer
	// A table created while the maintainer runs starts at its own checkpoint, far above
	// the others'.
	const high = 1_000_000
	require.NoError(t, c.CreateTable(ctx, 3, high))
	nodes := []*process{n1, n2}

	var v view
	poll(t, 30*time.Second, func() (err error) {
		v, err = settled(c1, nodes, e1, 1, 2, 3)
		return err
	})
	require.Len(t, v.lead.Tasks, 3)
	i := slices.IndexFunc(v.lead.Tasks, func(x TaskState) bool { return x.ID == "t3" })
	require.GreaterOrEqual(t, i, 0, "the task of table 3 is named after it")
	require.Equal(t, TaskState{ID: "t3", Table: 3, Sched: "Replicating", Node: v.lead.Tasks[i].Node}, v.lead.Tasks[i])

	// The metrics say what the states say.
	poll(t, 5*time.Second, func() error {
		m := scrape(t, "http://"+c1.addr+"/metrics")
		if got := m.sum(t, "opfsm_tasks", "state", "Replicating"); got != 3 {
			return fmt.Errorf("%v tasks Replicating", got)
		}
		return nil
	})
	m := scrape(t, "http://"+c1.addr+"/metrics")
	require.Equal(t, 0.0, m.sum(t, "opfsm_maintainer_booting"))
	require.Equal(t, float64(e1), m.sum(t, "opfsm_maintainer_epoch"))
	require.Equal(t, 1.0, m.sum(t, "opfsm_recoveries_total"))
	require.Equal(t, 3.0, m.sum(t, "opfsm_tasks", "state", "Replicating"))
	require.Equal(t, 3.0, m.sum(t, "opfsm_tasks"))
	require.Equal(t, 0.0, m.sum(t, "opfsm_operators"))
	require.Equal(t, 0.0, m.sum(t, "opfsm_maintainer_schedule_refused_total"))
	working := 0.0
	for _, n := range nodes {
		poll(t, 5*time.Second, func() error {
			if got := scrape(t, "http://"+n.addr+"/metrics").sum(t, "opfsm_node_owner_epoch"); got != float64(e1) {
				return fmt.Errorf("%s obeys %v", n.name, got)
			}
			return nil
		})
		nm := scrape(t, "http://"+n.addr+"/metrics")
		require.Equal(t, float64(e1), nm.sum(t, "opfsm_node_owner_epoch"))
		require.Equal(t, 0.0, nm.sum(t, "opfsm_node_dispatchers", "state", "closing"))
		require.Equal(t, 0.0, nm.sum(t, "opfsm_node_remove_journal_entries"))
		require.Equal(t, 0.0, nm.sum(t, "opfsm_node_merge_journal_entries"))
		require.Equal(t, 0.0, nm.sum(t, "opfsm_node_requests_refused_total"))
		if w := nm.sum(t, "opfsm_node_dispatchers", "state", "Working"); w > 0 {
			require.Positive(t, nm.sum(t, "opfsm_node_statuses_total", "outcome", "sent"), "%s reports its %v dispatchers", n.name, w)
			working += w
		}
	}
	require.Equal(t, 3.0, working)

	// The changefeed checkpoint advances once every table runs, and never past a span's:
	// it is the lowest task checkpoint, far below table 3's.
	before, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	var stored uint64
	poll(t, 10*time.Second, func() (err error) {
		if stored, err = c.Checkpoint(ctx); err != nil || stored == before {
			return fmt.Errorf("the checkpoint stays at %d (%v)", stored, err)
		}
		return nil
	})
	// Read after the checkpoint: no span is behind it. The maintainer records what it
	// stored only once etcd has answered, so its own view may lag the store briefly.
	poll(t, 5*time.Second, func() (err error) {
		if v, err = settled(c1, nodes, e1, 1, 2, 3); err != nil {
			return err
		}
		if v.lead.Checkpoint < stored {
			return fmt.Errorf("the maintainer records checkpoint %d, etcd holds %d", v.lead.Checkpoint, stored)
		}
		return nil
	})
	_, lowest := v.working()
	require.Positive(t, stored)
	require.Less(t, stored, uint64(high))
	require.GreaterOrEqual(t, lowest, stored)
	require.GreaterOrEqual(t, v.lead.Checkpoint, stored)

	// Failover: a second candidate with a workload takes over when the first stops.
	c2 := startMaintainer(t, etcd, logs, "c2", MaintainerOptions{Work: 10 * time.Millisecond,
		WorkUntil: time.Now().Add(time.Second), Seed: 1, MaxInFlight: 4})
	var st MaintainerState
	require.NoError(t, getState(c2, &st))
	require.Equal(t, MaintainerState{Name: "c2"}, st, "a candidate that is not elected")
	c3 := startMaintainer(t, etcd, logs, "c3", MaintainerOptions{})
	require.NoError(t, c3.stop(t), "a candidate stopped while it campaigns")
	require.Equal(t, []string{"CandidateStarted"}, readEvents(t, c3.events))
	require.NoError(t, c1.stop(t))
	e2 := c2.epoch(t)
	require.Greater(t, e2, e1)
	poll(t, 30*time.Second, func() error {
		if !slices.Contains(readEvents(t, c2.events), "WorkloadDone") {
			return errors.New("the workload runs")
		}
		v, err = settled(c2, nodes, e2, 1, 2, 3)
		return err
	})
	stored2, err := c.Checkpoint(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, stored2, stored, "the changefeed checkpoint never goes backwards")
	_, lowest = v.working()
	require.GreaterOrEqual(t, lowest, stored)

	events := readEvents(t, c2.events)
	done := scheduled(t, c2.events)
	for _, kind := range []string{"move", "split", "merge"} {
		require.Positive(t, done[kind], "the workload's %ss: %v", kind, done)
	}
	for _, want := range []string{"CandidateStarted", "Elected", "Bootstrap", "MaintainerAnswer", "Recover", "Schedule", "MaintainerStatus"} {
		require.Contains(t, events, want)
	}
	require.Equal(t, "CandidateStarted", events[0])
	events = readEvents(t, c1.events)
	for _, want := range []string{"CandidateStarted", "Elected", "Bootstrap", "Recover", "NodeAdded", "CreateTable", "Checkpoint"} {
		require.Contains(t, events, want)
	}
	events = readEvents(t, n2.events)
	for _, want := range []string{"NodeStarted", "DMDeliver", "DMAnswer", "DMEffect", "DMSend"} {
		require.Contains(t, events, want)
	}

	m = scrape(t, "http://"+c2.addr+"/metrics")
	require.Equal(t, 0.0, m.sum(t, "opfsm_maintainer_booting"))
	require.Equal(t, float64(e2), m.sum(t, "opfsm_maintainer_epoch"))
	require.Equal(t, 1.0, m.sum(t, "opfsm_recoveries_total"))
	require.Equal(t, float64(len(v.lead.Tasks)), m.sum(t, "opfsm_tasks", "state", "Replicating"))
	require.Equal(t, float64(len(v.lead.Tasks)), m.sum(t, "opfsm_tasks"))
	require.Positive(t, m.sum(t, "opfsm_fsm_transitions_total"), "the workload's operators ran")
	working = 0
	for _, n := range nodes {
		working += scrape(t, "http://"+n.addr+"/metrics").sum(t, "opfsm_node_dispatchers", "state", "Working")
	}
	require.Equal(t, float64(len(v.lead.Tasks)), working)

	// A node that leaves has its tasks placed elsewhere; a dropped table's go.
	require.NoError(t, n2.stop(t))
	require.NoError(t, c.DropTable(ctx, 2))
	poll(t, 30*time.Second, func() (err error) {
		v, err = settled(c2, []*process{n1}, e2, 1, 3)
		return err
	})
	events = readEvents(t, c2.events)
	require.Contains(t, events, "NodeRemoved")
	require.Contains(t, events, "DropTable")

	// Every process returns nil when its context ends.
	for _, p := range []*process{c2, n1} {
		require.NoError(t, p.stop(t), p.name)
	}
}
