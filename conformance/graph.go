package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opfsm/opfsm/internal/tlc"
)

// AbstractGraph is a state graph over abstract states: each state is its canonical text
// (State.String of the parsed value), numbered in discovery order.
type AbstractGraph struct {
	Keys  []string
	index map[string]int
	Init  []int
	Edges map[AbstractEdge]bool
}

// AbstractEdge is one labelled transition between numbered abstract states.
type AbstractEdge struct {
	From   int
	Action string
	To     int
}

func newAbstractGraph() *AbstractGraph {
	return &AbstractGraph{index: map[string]int{}, Edges: map[AbstractEdge]bool{}}
}

func (g *AbstractGraph) intern(key string) int {
	if i, ok := g.index[key]; ok {
		return i
	}
	g.index[key] = len(g.Keys)
	g.Keys = append(g.Keys, key)
	return len(g.Keys) - 1
}

// Lookup returns the number of the state with canonical text key.
func (g *AbstractGraph) Lookup(key string) (int, bool) {
	i, ok := g.index[key]
	return i, ok
}

// canonical is the canonical text of an abstract state: State.String of the parsed state.
func canonical(s SpecState) (string, error) {
	st, err := ParseState(s.String())
	if err != nil {
		return "", fmt.Errorf("conformance: abstract state does not parse: %w", err)
	}
	return st.String(), nil
}

// canonicalizer computes canonical's text one variable at a time, caching each value's
// canonical form: the states of a search share most of their values, so most are parsed
// once. TestCanonicalizerAgrees holds it to canonical.
type canonicalizer struct {
	names []string          // SpecVars sorted, as State.String orders them
	vals  map[string]string // raw value text -> canonical text
}

func newCanonicalizer() *canonicalizer {
	names := slices.Clone(SpecVars)
	slices.Sort(names)
	return &canonicalizer{names: names, vals: map[string]string{}}
}

func (cz *canonicalizer) state(s SpecState) (string, error) {
	var b []byte
	for i, k := range cz.names {
		raw, ok := s[k]
		if !ok {
			return "", fmt.Errorf("conformance: abstract state lacks %s", k)
		}
		cv, ok := cz.vals[raw]
		if !ok {
			v, err := ParseValue(raw)
			if err != nil {
				return "", fmt.Errorf("conformance: abstract state's %s does not parse: %w", k, err)
			}
			cv = string(v.appendTo(nil))
			cz.vals[raw] = cv
		}
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, `/\ `...)
		b = append(b, k...)
		b = append(b, " = "...)
		b = append(b, cv...)
	}
	return string(b), nil
}

// SimGraph explores the simulator on world w exhaustively (as Explore: breadth first,
// states cloned) and returns the graph of the abstract states it reaches, with the search's
// numbers (concrete states). States outside the spec's StreamBound (w.MaxReq) are
// discarded, as TLC discards states outside a CONSTRAINT.
func SimGraph(w World, maxStates int) (*AbstractGraph, *Exploration, error) {
	g := newAbstractGraph()
	ex, err := exploreSim(w, maxStates, func(from, action, to string, err error) (bool, error) {
		if err != nil {
			return true, err
		}
		if from == "" {
			g.Init = []int{g.intern(to)}
			return false, nil
		}
		g.Edges[AbstractEdge{From: g.intern(from), Action: action, To: g.intern(to)}] = true
		return false, nil
	})
	return g, ex, err
}

