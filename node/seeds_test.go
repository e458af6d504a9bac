package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The seed corpus, built from operations.
func fseq(layout byte, opList ...[]byte) []byte {
	out := []byte{layout}
	for _, o := range opList {
		out = append(out, o...)
	}
	return out
}

func fCreate(id, s, e, ckpt byte) []byte { return []byte{fopCreate, id, s, e, ckpt} }
func fRemove(id, s, e, v byte) []byte    { return []byte{fopRemove, id, s, e, v} }
func fMerge(id, s, e byte, src ...byte) []byte {
	return append([]byte{fopMerge, id, s, e, byte(len(src) - 2)}, src...)
}
func fBootstrap(e byte) []byte            { return []byte{fopBootstrap, e} }
func fLocal(op, id byte) []byte           { return []byte{op, id} }
func fClosed(id, ckpt byte) []byte        { return []byte{fopClosed, id, ckpt} }
func fInvalid(k, v, id, s, e byte) []byte { return []byte{fopInvalid, k, v, id, s, e} }

var fuzzSeeds = [][]byte{
	// A full merge of a and b into m, through its commit, sweeps and journal cleanup.
	fseq(1, fMerge(iM, sAll, 1, iA, iB), fLocal(fopPrepared, iM), fLocal(fopCommit, iM), fClosed(iA, 7), fClosed(iB, 1),
		fLocal(fopWorking, iM), []byte{fopTick}, fLocal(fopCleanup, iM), []byte{fopReady}),
	// A three-way merge aborted by a remove of a source, then the merged dispatcher swept.
	fseq(2, fMerge(iM, sAll, 1, iA, iB, iC), fRemove(iB, sA2, 1, 0), []byte{fopTick}, fClosed(iM, 0), fClosed(iB, 0),
		[]byte{fopReady}),
	// A move-like remove and create: a leaves, x takes its keys, a comes back elsewhere.
	fseq(1, fRemove(iA, sA, 1, 2), fCreate(iX, sA1, 1, 9), fClosed(iA, 3), fCreate(iX, sA1, 1, 9),
		fCreate(iA, s2All, 1, 4), fLocal(fopWorking, iX), fLocal(fopWorking, iA), []byte{fopReady}),
	// Stale epochs: a bootstrap moves the node on, the old maintainer's requests are fenced,
	// an older bootstrap is refused.
	fseq(3, fBootstrap(2), fCreate(iM, s2All, 1, 0), fRemove(iC, s2A, 1, 0), fMerge(iM, sAll, 1, iA, iB),
		fBootstrap(1), fRemove(iC, s2A, 2, 0), fMerge(iM, sAll, 3, iA, iB), fBootstrap(3), []byte{fopReady}),
	// Invalid requests of every kind and variant.
	fseq(1, fInvalid(0, 0, iX, s2All, 1), fInvalid(1, 1, iA, sA, 1), fInvalid(2, 2, iM, sAll, 1), fInvalid(3, 3, iA, sA, 1),
		fInvalid(0, 4, iX, s2All, 1), fInvalid(1, 5, iA, sA, 1), fInvalid(3, 0, iA, sA, 1), fInvalid(3, 4, iA, sA, 1)),
	// A merge that cannot start, a bad merge, a resend and applied actions.
	fseq(2, fMerge(iM, sAll, 1, iA, iC), fMerge(iM, sA, 1, iA, iB), []byte{fopApply, 1, iM}, []byte{fopApply, 2, iM},
		[]byte{fopResend, 1}, []byte{fopApply, 6, iA}, fRemove(iX, s2All, 1, 1), []byte{fopApply, 4, iX}),
}

func FuzzStep(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzz(t, data)
	})
}

// TestFuzzSeeds: the seed corpus runs clean and reaches what it is meant to.
func TestFuzzSeeds(t *testing.T) {
	runs := make([]*fuzzRun, len(fuzzSeeds))
	for i, s := range fuzzSeeds {
		runs[i] = runFuzz(t, s)
		require.Equal(t, len(s), runs[i].pos, "seed %d decodes whole", i)
	}
	// The full merge: m Working at the lowest source checkpoint, nothing journaled.
	require.Equal(t, []protocol.Dispatcher{disp("m", t1All, ops.Working, 3)}, runs[0].n.Dispatchers())
	require.Empty(t, runs[0].n.MergeJournal())
	require.Len(t, runs[0].merges, 1)
	// The aborted merge: its sources back to Working, b and m swept.
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a1, ops.Working, 4), disp("c", t1b, ops.Working, 2),
		disp("x", t2All, ops.Working, 9)}, runs[1].n.Dispatchers())
	require.Empty(t, runs[1].n.MergeJournal())
	// The move-like sequence: x on a's old keys, a in table 2.
	require.Equal(t, []protocol.Dispatcher{disp("a", t2All, ops.Working, 4), disp("b", t1b, ops.Working, 3),
		disp("x", t1a1, ops.Working, 9)}, runs[2].n.Dispatchers())
	require.Len(t, runs[2].removes, 1)
	// Stale epochs: one remove of epoch 2 accepted, the owner 3.
	require.Equal(t, ops.Epoch(3), runs[3].n.Owner())
	require.Equal(t, []ops.Record{removeRec("c", t2a, 2)}, runs[3].removes)
	require.Len(t, runs[3].accepted, 3)
	// Invalid requests change nothing.
	require.Empty(t, runs[4].accepted)
	require.Equal(t, []protocol.Dispatcher{disp("a", t1a, ops.Working, 5), disp("b", t1b, ops.Working, 3)}, runs[4].n.Dispatchers())
	// The bad merge refused, the good one committed, x swept.
	require.Len(t, runs[5].merges, 2)
	_, ok := runs[5].n.Dispatcher("x")
	require.False(t, ok)
	m, _ := runs[5].n.Dispatcher("m")
	require.Equal(t, disp("m", t1a, ops.Initializing, 4), m)
}
