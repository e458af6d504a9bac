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
	"time"

	"github.com/opfsm/opfsm/internal/tla"
	"github.com/opfsm/opfsm/internal/tlc"
)

// TLCCount runs TLC on spec/failover (specDir) with the world's constants and CONSTRAINT
// StreamBound (no invariants) on workers worker threads (0: one), for its distinct-state
// count and time.
func TLCCount(ctx context.Context, specDir string, w World, workers int) (tlc.Result, error) {
	dir, opts, err := prepareWorld(specDir, w)
	if err != nil {
		return tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	opts.Workers = workers
	return runTLC(ctx, opts)
}

// TLCSimulate runs TLC in simulation mode on the config name of the spec in specDir (a
// copy of it, in a temp folder) for d on workers worker threads: random behaviours, each
// state checked against the config's invariants and properties. It is the second opinion
// on a world too large for TLC to check exhaustively.
func TLCSimulate(ctx context.Context, specDir, name string, workers int, d time.Duration) (tlc.Result, error) {
	dir, cfg, err := configCopy("opfsm-graph-", specDir, name)
	if err != nil {
		return tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	return tlc.Simulate(ctx, tlc.Options{Dir: dir, Spec: "Failover", Config: cfg, Workers: workers}, d)
}

// prepareWorld copies the spec into a temp folder (the caller removes it) with a config of
// the world's constants and CONSTRAINT StreamBound.
func prepareWorld(specDir string, w World) (string, tlc.Options, error) {
	dir, err := specCopy("opfsm-graph-", specDir)
	if err != nil {
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

// graphHeap caps the heap of TLC's JVM in TLCGraph. Java's default, a quarter of the
// machine's memory, lets TLC hold 2.7 GB on MergeAbort; with 1 GB it resides in 0.9 GB and
// dumps the same graph in about the same time (142 s against 131 s to a file; 157 s
// through the pipe in opfsm conform). OPFSM_TLC_JAVA_OPTS=-Xmx... overrides it.
const graphHeap = "-Xmx1g"

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
	return dumpGraph(ctx, dir, opts)
}

// ChecksItsWorld reports whether the spec/failover config text cfg checks exactly the
// world the graph comparison explores (INIT Init, NEXT Next, CONSTRAINT StreamBound, no
// fairness), so that one TLC run can check its properties and dump that world's graph. A
// liveness config (SPECIFICATION FairSpec, no constraint) does not.
func ChecksItsWorld(cfg string) bool {
	return slices.Equal(tlc.ConfigNames(cfg, "INIT"), []string{"Init"}) &&
		slices.Equal(tlc.ConfigNames(cfg, "NEXT"), []string{"Next"}) &&
		slices.Equal(tlc.ConfigNames(cfg, "CONSTRAINT", "CONSTRAINTS"), []string{"StreamBound"}) &&
		len(tlc.ConfigNames(cfg, "SPECIFICATION")) == 0
}

// configGraph is TLCGraph on the config name of specDir itself (ChecksItsWorld holds for
// it): the same run checks the config's invariants and properties (a violation is an
// error naming it) and dumps the graph.
func configGraph(ctx context.Context, specDir, name string) (*AbstractGraph, tlc.Result, error) {
	dir, cfg, err := configCopy("opfsm-graph-", specDir, name)
	if err != nil {
		return nil, tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	return dumpGraph(ctx, dir, tlc.Options{Dir: dir, Spec: "Failover", Config: cfg})
}

// dumpGraph runs TLC with opts in dir (a spec copy), dumping the state graph with action
// labels, and reads it.
func dumpGraph(ctx context.Context, dir string, opts tlc.Options) (*AbstractGraph, tlc.Result, error) {
	dot := filepath.Join(dir, "graph.dot") // TLC appends .dot to the name it is given
	opts.Args = []string{"-dump", "dot,actionlabels", filepath.Join(dir, "graph")}
	opts.JVM = append(opts.JVM, graphHeap)
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
	run, kill := context.WithCancel(ctx)
	defer kill()
	tlcDone := make(chan tlcOut, 1)
	go func() {
		res, err := runTLC(run, opts)
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
		if scanErr != nil {
			kill() // the rest of the dump is of no use
		}
		f.Close()
		out := <-tlcDone
		switch {
		case ctx.Err() != nil:
			return nil, out.res, fmt.Errorf("conformance: %w", context.Cause(ctx))
		case out.err != nil && !errors.Is(out.err, context.Canceled): // TLC's own failure explains a truncated dump best
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

// readGraph reads a dot dump into an abstract graph, keeping only each state's key, not
// its parsed form or its text.
func readGraph(r io.Reader) (*AbstractGraph, error) {
	g := newAbstractGraph(nil)
	id := map[int64]int32{}
	var buf []byte
	var edges []tlc.Edge // resolved once every state is defined: an edge may come first
	err := tlc.ScanDot(bufio.NewReaderSize(r, 1<<20), tlc.DotVisitor{
		State: func(fp int64, st tla.State, init bool) error {
			k, err := g.vals.keyOfState(st, buf)
			if err != nil {
				return err
			}
			id[fp] = g.intern(k)
			if init {
				g.Init = append(g.Init, int(id[fp]))
			}
			return nil
		},
		Edge: func(e tlc.Edge) error {
			edges = append(edges, e)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	for _, e := range edges {
		g.addEdge(id[e.From], e.Action, id[e.To])
	}
	g.seal()
	return g, nil
}

// specCopy makes a temporary folder named prefix* holding a copy of the TLA+ modules of
// specDir, for one TLC run; the caller removes it. Nothing is left when it fails.
func specCopy(prefix, specDir string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", err
	}
	if err := copyModules(specDir, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// configCopy is specCopy with the config name of specDir copied beside the modules; it
// returns the folder and the config's file name in it. Nothing is left when it fails.
func configCopy(prefix, specDir, name string) (dir, cfg string, err error) {
	body, err := os.ReadFile(filepath.Join(specDir, name))
	if err != nil {
		return "", "", fmt.Errorf("conformance: %w", err)
	}
	if dir, err = specCopy(prefix, specDir); err != nil {
		return "", "", err
	}
	cfg = filepath.Base(name)
	if err := os.WriteFile(filepath.Join(dir, cfg), body, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("conformance: %w", err)
	}
	return dir, cfg, nil
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
