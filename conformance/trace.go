package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tlc"
	"github.com/opfsm/opfsm/sim"
)

// World is a spec world: the constants of spec/failover and the simulator configured alike.
type World struct {
	N       int
	Layout  string // "halves" or "whole"
	Limits  sim.Limits
	MaxReq  int
	OpKinds []string // of "move", "split", "merge", "drop"
	Bugs    sim.Bugs // seeded bugs in the simulator (the spec runs with Bug = "none")
}

// Config is the simulator configuration of the world.
func (w World) Config() sim.Config {
	cfg := SpecWorld(w.N, w.Layout, w.Limits, w.Bugs)
	cfg.OpKinds = w.OpKinds
	return cfg
}

// Constants is the CONSTANTS block of a TLC config for the world.
func (w World) Constants() string {
	kinds := make([]string, len(w.OpKinds))
	for i, k := range w.OpKinds {
		kinds[i] = strconv.Quote(k)
	}
	l := w.Limits
	return fmt.Sprintf("CONSTANTS\n    N = %d\n    MaxEpoch = %d\n    MaxLoss = %d\n    MaxDup = %d\n    MaxCrash = %d\n    MaxFail = %d\n    MaxOps = %d\n    OpKinds = {%s}\n    Layout = %q\n    MaxReq = %d\n    Bug = \"none\"\n",
		w.N, l.MaxEpoch, l.MaxLoss, l.MaxDup, l.MaxCrash, l.MaxFail, l.MaxOps, strings.Join(kinds, ", "), w.Layout, w.MaxReq)
}

// TraceRun is one recorded simulator run: its actions and the abstract state before the
// first action and after each.
type TraceRun struct {
	Seed    uint64
	Actions []sim.Action
	States  []SpecState
}

// RecordWalk runs the seeded random walk of sim.Walk (steps random steps with faults, then
// the fair settling) on the world and records it as abstract states.
func RecordWalk(w World, seed uint64, steps int) (TraceRun, error) {
	cfg := w.Config()
	run, err := sim.Walk(cfg, seed, steps)
	if err != nil {
		return TraceRun{}, err
	}
	return RecordActions(cfg, seed, append(run.Trace, run.Settle...))
}

// RecordActions replays actions on a fresh cluster of cfg and records the abstract states.
func RecordActions(cfg sim.Config, seed uint64, actions []sim.Action) (TraceRun, error) {
	c, err := sim.NewCluster(cfg)
	if err != nil {
		return TraceRun{}, err
	}
	abs, err := NewAbstraction(cfg)
	if err != nil {
		return TraceRun{}, err
	}
	tr := TraceRun{Seed: seed, Actions: actions}
	observe := func(a sim.Action) error {
		if err := abs.Observe(c, a); err != nil {
			return err
		}
		s, err := abs.State(c)
		if err != nil {
			return err
		}
		tr.States = append(tr.States, s)
		return nil
	}
	if err := observe(sim.Action{}); err != nil {
		return tr, err
	}
	for i, a := range actions {
		if err := c.Apply(a); err != nil {
			return tr, fmt.Errorf("conformance: seed %d step %d %s: %w", seed, i+1, a, err)
		}
		if err := observe(a); err != nil {
			return tr, fmt.Errorf("conformance: seed %d step %d %s: %w", seed, i+1, a, err)
		}
	}
	return tr, nil
}

// TraceFailure is a trace TLC could not follow to its end: Step is the first simulator
// step that is not a step of the spec (1-based; 0: the initial state is not an initial
// state of the spec), with the action and what it changed in the abstract state.
type TraceFailure struct {
	Trace   int
	Seed    uint64
	Step    int
	Action  string
	Changed []string
}

// String formats the failure for reports.
func (f TraceFailure) String() string {
	var b strings.Builder
	if f.Step == 0 {
		fmt.Fprintf(&b, "trace %d (seed %d): its initial state is not an initial state of the spec", f.Trace, f.Seed)
	} else {
		fmt.Fprintf(&b, "trace %d (seed %d): step %d %s is not a step of the spec; it changed:", f.Trace, f.Seed, f.Step, f.Action)
	}
	for _, c := range f.Changed {
		b.WriteString("\n    " + c)
	}
	return b.String()
}

// TraceReport is the outcome of validating traces with TLC.
type TraceReport struct {
	Traces, Steps int
	Failures      []TraceFailure
	// TLC is the run that checked every trace at once.
	TLC tlc.Result
}

var reDone = regexp.MustCompile(`<<"done", (\d+)>>`)

