package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
	"github.com/opfsm/opfsm/sim"
)

// Limits of the runner: a `run` without a count, and how long `run until`, `kill ... after`
// and the final settling may take before the run is reported as stuck.
const (
	DefaultRunSteps = 200
	MaxWaitSteps    = 2000
)

// Options tune a run: the seeded bugs to switch on in the simulator.
type Options struct {
	Bugs sim.Bugs
}

// StepRecord is one action the run applied, with the scenario line that caused it.
type StepRecord struct {
	N      int    `json:"n"`
	Line   int    `json:"line"`
	Action string `json:"action"`
}

// Report is the outcome of a run. Passed is true when no invariant or monitor was violated,
// the cluster converged (L1-L5) once the script ended, and every expect line held.
type Report struct {
	File      string       `json:"file"`
	Name      string       `json:"name"`
	Passed    bool         `json:"passed"`
	Steps     int          `json:"steps"`
	Violation string       `json:"violation,omitempty"`
	Failures  []string     `json:"failures,omitempty"`
	Trace     []StepRecord `json:"trace"`
	Final     []string     `json:"final"`
}

// Run plays s on a fresh simulated cluster. A violation, a failure to converge or an
// unmet expectation is reported in the Report (Passed false) with a nil error; an error
// (an *Error naming the line) means the scenario asks for something the cluster cannot do
// at that point: an operation the maintainer refuses, an action that is not enabled.
func Run(s *Scenario, opt Options) (*Report, error) {
	r, err := newRunner(s, opt)
	if err != nil {
		return nil, err
	}
	rep := &Report{File: s.File, Name: s.Name}
	r.rep = rep
	err = r.play()
	rep.Steps = len(rep.Trace)
	rep.Final = r.final()
	if err != nil {
		var stop *stopped
		if !errors.As(err, &stop) {
			return rep, err
		}
	}
	rep.Passed = rep.Violation == "" && len(rep.Failures) == 0
	return rep, nil
}

// stopped ends a run early: a violation or a failure was recorded in the report.
type stopped struct{}

func (*stopped) Error() string { return "scenario stopped" }

type block struct {
	kind  string
	node  ops.NodeID // "" for all nodes
	epoch ops.Epoch
}

type runner struct {
	s       *Scenario
	c       *sim.Cluster
	fair    *sim.Fair
	rep     *Report
	blocks  []block
	never   []Step
	seenIDs map[ops.DispatcherID]bool
	line    int
}

func newRunner(s *Scenario, opt Options) (*runner, error) {
	cfg := sim.Config{Changefeed: "cf", Nodes: s.Nodes, Bugs: opt.Bugs, Limits: sim.Limits{MaxEpoch: 1}}
	for _, tb := range s.Tables {
		if !slices.ContainsFunc(s.Steps, func(st Step) bool { return st.Verb == "create" && st.Table == tb }) {
			cfg.Tables = append(cfg.Tables, tb)
		}
	}
	for _, p := range s.Spans {
		cfg.Tasks = append(cfg.Tasks, ops.Task{ID: p.ID, Span: p.Span, Node: p.Node})
	}
	for _, st := range s.Steps {
		switch {
		case st.Verb == "kill" && st.Kind == "maintainer":
			cfg.Limits.MaxEpoch++
		case st.Verb == "kill":
			cfg.Limits.MaxCrash++
		case st.Verb == "move" || st.Verb == "split" || st.Verb == "merge" || st.Verb == "drop" || st.Verb == "remove":
			cfg.Limits.MaxOps++
		case st.Verb == "do" && strings.HasPrefix(st.Label, "Lose("):
			cfg.Limits.MaxLoss++
		case st.Verb == "do" && strings.HasPrefix(st.Label, "DMDeliverDup("):
			cfg.Limits.MaxDup++
		}
	}
	c, err := sim.NewCluster(cfg)
	if err != nil {
		return nil, &Error{File: s.File, Field: "span", Err: fmt.Errorf("%w: %w", ErrForbidden, err)}
	}
	return &runner{s: s, c: c, fair: sim.NewFair(), seenIDs: map[ops.DispatcherID]bool{}}, nil
}

