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

// Limits of the runner: a `run` without a count, the largest count a `run N` may ask for,
// and how long `run until`, `kill ... after` and the final settling may take before the
// run is reported as stuck.
const (
	DefaultRunSteps = 200
	MaxRunSteps     = 20000
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

type runner struct {
	s       *Scenario
	c       *sim.Cluster
	fair    *sim.Fair
	rep     *Report
	blocks  []Block
	never   []Step // NeverDispatcherStep and NeverAbsentStep, in script order
	seenIDs map[ops.DispatcherID]bool
	line    int
}

func newRunner(s *Scenario, opt Options) (*runner, error) {
	cfg := sim.Config{Changefeed: "cf", Nodes: s.Nodes, Bugs: opt.Bugs, Limits: sim.Limits{MaxEpoch: 1}}
	created := s.created()
	for _, tb := range s.Tables {
		if !created[tb] {
			cfg.Tables = append(cfg.Tables, tb)
		}
	}
	for _, p := range s.Spans {
		cfg.Tasks = append(cfg.Tasks, ops.Task{ID: p.ID, Span: p.Span, Node: p.Node})
	}
	for _, st := range s.Steps {
		switch st := st.(type) {
		case KillStep:
			if st.Node == "" {
				cfg.Limits.MaxEpoch++
			} else {
				cfg.Limits.MaxCrash++
			}
		case MoveStep, SplitStep, MergeStep, DropStep, RemoveStep, CreateStep:
			cfg.Limits.MaxOps++
		case DoStep:
			switch {
			case strings.HasPrefix(st.Label, "Lose("):
				cfg.Limits.MaxLoss++
			case strings.HasPrefix(st.Label, "DMDeliverDup("):
				cfg.Limits.MaxDup++
			case strings.HasPrefix(st.Label, "DMPrepareFail("):
				cfg.Limits.MaxFail++
			}
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

// badStep is bad input at line: the step cannot be taken at this point.
func (r *runner) badStep(line int, field string, err error) error {
	return &Error{File: r.s.File, Line: line, Field: field, Err: err}
}

func (r *runner) play() error {
	for _, st := range r.s.Steps {
		r.line = st.StepLine()
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

func blockNote(bs []Block) string {
	if len(bs) == 0 {
		return ""
	}
	return fmt.Sprintf(" (blocks still in place: %v)", bs)
}

// apply applies a and records it; then the invariants and monitors must hold.
func (r *runner) apply(a sim.Action) error {
	if err := r.c.Apply(a); err != nil {
		return r.badStep(r.line, "action", fmt.Errorf("%s: %w", a, err))
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
		switch st := st.(type) {
		case NeverDispatcherStep:
			for _, n := range r.s.Nodes {
				if _, ok := r.c.Node(n).Dispatcher(st.ID); ok && r.c.Alive(n) {
					r.rep.Violation = fmt.Sprintf("step %d (%s): never dispatcher %s (line %d): it exists on %s", len(r.rep.Trace), a, st.ID, st.Line, n)
					return &stopped{}
				}
			}
		case NeverAbsentStep:
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
		if b.Node != "" && b.Node != a.Node {
			continue
		}
		switch b.Kind {
		case BlockClose:
			if a.Name == "DMSweep" || a.Name == "DMCommit" {
				return false
			}
		case BlockSweep:
			if a.Name == "DMSweep" {
				return false
			}
		case BlockStatus:
			if a.Name == "MaintainerStatus" {
				return false
			}
		case BlockDeliver:
			if a.Name == "DMDeliver" && (b.Epoch == 0 || b.Epoch == a.Epoch) {
				return false
			}
		case BlockCreate:
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
	switch st := st.(type) {
	case BlockStep:
		r.blocks = append(r.blocks, st.Block)
	case ReleaseStep:
		return r.release(st)
	case NeverDispatcherStep, NeverAbsentStep:
		r.never = append(r.never, st)
		return r.monitor(sim.Action{Name: "never"})
	case RunStep:
		return r.run(st)
	case KillStep:
		return r.kill(st)
	case DoStep:
		for _, a := range r.c.Enabled() {
			if normLabel(a.String()) == st.Label {
				return r.apply(a)
			}
		}
		return r.badStep(st.Line, "do", fmt.Errorf("%w: %s is not enabled now", ErrForbidden, st.Label))
	case AddStep:
		return r.operate(st.Line, "add", sim.Action{Name: "ScheduleAbsent", ID: st.ID, Node: st.Node})
	case MoveStep:
		return r.operate(st.Line, "move", sim.Action{Name: "StartMove", ID: st.ID, Node: st.Node})
	case SplitStep:
		return r.operate(st.Line, "split", sim.Action{Name: "StartSplit", ID: st.ID, Key: st.Key})
	case MergeStep:
		return r.operate(st.Line, "merge", sim.Action{Name: "StartMerge", ID: st.As, IDs: st.IDs})
	case RemoveStep:
		return r.operate(st.Line, "remove", sim.Action{Name: "StartRemove", ID: st.ID})
	case DropStep:
		return r.operate(st.Line, "drop", sim.Action{Name: "DropTable", Table: st.Table, DDL: string(st.DDL)})
	case CreateStep:
		return r.operate(st.Line, "create", sim.Action{Name: "CreateTable", Table: st.Table, ID: st.ID, DDL: string(st.DDL)})
	default:
		return r.badStep(st.StepLine(), "statement", fmt.Errorf("%w: unknown step %T", ErrSyntax, st))
	}
	return nil
}

// release lifts the block st names, which must be in place, or every block.
func (r *runner) release(st ReleaseStep) error {
	if st.All {
		r.blocks = nil
		return nil
	}
	n := len(r.blocks)
	r.blocks = slices.DeleteFunc(r.blocks, func(b Block) bool { return b == st.Block })
	if len(r.blocks) == n {
		return r.badStep(st.Line, "release", fmt.Errorf("%w: no such block is in place", ErrForbidden))
	}
	return nil
}

// operate starts a maintainer operation, a: the action the spec names for the statement
// verb on line.
func (r *runner) operate(line int, verb string, a sim.Action) error {
	if r.c.Booting() {
		return r.badStep(line, verb, fmt.Errorf("%w: the maintainer is bootstrapping; run until Recover first", ErrForbidden))
	}
	if err := r.c.Apply(a); err != nil {
		return r.badStep(line, verb, fmt.Errorf("%w: %w", ErrForbidden, err))
	}
	return r.record(a)
}

// run: fair steps, for a count, until stable, or until an action with the label applies.
func (r *runner) run(st RunStep) error {
	limit := DefaultRunSteps
	if st.Steps > 0 {
		limit = st.Steps
	}
	if st.Until != "" {
		return r.until(st.Until, MaxWaitSteps)
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

func (r *runner) kill(st KillStep) error {
	switch {
	case st.After != "":
		if err := r.until(st.After, MaxWaitSteps); err != nil {
			return err
		}
	case st.AtStep > 0:
		if len(r.rep.Trace) >= st.AtStep {
			return r.badStep(st.Line, "step", fmt.Errorf("%w: the run is already at step %d", ErrForbidden, len(r.rep.Trace)))
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
	if st.Node != "" {
		a = sim.Action{Name: "NodeCrash", Node: st.Node}
	}
	if err := r.c.Apply(a); err != nil {
		return r.badStep(st.Line, "kill", fmt.Errorf("%w: %w", ErrForbidden, err))
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

// normLabel is how the runner compares an applied action with a label.
func normLabel(s string) string { return strings.ReplaceAll(s, " ", "") }
