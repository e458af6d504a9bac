package conformance

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
	"github.com/opfsm/opfsm/internal/tlc"
)

// AbstractGraph is a state graph over abstract states, numbered in discovery order. A
// state is kept as a key into the graph's value table (keys.go), its text rebuilt on
// demand (Text); edges are kept sorted.
type AbstractGraph struct {
	vals  *valueTable
	keys  []string
	index map[string]int32
	// Init are the numbers of the initial states.
	Init    []int
	edges   []AbstractEdge
	labels  []string          // action labels by number: an edge holds a label's number
	labelOf map[string]uint32 // and its inverse
	sorted  bool
}

// AbstractEdge is one labelled transition between numbered abstract states; the graph's
// Label names its action. Twelve bytes: MergeAbort's graph has 3.7 million of them.
type AbstractEdge struct {
	From, To int32
	label    uint32
}

func newAbstractGraph(vt *valueTable) *AbstractGraph {
	if vt == nil {
		vt = newValueTable()
	}
	return &AbstractGraph{vals: vt, index: map[string]int32{}, labelOf: map[string]uint32{}}
}

// Label is the action label of edge e of g.
func (g *AbstractGraph) Label(e AbstractEdge) string { return g.labels[e.label] }

func (g *AbstractGraph) intern(key string) int32 {
	if i, ok := g.index[key]; ok {
		return i
	}
	i := int32(len(g.keys))
	g.index[key] = i
	g.keys = append(g.keys, key)
	return i
}

func (g *AbstractGraph) addEdge(from int32, action string, to int32) {
	l, ok := g.labelOf[action]
	if !ok {
		l = uint32(len(g.labels))
		g.labels = append(g.labels, strings.Clone(action))
		g.labelOf[g.labels[l]] = l
	}
	g.edges = append(g.edges, AbstractEdge{From: from, To: to, label: l})
	g.sorted = false
}

func cmpEdge(a, b AbstractEdge) int {
	if a.From != b.From {
		return int(a.From - b.From)
	}
	if a.label != b.label {
		return cmp.Compare(a.label, b.label)
	}
	return int(a.To - b.To)
}

// seal sorts the edges and drops repeats; every reader calls it.
func (g *AbstractGraph) seal() {
	if !g.sorted {
		slices.SortFunc(g.edges, cmpEdge)
		g.edges = slices.Compact(g.edges)
		g.sorted = true
	}
}

// States is the number of states.
func (g *AbstractGraph) States() int { return len(g.keys) }

// Edges returns the labelled edges, sorted by source, label number and target, each once.
func (g *AbstractGraph) Edges() []AbstractEdge {
	g.seal()
	return g.edges
}

// Text is the canonical text of state i (tla.State.String of the parsed state).
func (g *AbstractGraph) Text(i int) string { return g.vals.text(g.keys[i]) }

// lookup returns the number of the state with key k (of g's table).
func (g *AbstractGraph) lookup(k string) (int32, bool) {
	i, ok := g.index[k]
	return i, ok
}

// hasEdge reports whether g has the edge from -action-> to.
func (g *AbstractGraph) hasEdge(from int32, action string, to int32) bool {
	l, ok := g.labelOf[action]
	if !ok {
		return false
	}
	_, ok = slices.BinarySearchFunc(g.Edges(), AbstractEdge{From: from, To: to, label: l}, cmpEdge)
	return ok
}

// successors returns the edges from state from by action.
func (g *AbstractGraph) successors(from int32, action string) []AbstractEdge {
	l, ok := g.labelOf[action]
	if !ok {
		return nil
	}
	es := g.Edges()
	lo, _ := slices.BinarySearchFunc(es, AbstractEdge{From: from, label: l, To: -1 << 31}, cmpEdge)
	hi := lo
	for hi < len(es) && es[hi].From == from && es[hi].label == l {
		hi++
	}
	return es[lo:hi]
}

// canonical is the canonical text of an abstract state: tla.State.String of the parsed state.
func canonical(s SpecState) (string, error) {
	st, err := tla.ParseState(s.String())
	if err != nil {
		return "", fmt.Errorf("conformance: abstract state does not parse: %w", err)
	}
	return st.String(), nil
}