func (r *runner) fail(format string, args ...any) error {
	r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("line %d: ", r.line)+fmt.Sprintf(format, args...))
	return &stopped{}
}

func (r *runner) badStep(st Step, field string, err error) error {
	return &Error{File: r.s.File, Line: st.Line, Field: field, Err: err}
}

func (r *runner) play() error {
	for _, st := range r.s.Steps {
		r.line = st.Line
		if err := r.step(st); err != nil {
			return err
		}
	}
	r.line = 0
	// The script is over: the cluster runs fairly (remaining blocks still hold) until it is
	// stable, and must then have converged.
	for i := 0; i < MaxWaitSteps && r.c.Converged() != nil; i++ {
		a, ok := r.fair.Next(r.c, r.allowed)
		if !ok {
			break
		}
		if err := r.apply(a); err != nil {
			return err
		}
	}
	if err := r.c.Converged(); err != nil {
		r.rep.Failures = append(r.rep.Failures, "end: did not converge: "+err.Error()+blockNote(r.blocks))
		return nil
	}
	for _, e := range r.s.Expects {
		if msg := r.check(e); msg != "" {
			r.rep.Failures = append(r.rep.Failures, fmt.Sprintf("line %d: expect table %d: %s", e.Line, e.Table, msg))
		}
	}
	return nil
}

func blockNote(bs []block) string {
	if len(bs) == 0 {
		return ""
	}
	return fmt.Sprintf(" (blocks still in place: %v)", bs)
}

// apply applies a and records it; then the invariants and monitors must hold.
func (r *runner) apply(a sim.Action) error {
	if err := r.c.Apply(a); err != nil {
		return r.badStep(Step{Line: r.line}, "action", fmt.Errorf("%s: %w", a, err))
	}
	return r.record(a)
}

// record appends the applied action a to the trace; then the invariants and monitors must
// hold.
func (r *runner) record(a sim.Action) error {
	r.rep.Trace = append(r.rep.Trace, StepRecord{N: len(r.rep.Trace) + 1, Line: r.line, Action: a.String()})
	if err := r.c.Check(); err != nil {
		r.rep.Violation = fmt.Sprintf("step %d (%s, line %d): %v", len(r.rep.Trace), a, r.line, err)
		return &stopped{}
	}
	return r.monitor(a)
}

func (r *runner) monitor(a sim.Action) error {
	for _, st := range r.never {
		switch st.Kind {
		case "dispatcher":
			for _, n := range r.s.Nodes {
				if _, ok := r.c.Node(n).Dispatcher(st.ID); ok && r.c.Alive(n) {
					r.rep.Violation = fmt.Sprintf("step %d (%s): never dispatcher %s (line %d): it exists on %s", len(r.rep.Trace), a, st.ID, st.Line, n)
					return &stopped{}
				}
			}
		case "absent":
			if ctrl := r.c.Controller(); ctrl != nil {
				for _, t := range ctrl.Tasks() {
					if t.Span.Table == st.Table && t.Sched == ops.Absent {
						r.rep.Violation = fmt.Sprintf("step %d (%s): never absent %d (line %d): task %s is Absent", len(r.rep.Trace), a, st.Table, st.Line, t.ID)
						return &stopped{}
					}
				}
			}
		}
	}
	return nil
}

// allowed: the fair scheduler's filter, applying the blocks in place.
func (r *runner) allowed(a sim.Action) bool {
	for _, b := range r.blocks {
		if b.node != "" && b.node != a.Node {
			continue
		}
		switch b.kind {
		case "close":
			if a.Name == "DMSweep" || a.Name == "DMCommit" {
				return false
			}
		case "sweep":
			if a.Name == "DMSweep" {
				return false
			}
		case "status":
			if a.Name == "MaintainerStatus" {
				return false
			}
		case "deliver":
			if a.Name == "DMDeliver" && (b.epoch == 0 || b.epoch == a.Epoch) {
				return false
			}
		case "create":
			if a.Name == "DMDeliver" {
				reqs := r.c.Network().Requests(sim.Stream{Node: a.Node, Epoch: a.Epoch})
				if len(reqs) > 0 && reqs[0].Kind == protocol.Create {
					return false
				}
			}
		}
	}
	return true
}