// CheckSim explores the simulator on world w and stops at its first step that is not an
// edge of spec (TLC's graph of the same world): a step to a state the spec does not
// reach, a step the spec does not take, or a state the spec's schema cannot express. It
// returns "" when every step of the simulator is a step of the spec. This is the fast half
// of the graph comparison: it needs no complete exploration to catch a divergence.
func CheckSim(spec *AbstractGraph, w World, maxStates int) (string, *Exploration, error) {
	var first string
	ex, err := exploreSim(w, maxStates, func(from, action, to string, err error) (bool, error) {
		if err != nil {
			if errors.Is(err, ErrNotAbstract) {
				first = fmt.Sprintf("the simulator takes %s to a state the spec cannot express: %v\n  from:\n%s", action, err, indent(from))
				return true, nil
			}
			return true, err
		}
		if from == "" {
			if _, ok := spec.Lookup(to); !ok {
				first = "the simulator's initial state is not the spec's:\n" + indent(to)
				return true, nil
			}
			return false, nil
		}
		f, _ := spec.Lookup(from)
		t, ok := spec.Lookup(to)
		if ok && spec.Edges[AbstractEdge{From: f, Action: action, To: t}] {
			return false, nil
		}
		first = fmt.Sprintf("the simulator takes %s here, the spec has no such step:\n  state:\n%s\n  the simulator's successor differs from the spec's %s successors in:\n%s",
			action, indent(from), action, successorDiff(to, spec, f, true, action))
		return true, nil
	})
	return first, ex, err
}

// exploreSim is the search behind SimGraph and CheckSim: the simulator on world w, with
// the spec's StreamBound.
func exploreSim(w World, maxStates int, visit visitFunc) (*Exploration, error) {
	return search(w.Config(), ExploreOptions{MaxStates: maxStates, MaxStream: w.MaxReq}, visit)
}