// SimGraph explores the simulator on world w exhaustively (depth first, states cloned: it
// holds one path's clusters, not a level's) and returns the graph of the abstract states
// it reaches, with the search's numbers (concrete states). States outside the spec's StreamBound (w.MaxReq) are
// discarded, as TLC discards states outside a CONSTRAINT. When ctx ends first it stops
// with ctx's cause.
func SimGraph(ctx context.Context, w World, maxStates int) (*AbstractGraph, *Exploration, error) {
	g := newAbstractGraph(nil)
	ex, err := exploreSim(ctx, w, maxStates, depthFirst, g.vals, func(from, action, to string, err error) (bool, error) {
		if err != nil {
			return true, err
		}
		if from == "" {
			g.Init = []int{int(g.intern(to))}
			return false, nil
		}
		g.addEdge(g.intern(from), action, g.intern(to))
		return false, nil
	})
	g.seal()
	if ex != nil {
		ex.Abstract = g.States()
	}
	return g, ex, err
}

// CheckSim explores the simulator on world w and stops at its first step that is not an
// edge of spec (TLC's graph of the same world): a step to a state the spec does not
// reach, a step the spec does not take, or a state the spec's schema cannot express. It
// returns "" when every step of the simulator is a step of the spec. This is the fast half
// of the graph comparison: it needs no complete exploration to catch a divergence.
func CheckSim(spec *AbstractGraph, w World, maxStates int) (string, *Exploration, error) {
	var first string
	text := spec.vals.text              // the search's keys are in spec's table: no translation
	seen := make([]bool, spec.States()) // the spec's states the simulator reached
	abstract := 0
	reached := func(i int32) {
		if !seen[i] {
			seen[i] = true
			abstract++
		}
	}
	ex, err := exploreSim(context.Background(), w, maxStates, breadthFirst, spec.vals, func(from, action, to string, err error) (bool, error) {
		if err != nil {
			if errors.Is(err, ErrNotAbstract) {
				first = fmt.Sprintf("the simulator takes %s to a state the spec cannot express: %v\n  from:\n%s", action, err, indent(text(from)))
				return true, nil
			}
			return true, err
		}
		if from == "" {
			i, ok := spec.lookup(to)
			if !ok {
				first = "the simulator's initial state is not the spec's:\n" + indent(text(to))
				return true, nil
			}
			reached(i)
			return false, nil
		}
		f, known := spec.lookup(from)
		t, ok := spec.lookup(to)
		if ok && spec.hasEdge(f, action, t) {
			reached(t)
			return false, nil
		}
		first = fmt.Sprintf("the simulator takes %s here, the spec has no such step:\n  state:\n%s\n  the simulator's successor differs from the spec's %s successors in:\n%s",
			action, indent(text(from)), action, successorDiff(text(to), spec, f, known, action))
		return true, nil
	})
	if ex != nil {
		ex.Abstract = abstract
	}
	return first, ex, err
}

// exploreSim is the search behind SimGraph and CheckSim: the simulator on world w, with
// the spec's StreamBound, its states keyed in vt.
func exploreSim(ctx context.Context, w World, maxStates int, how order, vt *valueTable, visit visitFunc) (*Exploration, error) {
	return search(ctx, w.Config(), ExploreOptions{MaxStates: maxStates, MaxStream: w.MaxReq}, how, vt, visit)
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
	// Checked is true when TLC's run also checked the config's own invariants and
	// properties (CompareConfig); TLC then holds that run's verdict and witnesses.
	Checked bool
}

// CompareWorld runs TLC (TLCGraph) and the simulator's search (SimGraph) on world w side by
// side, TLC in its own process, and compares the graphs. A simulator state the spec's
// schema cannot express is an error wrapping ErrNotAbstract. When either side fails or ctx
// ends, the other is stopped (TLC killed) before CompareWorld returns.
func CompareWorld(ctx context.Context, specDir string, w World) (*WorldComparison, error) {
	return compareWith(ctx, w, func(ctx context.Context) (*AbstractGraph, tlc.Result, error) {
		return TLCGraph(ctx, specDir, w)
	})
}