func (r *runner) step(st Step) error {
	switch st.Verb {
	case "block":
		r.blocks = append(r.blocks, blocksOf(st, r.s.Nodes)...)
	case "release":
		if st.Kind == "all" {
			r.blocks = nil
			return nil
		}
		n := len(r.blocks)
		for _, b := range blocksOf(st, r.s.Nodes) {
			r.blocks = slices.DeleteFunc(r.blocks, func(x block) bool { return x == b })
		}
		if len(r.blocks) == n {
			return r.badStep(st, "release", fmt.Errorf("%w: no such block is in place", ErrForbidden))
		}
	case "never":
		r.never = append(r.never, st)
		return r.monitor(sim.Action{Name: "never"})
	case "run":
		return r.run(st)
	case "kill":
		return r.kill(st)
	case "do":
		for _, a := range r.c.Enabled() {
			if normLabel(a.String()) == st.Label {
				return r.apply(a)
			}
		}
		return r.badStep(st, "do", fmt.Errorf("%w: %s is not enabled now", ErrForbidden, st.Label))
	default:
		return r.operate(st)
	}
	return nil
}

// blocksOf expands a block/release step over its nodes.
func blocksOf(st Step, nodes []ops.NodeID) []block {
	if st.Nodes == nil {
		return []block{{kind: st.Kind, epoch: st.Epoch}}
	}
	return []block{{kind: st.Kind, node: st.Nodes[0], epoch: st.Epoch}}
}

// operate starts a maintainer operation: the action the spec names for it.
func (r *runner) operate(st Step) error {
	if r.c.Booting() {
		return r.badStep(st, st.Verb, fmt.Errorf("%w: the maintainer is bootstrapping; run until Recover first", ErrForbidden))
	}
	a := sim.Action{ID: st.ID}
	switch st.Verb {
	case "add":
		a.Name, a.Node = "ScheduleAbsent", st.Nodes[0]
	case "move":
		a.Name, a.Node = "StartMove", st.Nodes[0]
	case "split":
		a.Name, a.Key = "StartSplit", st.Key
	case "merge":
		a.Name, a.IDs = "StartMerge", st.IDs
	case "remove":
		a.Name = "StartRemove"
	case "drop":
		a.Name, a.Table, a.ID, a.DDL = "DropTable", st.Table, "", st.Kind
	case "create":
		a.Name, a.Table, a.DDL = "CreateTable", st.Table, st.Kind
	}
	if err := r.c.Apply(a); err != nil {
		return r.badStep(st, st.Verb, fmt.Errorf("%w: %w", ErrForbidden, err))
	}
	return r.record(a)
}

// run: fair steps, for a count, until stable, or until an action with the label applies.
func (r *runner) run(st Step) error {
	limit := DefaultRunSteps
	if st.Steps > 0 {
		limit = st.Steps
	}
	if st.Label != "" {
		return r.until(st.Label, MaxWaitSteps)
	}
	for i := 0; i < limit && !r.c.Stable(); i++ {
		a, ok := r.fair.Next(r.c, r.allowed)
		if !ok {
			return nil
		}
		if err := r.apply(a); err != nil {
			return err
		}
	}
	return nil
}

// until takes fair steps until an action labelled l was applied. An explicit fault or
// scheduler label is applied directly once it is enabled.
func (r *runner) until(l string, limit int) error {
	for i := 0; i < limit; i++ {
		for _, a := range r.c.Enabled() {
			if normLabel(a.String()) == l && r.allowed(a) {
				return r.apply(a)
			}
		}
		a, ok := r.fair.Next(r.c, r.allowed)
		if !ok {
			break
		}
		if err := r.apply(a); err != nil {
			return err
		}
		if normLabel(a.String()) == l {
			return nil
		}
	}
	return r.fail("%s never happened (blocks in place: %v)", l, r.blocks)
}