// TLCCount runs TLC on spec/failover (specDir) with the world's constants and CONSTRAINT
// StreamBound (no invariants), for its distinct-state count and time.
func TLCCount(ctx context.Context, specDir string, w World) (tlc.Result, error) {
	dir, opts, err := prepareWorld(specDir, w)
	if err != nil {
		return tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	return runTLC(ctx, opts)
}

// prepareWorld copies the spec into a temp folder (the caller removes it) with a config of
// the world's constants and CONSTRAINT StreamBound.
func prepareWorld(specDir string, w World) (string, tlc.Options, error) {
	dir, err := os.MkdirTemp("", "opfsm-graph-")
	if err != nil {
		return "", tlc.Options{}, err
	}
	if err := copyModules(specDir, dir); err != nil {
		os.RemoveAll(dir)
		return "", tlc.Options{}, err
	}
	cfg := w.Constants() + "INIT Init\nNEXT Next\nCONSTRAINT StreamBound\nCHECK_DEADLOCK FALSE\n"
	if err := os.WriteFile(filepath.Join(dir, "Graph.cfg"), []byte(cfg), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", tlc.Options{}, err
	}
	return dir, tlc.Options{Dir: dir, Spec: "Failover", Config: "Graph.cfg"}, nil
}

// runTLC runs TLC and turns a run that did not pass into an error.
func runTLC(ctx context.Context, opts tlc.Options) (tlc.Result, error) {
	res, err := tlc.Run(ctx, opts)
	if err == nil && !res.Passed {
		err = fmt.Errorf("conformance: TLC on the world's config: %s\n%s", res.Summary(), tail(res.Output, 30))
	}
	return res, err
}

// TLCGraph runs TLC on spec/failover (specDir) with the world's constants and
// CONSTRAINT StreamBound, dumps the state graph with action labels, and reads it. Where
// the system has named pipes, the dump goes through one and is read while TLC writes it:
// nothing lands on disk (MergeAbort's dump is about 3 GB) and the reading overlaps TLC.
func TLCGraph(ctx context.Context, specDir string, w World) (*AbstractGraph, tlc.Result, error) {
	dir, opts, err := prepareWorld(specDir, w)
	if err != nil {
		return nil, tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	dot := filepath.Join(dir, "graph.dot") // TLC appends .dot to the name it is given
	opts.Args = []string{"-dump", "dot,actionlabels", filepath.Join(dir, "graph")}
	if mkfifo(dot) != nil { // no named pipes: TLC writes the file, then it is read
		res, err := runTLC(ctx, opts)
		if err != nil {
			return nil, res, err
		}
		f, err := os.Open(dot)
		if err != nil {
			return nil, res, err
		}
		defer f.Close()
		g, err := readGraph(f)
		return g, res, err
	}
	type tlcOut struct {
		res tlc.Result
		err error
	}
	tlcDone := make(chan tlcOut, 1)
	go func() {
		res, err := runTLC(ctx, opts)
		tlcDone <- tlcOut{res, err}
	}()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(dot) // blocks until TLC opens the pipe to write
		if err != nil {
			f = nil
		}
		opened <- f
	}()
	select {
	case f := <-opened:
		if f == nil {
			out := <-tlcDone
			return nil, out.res, fmt.Errorf("conformance: opening TLC's dump: %w", out.err)
		}
		g, scanErr := readGraph(f)
		_, _ = io.Copy(io.Discard, f) // after a bad line, let TLC finish writing
		f.Close()
		out := <-tlcDone
		if out.err != nil { // TLC's own failure explains a truncated dump best
			return nil, out.res, out.err
		}
		return g, out.res, scanErr
	case out := <-tlcDone:
		// TLC ended without opening the pipe: open it to write, so that the reader's open
		// returns (and reads an empty dump), then report TLC's error.
		if wf, err := os.OpenFile(dot, os.O_WRONLY, 0); err == nil {
			wf.Close()
		}
		if f := <-opened; f != nil {
			f.Close()
		}
		if out.err == nil {
			out.err = fmt.Errorf("conformance: TLC passed but never wrote its dump")
		}
		return nil, out.res, out.err
	}
}

// readGraph reads a dot dump into an abstract graph, keeping only each state's canonical
// text, not its parsed form.
func readGraph(r io.Reader) (*AbstractGraph, error) {
	g := newAbstractGraph()
	id := map[int64]int{}
	var edges []Edge // resolved once every state is defined: an edge may come first
	err := ScanDot(bufio.NewReaderSize(r, 1<<20), DotVisitor{
		State: func(fp int64, st State, init bool) error {
			id[fp] = g.intern(st.String())
			if init {
				g.Init = append(g.Init, id[fp])
			}
			return nil
		},
		Edge: func(e Edge) error {
			edges = append(edges, e)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	for _, e := range edges {
		g.Edges[AbstractEdge{From: id[e.From], Action: e.Action, To: id[e.To]}] = true
	}
	return g, nil
}

func copyModules(from, to string) error {
	mods, err := filepath.Glob(filepath.Join(from, "*.tla"))
	if err != nil || len(mods) == 0 {
		return fmt.Errorf("conformance: no TLA+ modules in %s", from)
	}
	for _, m := range mods {
		data, err := os.ReadFile(m)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(m)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WorldComparison is the outcome of CompareWorld: the graph comparison with both sides'
// numbers.
type WorldComparison struct {
	Diff GraphDiff
	// TLC is TLC's run (its time includes the JVM start and the dump); SpecEdges counts the
	// labelled edges of its graph.
	TLC       tlc.Result
	SpecEdges int
	// Sim is the simulator's search; SimEdges counts the labelled edges of its graph.
	Sim      *Exploration
	SimEdges int
}

// CompareWorld runs TLC (TLCGraph) and the simulator's search (SimGraph) on world w side by
// side, TLC in its own process, and compares the graphs. A simulator state the spec's
// schema cannot express is an error wrapping ErrNotAbstract.
func CompareWorld(ctx context.Context, specDir string, w World) (*WorldComparison, error) {
	type tlcOut struct {
		g   *AbstractGraph
		res tlc.Result
		err error
	}
	done := make(chan tlcOut, 1)
	go func() {
		g, res, err := TLCGraph(ctx, specDir, w)
		done <- tlcOut{g, res, err}
	}()
	impl, ex, simErr := SimGraph(w, 0)
	spec := <-done
	if spec.err != nil {
		return nil, spec.err
	}
	if simErr != nil {
		return nil, simErr
	}
	return &WorldComparison{Diff: CompareGraphs(spec.g, impl), TLC: spec.res, SpecEdges: len(spec.g.Edges),
		Sim: ex, SimEdges: len(impl.Edges)}, nil
}

// GraphDiff is the outcome of comparing the spec's graph with the simulator's.
type GraphDiff struct {
	States, Edges int // compared (TLC's counts)
	// OnlySpec and OnlySim count states and edges found on one side only.
	OnlySpecStates, OnlySimStates, OnlySpecEdges, OnlySimEdges int
	// First describes the first mismatch, readable (empty when the graphs are equal).
	First string
}

// Equal reports whether the graphs have the same states and the same labelled edges.
func (d GraphDiff) Equal() bool {
	return d.OnlySpecStates+d.OnlySimStates+d.OnlySpecEdges+d.OnlySimEdges == 0
}

// CompareGraphs compares spec (TLC's) and impl (the simulator's) abstract graphs: the same
// states, the same initial states, and for every state the same (action, successor) pairs.
func CompareGraphs(spec, impl *AbstractGraph) GraphDiff {
	d := GraphDiff{States: len(spec.Keys), Edges: len(spec.Edges)}
	// Only the first mismatch is explained: explaining one scans the other side's edges.
	var first func() string
	// Edges first: a missing edge explains a missing state better than the state alone.
	for _, e := range sortedEdges(spec) {
		from, ok1 := impl.Lookup(spec.Keys[e.From])
		to, ok2 := impl.Lookup(spec.Keys[e.To])
		if ok1 && ok2 && impl.Edges[AbstractEdge{from, e.Action, to}] {
			continue
		}
		d.OnlySpecEdges++
		if first == nil {
			first = func() string {
				return fmt.Sprintf("the spec takes %s here, the simulator cannot reach that successor:\n  state:\n%s\n  spec's successor differs from the simulator's %s successors in:\n%s",
					e.Action, indent(spec.Keys[e.From]), e.Action, successorDiff(spec.Keys[e.To], impl, from, ok1, e.Action))
			}
		}
	}
	for _, e := range sortedEdges(impl) {
		from, ok1 := spec.Lookup(impl.Keys[e.From])
		to, ok2 := spec.Lookup(impl.Keys[e.To])
		if ok1 && ok2 && spec.Edges[AbstractEdge{from, e.Action, to}] {
			continue
		}
		d.OnlySimEdges++
		if first == nil {
			first = func() string {
				return fmt.Sprintf("the simulator takes %s here, the spec has no such step:\n  state:\n%s\n  simulator's successor differs from the spec's %s successors in:\n%s",
					e.Action, indent(impl.Keys[e.From]), e.Action, successorDiff(impl.Keys[e.To], spec, from, ok1, e.Action))
			}
		}
	}
	for _, k := range spec.Keys {
		if _, ok := impl.Lookup(k); !ok {
			d.OnlySpecStates++
		}
	}
	for _, k := range impl.Keys {
		if _, ok := spec.Lookup(k); !ok {
			d.OnlySimStates++
		}
	}
	if first != nil {
		d.First = first()
	}
	return d
}

func sortedEdges(g *AbstractGraph) []AbstractEdge {
	es := make([]AbstractEdge, 0, len(g.Edges))
	for e := range g.Edges {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b AbstractEdge) int {
		if a.From != b.From {
			return a.From - b.From
		}
		if a.Action != b.Action {
			return strings.Compare(a.Action, b.Action)
		}
		return a.To - b.To
	})
	return es
}

// successorDiff explains how state want differs from the other graph's successors of
// state from by the same action (variable by variable, against the closest one).
func successorDiff(want string, other *AbstractGraph, from int, known bool, action string) string {
	if !known {
		return "    (the state itself is not reachable on the other side)"
	}
	ws, err := ParseState(want)
	if err != nil {
		return "    " + err.Error()
	}
	best := ""
	bestN := -1
	for e := range other.Edges {
		if e.From != from || e.Action != action {
			continue
		}
		gs, err := ParseState(other.Keys[e.To])
		if err != nil {
			continue
		}
		var lines []string
		for _, v := range SpecVars {
			if !Equal(ws[v], gs[v]) {
				lines = append(lines, fmt.Sprintf("    %s: %s  vs  %s", v, ws[v], gs[v]))
			}
		}
		if bestN < 0 || len(lines) < bestN {
			best, bestN = strings.Join(lines, "\n"), len(lines)
		}
	}
	if bestN < 0 {
		return "    (no " + action + " step at all from this state on the other side)"
	}
	return best
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
