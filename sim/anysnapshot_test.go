package sim

import (
	"encoding/binary"
	"fmt"
	"github.com/opfsm/opfsm/fsm"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The any-snapshot property: whatever the nodes hold and whatever the snapshot a new
// maintainer gathers says (reachable or not), once it recovered and the cluster runs
// fairly with no faults, no key is ever served by a pair of active dispatchers that the
// nodes did not already hold (actively, or as a waiting merge source or a pre-commit
// merged dispatcher, which act on their own), and the cluster converges: operators
// finished, every live table covered once by Working dispatchers, no orphan, no journal
// left. Answers may repeat, come from another epoch besides the real one, carry journal
// entries for dispatchers they do not report, lose their remove journal; they do not lose
// a merge journal the node has (that is TiCDC 4763, which no recovery can make safe).

var anyNodes = []ops.NodeID{"A", "B", "C"}

// bounds cut a table into four pieces: [,c) [c,f) [f,k) [k,).
var bounds = []string{"", "c", "f", "k", ""}

func piece(t ops.TableID, i, j int) ops.Span {
	return ops.Span{Table: t, Start: bounds[i], End: bounds[j]}
}

// anyGen draws arbitrary node states and the snapshot a new maintainer of epoch 3 gathers
// from them.
type anyGen struct {
	rng *rand.Rand
}

func (g anyGen) intn(n int) int { return g.rng.IntN(n) }

func (g anyGen) chance(p float64) bool { return g.rng.Float64() < p }

func (g anyGen) span(t ops.TableID) ops.Span {
	i := g.intn(4)
	return piece(t, i, i+1+g.intn(4-i))
}

func (g anyGen) table() ops.TableID { return []ops.TableID{1, 1, 2, 9}[g.intn(4)] } // 9 is dropped

func (g anyGen) record(id ops.DispatcherID, typ ops.Type, sp ops.Span, origin ops.NodeID) ops.Record {
	r := ops.Record{Changefeed: cf, ID: id, Type: typ, State: startState(typ), Epoch: ops.Epoch(1 + g.intn(3)), Span: sp, Origin: origin,
		Checkpoint: uint64(g.intn(50))}
	switch typ {
	case ops.TypeMove:
		r.Dest = anyNodes[g.intn(len(anyNodes))]
	case ops.TypeRemove:
		r.Hook = ops.RemoveHook(g.intn(3))
	}
	return r
}

// startState is the state a journaled operator of type typ is in: the first of its machine.
func startState(typ ops.Type) fsm.State {
	def, err := ops.Definition(typ)
	if err != nil {
		panic(err)
	}
	return def.Initial()
}

// group is what one history left on a node: dispatchers and journal entries.
type group struct {
	ds      []protocol.Dispatcher
	removes []ops.Record
	merges  []ops.Record
}

func (g anyGen) plain(n ops.NodeID, id ops.DispatcherID) group {
	t := g.table()
	d := protocol.Dispatcher{ID: id, Span: g.span(t), State: []ops.ComponentState{ops.Working, ops.Initializing}[g.intn(2)],
		Removing: g.chance(0.3), Checkpoint: uint64(20 + g.intn(50))}
	gr := group{ds: []protocol.Dispatcher{d}}
	if d.Removing && g.chance(0.7) {
		typ := []ops.Type{ops.TypeRemove, ops.TypeMove, ops.TypeMove}[g.intn(3)]
		rec := g.record(id, typ, d.Span, n)
		rec.Checkpoint = min(rec.Checkpoint, d.Checkpoint) // an operator's checkpoint is one its dispatcher reached
		gr.removes = append(gr.removes, rec)
	}
	return gr
}

func (g anyGen) merge(n ops.NodeID, ids []ops.DispatcherID) group {
	t := ops.TableID(1 + g.intn(2))
	lo, k := g.intn(3), 2+g.intn(2)
	if lo+k > 4 {
		k = 4 - lo
	}
	var gr group
	var sources []ops.DispatcherID
	for i := 0; i < k; i++ {
		if k > 2 && i == 1 && g.chance(0.15) {
			continue // a gap between the sources
		}
		st := ops.WaitingMerge
		if g.chance(0.15) {
			st = ops.Working // the merge aborted, or never started there
		}
		gr.ds = append(gr.ds, protocol.Dispatcher{ID: ids[i], Span: piece(t, lo+i, lo+i+1), State: st, Removing: g.chance(0.2),
			Checkpoint: uint64(20 + g.intn(50))})
		sources = append(sources, ids[i])
	}
	target := piece(t, lo, lo+k)
	tid := ids[3]
	if g.chance(0.85) {
		st := []ops.ComponentState{ops.Preparing, ops.MergeReady, ops.Initializing, ops.Working}[g.intn(4)]
		gr.ds = append(gr.ds, protocol.Dispatcher{ID: tid, Span: target, State: st, Removing: g.chance(0.2), Checkpoint: 20})
	}
	if g.chance(0.85) {
		rec := g.record(tid, ops.TypeMerge, target, n)
		rec.Sources = slices.Clone(sources)
		rec.Checkpoint = 20
		switch {
		case g.chance(0.1):
			rec.Sources = append(rec.Sources, "dx") // a source the node never had
		case g.chance(0.1) && len(rec.Sources) > 2:
			rec.Sources = rec.Sources[:2]
		}
		if len(rec.Sources) >= 2 {
			gr.merges = append(gr.merges, rec)
		}
	}
	return gr
}

// fits reports whether a node could hold st.
func fits(st protocol.BootstrapAnswer) bool {
	nd, err := node.New(node.Config{Node: st.Node, Changefeed: cf})
	return err == nil && nd.Restore(st) == nil
}

// draw returns the nodes' states and the snapshot. A dispatcher id names one span
// everywhere: the same id on two nodes is one span's dispatcher twice (a move's origin
// and destination, say), never two spans.
func (g anyGen) draw() (states []protocol.BootstrapAnswer, snap protocol.Snapshot) {
	snap = protocol.Snapshot{Changefeed: cf, Epoch: 3, Checkpoint: 10, Tables: []ops.TableID{1, 2}}
	var placed []protocol.Dispatcher
	for i, n := range anyNodes {
		st := protocol.BootstrapAnswer{Node: n, Changefeed: cf, Epoch: 3}
		var ids []ops.DispatcherID
		for j := range 8 {
			ids = append(ids, ops.DispatcherID(fmt.Sprintf("d%d%d", i, j)))
		}
		for k := g.intn(4); k > 0 && len(ids) >= 4; k-- {
			var gr group
			switch {
			case len(placed) > 0 && g.chance(0.3):
				d := placed[g.intn(len(placed))] // another node's dispatcher, here too
				d.State, d.Removing, d.Checkpoint = []ops.ComponentState{ops.Working, ops.Initializing}[g.intn(2)], g.chance(0.5), uint64(20+g.intn(50))
				gr = group{ds: []protocol.Dispatcher{d}}
			case g.chance(0.35):
				gr, ids = g.merge(n, ids[:4]), ids[4:]
			default:
				gr, ids = g.plain(n, ids[0]), ids[1:]
			}
			try := st
			try.Dispatchers = slices.Concat(st.Dispatchers, gr.ds)
			try.Removes = slices.Concat(st.Removes, gr.removes)
			try.Merges = slices.Concat(st.Merges, gr.merges)
			if fits(try) {
				st = try
			}
		}
		states = append(states, st)
		placed = append(placed, st.Dispatchers...)
		// The answer the node gave, or what a snapshot got of it.
		a := st
		a.Dispatchers, a.Removes, a.Merges = slices.Clone(st.Dispatchers), slices.Clone(st.Removes), slices.Clone(st.Merges)
		switch {
		case g.chance(0.08):
			a.Removes = nil // a remove journal cut short (a lost merge journal is TiCDC 4763: no recovery can help)
		case g.chance(0.08):
			a.Removes = append(a.Removes, g.record(ops.DispatcherID(fmt.Sprintf("d%d%d", i, g.intn(8))), ops.TypeRemove, g.span(1), n)) // for a dispatcher it may not have
		case g.chance(0.04):
			// A stale or future answer besides the real one: the fence drops it. (Without
			// the real one the maintainer would wait: recovery needs every live node's.)
			stale := a
			stale.Epoch = ops.Epoch(2 + 2*g.intn(2))
			stale.Dispatchers = nil
			snap.Answers = append(snap.Answers, stale)
		}
		snap.Answers = append(snap.Answers, a)
	}
	return states, snap
}

var anyCfg = Config{Changefeed: cf, Nodes: anyNodes, Tables: []ops.TableID{1, 2}, Heartbeat: true}

// checkAny runs the property on the snapshot drawn from seed, with bugs switched on, and
// returns how many steps the cluster took to converge.
func checkAny(seed uint64, bugs Bugs) (int, error) {
	states, snap := anyGen{rng: rand.New(rand.NewPCG(seed, 0xa11))}.draw()
	cfg := anyCfg
	cfg.Bugs = bugs
	c, err := Recovered(cfg, snap, states)
	if err != nil {
		return 0, fmt.Errorf("seed %d: %w", seed, err)
	}
	trace, err := c.SettleAfterRecovery(SettleSteps)
	if err != nil {
		return len(trace), fmt.Errorf("seed %d, after %d steps (%v): %w\nstates %+v\nsnapshot %+v", seed, len(trace), lastSteps(trace, 8), err, states, snap)
	}
	return len(trace), nil
}

func lastSteps(trace []Action, n int) []Action { return trace[max(0, len(trace)-n):] }

// anySnapshots is how many snapshots TestAnySnapshot checks: 2,000, or OPFSM_SNAPSHOTS
// (make check-deep runs a million).
func anySnapshots(t *testing.T) int {
	if v := os.Getenv("OPFSM_SNAPSHOTS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "OPFSM_SNAPSHOTS")
		return n
	}
	return 2000
}

// TestAnySnapshot: recovery is safe and live on arbitrary snapshots.
func TestAnySnapshot(t *testing.T) {
	n := anySnapshots(t)
	start, steps := time.Now(), 0
	for seed := uint64(0); seed < uint64(n); seed++ {
		k, err := checkAny(seed, Bugs{})
		require.NoError(t, err)
		steps += k
	}
	t.Logf("%d snapshots recovered safely and converged in %d steps, %s", n, steps, time.Since(start).Round(time.Millisecond))
}

// TestAnySnapshotCatchesSeededBugs: the property fails with each of recovery's seeded bugs
// (the fixes of A-C reverted among them), on the promise that bug breaks.
func TestAnySnapshotCatchesSeededBugs(t *testing.T) {
	for _, tc := range []struct{ bug, property string }{
		{"overlap_loser_uncovered", "NoDuplicateActiveDispatcher"},
		{"merge_geometry_unchecked", "Converge"},
		{"removing_source_is_evidence", "Converge"},
		{"precommit_target_adopted", "CheckpointSafety"},
		{"dropped_table_adopted", "Converge"},
		{"resume_contested", "NoDuplicateActiveDispatcher"},
		{"strays_unlisted", "NoDuplicateActiveDispatcher"},
	} {
		t.Run(tc.bug, func(t *testing.T) {
			for seed := uint64(0); seed < 10000; seed++ {
				if _, err := checkAny(seed, Bugs{Recovery: tc.bug}); err != nil {
					var v *Violation
					require.ErrorAs(t, err, &v)
					require.Equal(t, tc.property, v.Property, "%.600s", err)
					t.Logf("caught at snapshot %d: %.300s", seed, err)
					return
				}
			}
			t.Fatalf("%s: 10,000 snapshots and no violation", tc.bug)
		})
	}
}

// FuzzAnySnapshot draws the snapshot from the fuzzer's bytes.
func FuzzAnySnapshot(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 42} {
		f.Add(binary.LittleEndian.AppendUint64(nil, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		if _, err := checkAny(binary.LittleEndian.Uint64(data), Bugs{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRecoveredRefusesBadInput: a state for a node the cluster does not have, a state no
// node could hold, or a snapshot of another changefeed is refused with ErrBadConfig.
func TestRecoveredRefusesBadInput(t *testing.T) {
	snap := protocol.Snapshot{Changefeed: cf, Epoch: 3, Tables: []ops.TableID{1}}
	for name, tc := range map[string]struct {
		snap   protocol.Snapshot
		states []protocol.BootstrapAnswer
	}{
		"unknown node": {snap, []protocol.BootstrapAnswer{{Node: "Z", Changefeed: cf}}},
		"bad state": {snap, []protocol.BootstrapAnswer{{Node: "A", Changefeed: cf,
			Dispatchers: []protocol.Dispatcher{{ID: "d", Span: piece(1, 0, 4), State: ops.Stopped}}}}},
		"other changefeed": {protocol.Snapshot{Changefeed: "other", Epoch: 3}, nil},
		"no epoch":         {protocol.Snapshot{Changefeed: cf}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Recovered(anyCfg, tc.snap, tc.states)
			require.ErrorIs(t, err, ErrBadConfig)
		})
	}
}