func (r *runner) kill(st Step) error {
	switch {
	case st.Label != "":
		if err := r.until(st.Label, MaxWaitSteps); err != nil {
			return err
		}
	case st.AtStep > 0:
		if len(r.rep.Trace) >= st.AtStep {
			return r.badStep(st, "step", fmt.Errorf("%w: the run is already at step %d", ErrForbidden, len(r.rep.Trace)))
		}
		for len(r.rep.Trace) < st.AtStep-1 {
			a, ok := r.fair.Next(r.c, r.allowed)
			if !ok {
				return r.fail("nothing left to run before step %d", st.AtStep)
			}
			if err := r.apply(a); err != nil {
				return err
			}
		}
	}
	a := sim.Action{Name: "MaintainerCrash"}
	if st.Kind == "node" {
		a = sim.Action{Name: "NodeCrash", Node: st.Nodes[0]}
	}
	if err := r.c.Apply(a); err != nil {
		return r.badStep(st, "kill", fmt.Errorf("%w: %w", ErrForbidden, err))
	}
	return r.record(a)
}

// check compares the converged cluster with one expect line; "" when it holds.
func (r *runner) check(e Expect) string {
	var tasks []ops.Task
	for _, t := range r.c.Controller().Tasks() {
		if t.Span.Table == e.Table {
			tasks = append(tasks, t)
		}
	}
	var disps []string
	for _, n := range r.s.Nodes {
		if !r.c.Alive(n) {
			continue
		}
		for _, d := range r.c.Node(n).Dispatchers() {
			if d.Span.Table == e.Table {
				disps = append(disps, fmt.Sprintf("%s %s on %s", d.ID, spanText(d.Span), n))
			}
		}
	}
	if e.Gone {
		if len(tasks) > 0 || len(disps) > 0 {
			return fmt.Sprintf("want gone, have tasks %v and dispatchers %v", tasks, disps)
		}
		return ""
	}
	if len(tasks) != len(e.Spans) {
		return fmt.Sprintf("want %d spans, have %s", len(e.Spans), taskText(tasks))
	}
	for _, want := range e.Spans {
		i := slices.IndexFunc(tasks, func(t ops.Task) bool { return t.Span == want.Span })
		if i < 0 {
			return fmt.Sprintf("no task covers %s; have %s", spanText(want.Span), taskText(tasks))
		}
		t := tasks[i]
		if want.Node != "" && t.Node != want.Node {
			return fmt.Sprintf("%s is on %s, want %s", spanText(want.Span), t.Node, want.Node)
		}
		if want.ID != "" && t.ID != want.ID {
			return fmt.Sprintf("%s has dispatcher %s, want %s", spanText(want.Span), t.ID, want.ID)
		}
	}
	return ""
}

func spanText(s ops.Span) string {
	start, end := s.Start, s.End
	if start == "" {
		start = "-"
	}
	if end == "" {
		end = "-"
	}
	return start + ".." + end
}

func taskText(ts []ops.Task) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s %s on %s (%s)", t.ID, spanText(t.Span), t.Node, t.Sched))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// final lists the end state: every live dispatcher, per node.
func (r *runner) final() []string {
	var out []string
	for _, n := range r.s.Nodes {
		if !r.c.Alive(n) {
			out = append(out, fmt.Sprintf("%s: dead", n))
			continue
		}
		for _, d := range r.c.Node(n).Dispatchers() {
			st := d.State.String()
			if d.Removing {
				st += ", removing"
			}
			out = append(out, fmt.Sprintf("%s: %s %d %s (%s)", n, d.ID, d.Span.Table, spanText(d.Span), st))
		}
	}
	return out
}