// CompareConfig is CompareWorld on the world of the spec/failover config name (a file of
// specDir). When the config checks that world as the comparison explores it
// (ChecksItsWorld: a safety config under StreamBound), TLC's run is the config's own: one
// run checks the config's invariants and properties (a violation is an error naming it)
// and dumps the graph, and WorldComparison.Checked is true. A liveness config's world is
// compared under StreamBound, without its properties.
func CompareConfig(ctx context.Context, specDir, name string) (*WorldComparison, error) {
	path := filepath.Join(specDir, name)
	w, err := WorldFromConfig(path)
	if err != nil {
		return nil, err
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !ChecksItsWorld(string(body)) {
		return CompareWorld(ctx, specDir, w)
	}
	cmp, err := compareWith(ctx, w, func(ctx context.Context) (*AbstractGraph, tlc.Result, error) {
		return configGraph(ctx, specDir, name)
	})
	if cmp != nil {
		cmp.Checked = true
	}
	return cmp, err
}

// compareWith runs specGraph (TLC) and the simulator's search on world w side by side
// and compares the graphs (CompareWorld).
func compareWith(ctx context.Context, w World, specGraph func(context.Context) (*AbstractGraph, tlc.Result, error)) (*WorldComparison, error) {
	both, stop := context.WithCancel(ctx)
	defer stop()
	type tlcOut struct {
		g   *AbstractGraph
		res tlc.Result
		err error
	}
	done := make(chan tlcOut, 1)
	go func() {
		g, res, err := specGraph(both)
		if err != nil {
			stop() // the simulator's graph is of no use now
		}
		done <- tlcOut{g, res, err}
	}()
	impl, ex, simErr := SimGraph(both, w, 0)
	if simErr != nil {
		stop()
	}
	spec := <-done
	if ctx.Err() != nil {
		return nil, fmt.Errorf("conformance: %w", context.Cause(ctx))
	}
	// A side's own failure, not the stop it caused on the other side.
	for _, err := range []error{spec.err, simErr} {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := cmp.Or(spec.err, simErr); err != nil {
		return nil, err
	}
	return &WorldComparison{Diff: CompareGraphs(spec.g, impl), TLC: spec.res, SpecEdges: len(spec.g.Edges()),
		Sim: ex, SimEdges: len(impl.Edges())}, nil
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
	d := GraphDiff{States: spec.States(), Edges: len(spec.Edges())}
	// Only the first mismatch is explained: explaining one scans the other side's edges.
	var first func() string
	// oneWay counts a's edges b lacks. Edges first: a missing edge explains a missing state
	// better than the state alone.
	oneWay := func(a, b *AbstractGraph, says, lacks string) (missing int) {
		tr := newTranslator(a.vals, b.vals)
		for _, e := range a.Edges() {
			from, ok1 := translateState(tr, a, b, e.From)
			to, ok2 := translateState(tr, a, b, e.To)
			action := a.Label(e)
			if ok1 && ok2 && b.hasEdge(from, action, to) {
				continue
			}
			missing++
			if first == nil {
				first = func() string {
					return fmt.Sprintf("%s takes %s here, %s:\n  state:\n%s\n  %s's successor differs from the other's %s successors in:\n%s",
						says, action, lacks, indent(a.Text(int(e.From))), says, action, successorDiff(a.Text(int(e.To)), b, from, ok1, action))
				}
			}
		}
		return missing
	}
	d.OnlySpecEdges = oneWay(spec, impl, "the spec", "the simulator cannot reach that successor")
	d.OnlySimEdges = oneWay(impl, spec, "the simulator", "the spec has no such step")
	states := func(a, b *AbstractGraph) (n int) {
		tr := newTranslator(a.vals, b.vals)
		for i := range a.keys {
			if _, ok := translateState(tr, a, b, int32(i)); !ok {
				n++
			}
		}
		return n
	}
	d.OnlySpecStates, d.OnlySimStates = states(spec, impl), states(impl, spec)
	if first != nil {
		d.First = first()
	}
	return d
}

// translateState returns the number in b of a's state i.
func translateState(tr *translator, a, b *AbstractGraph, i int32) (int32, bool) {
	k, ok := tr.key(a.keys[i])
	if !ok {
		return 0, false
	}
	return b.lookup(k)
}

// successorDiff explains how state want differs from the other graph's successors of
// state from by the same action (variable by variable, against the closest one).
func successorDiff(want string, other *AbstractGraph, from int32, known bool, action string) string {
	if !known {
		return "    (the state itself is not reachable on the other side)"
	}
	ws, err := tla.ParseState(want)
	if err != nil {
		return "    " + err.Error()
	}
	best := ""
	bestN := -1
	for _, e := range other.successors(from, action) {
		gs, err := tla.ParseState(other.Text(int(e.To)))
		if err != nil {
			continue
		}
		var lines []string
		for _, v := range SpecVars {
			if !tla.Equal(ws[v], gs[v]) {
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