// ValidateTraces writes runs as a TLA+ module and has TLC check, with TraceCheck.tla, that
// each is a behaviour of spec/failover (in specDir) on the world's constants. Traces TLC
// cannot follow are checked again one by one to find the step where each got stuck.
func ValidateTraces(ctx context.Context, specDir string, w World, runs []TraceRun) (TraceReport, error) {
	rep := TraceReport{Traces: len(runs)}
	for _, r := range runs {
		rep.Steps += len(r.Actions)
	}
	res, done, err := checkTraces(ctx, specDir, w, runs)
	rep.TLC = res
	if err != nil {
		return rep, err
	}
	for i, r := range runs {
		if done[i+1] {
			continue
		}
		one, _, err := checkTraces(ctx, specDir, w, []TraceRun{r})
		if err != nil {
			return rep, err
		}
		step := one.Depth // the cursor got this far: states 1..Depth matched
		f := TraceFailure{Trace: i + 1, Seed: r.Seed, Step: step}
		if step > 0 && step <= len(r.Actions) {
			f.Action = r.Actions[step-1].String()
			f.Changed = r.States[step-1].Diff(r.States[step])
		} else if step == 0 {
			f.Changed = []string{"initial state: " + r.States[0].Record()}
		}
		rep.Failures = append(rep.Failures, f)
	}
	return rep, nil
}

// checkTraces runs TLC once on runs; done[k] is true for each trace k (1-based) followed to
// its end. A TLC error (parse, evaluation) is returned as an error.
func checkTraces(ctx context.Context, specDir string, w World, runs []TraceRun) (tlc.Result, map[int]bool, error) {
	dir, err := specCopy("opfsm-trace-", specDir)
	if err != nil {
		return tlc.Result{}, nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "TraceData.tla"), []byte(traceModule(runs)), 0o644); err != nil {
		return tlc.Result{}, nil, err
	}
	cfg := w.Constants() + "INIT TraceInit\nNEXT TraceNext\nCONSTRAINT Done\nCHECK_DEADLOCK FALSE\n"
	if err := os.WriteFile(filepath.Join(dir, "TraceCheck.cfg"), []byte(cfg), 0o644); err != nil {
		return tlc.Result{}, nil, err
	}
	// Following given steps is no search: even ten thousand steps take as long with the
	// client compiler alone (20.5 s and 20.4 s), which spends far less CPU, hence Quick.
	res, err := tlc.Run(ctx, tlc.Options{Dir: dir, Spec: "TraceCheck", Config: "TraceCheck.cfg", Quick: true})
	if err != nil {
		return res, nil, err
	}
	if res.Error != "" || (!res.Passed && res.ExitCode != 0) {
		return res, nil, fmt.Errorf("conformance: TLC failed on the trace spec: %s\n%s", res.Summary(), tail(res.Output, 40))
	}
	done := map[int]bool{}
	for _, m := range reDone.FindAllStringSubmatch(res.Output, -1) {
		k, _ := strconv.Atoi(m[1])
		done[k] = true
	}
	return res, done, nil
}

// traceModule is the TraceData module: Traces, a sequence of traces, each a sequence of
// abstract states as records. SANY's time grows faster than the text it reads, and a long
// run repeats most of its values from one state to the next, so the module says each
// value longer than a few characters once, as a definition Vk, and each trace is a
// definition Tk of records that name those values: ten thousand steps make a few
// megabytes rather than tens.
func traceModule(runs []TraceRun) string {
	var traces strings.Builder
	defs := newValueDefs()
	value := defs.name
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = "T" + strconv.Itoa(i+1)
		fmt.Fprintf(&traces, "\\* trace %d: seed %d, %d steps\n%s == <<\n", i+1, r.Seed, len(r.Actions), names[i])
		for j, st := range r.States {
			traces.WriteString("    [")
			for k, v := range SpecVars {
				if k > 0 {
					traces.WriteString(", ")
				}
				traces.WriteString(v + " |-> " + value(st[v]))
			}
			if j < len(r.States)-1 {
				traces.WriteString("],\n")
			} else {
				traces.WriteString("]\n")
			}
		}
		traces.WriteString(">>\n")
	}
	var b strings.Builder
	b.WriteString("---------------------------- MODULE TraceData ----------------------------\n")
	b.WriteString("(* Generated by package conformance: simulator runs as abstract states. *)\n")
	b.WriteString("EXTENDS Sequences\n\n")
	b.WriteString(defs.text.String())
	b.WriteString("\n")
	b.WriteString(traces.String())
	b.WriteString("\nTraces == <<" + strings.Join(names, ", ") + ">>\n")
	b.WriteString("=============================================================================\n")
	return b.String()
}

// valueDefs names each long value of a generated module once, as a definition Vk.
type valueDefs struct {
	text strings.Builder
	ids  map[string]string
}

func newValueDefs() *valueDefs { return &valueDefs{ids: map[string]string{}} }

// name returns v itself if it is short, else the name of its definition.
func (d *valueDefs) name(v string) string {
	if len(v) <= inlineValue {
		return v
	}
	id, ok := d.ids[v]
	if !ok {
		id = "V" + strconv.Itoa(len(d.ids)+1)
		d.ids[v] = id
		fmt.Fprintf(&d.text, "%s == %s\n", id, v)
	}
	return id
}

// inlineValue is the length up to which a value is written where it is used rather than
// as a definition of the trace module.
const inlineValue = 12

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
