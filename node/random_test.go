package node_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/node"
)

// goodMerges are merges (id, span, sources) whose sources tile the span in one of the
// layouts.
var goodMerges = [][]byte{
	{iM, sAll, iA, iB}, {iX, sAll, iA, iB}, {iM, sA, iA, iB}, {iM, sAll, iA, iB, iC}, {iX, sAll, iB, iA},
	{iM, s2All, iC, iX}, {iA, s2All, iC, iX}, {iM, sAll, iM, iX},
}

// genSeq is a random sequence biased towards deep states: mostly requests of the owner's
// epoch, merges of neighbours, and local steps that are enabled.
func genSeq(rng *rand.Rand) []byte {
	out := []byte{byte(rng.IntN(5))}
	owner := byte(1)
	epoch := func() byte {
		if rng.IntN(8) == 0 {
			return byte(rng.IntN(4))
		}
		return owner
	}
	id := func() byte { return byte(rng.IntN(len(fuzzIDs))) }
	for range 20 + rng.IntN(44) {
		switch k := byte(rng.IntN(fopCount + 6)); {
		case k == fopMerge || k >= fopCount && k < fopCount+2:
			if rng.IntN(2) == 0 {
				g := goodMerges[rng.IntN(len(goodMerges))]
				out = append(out, fMerge(g[0], g[1], epoch(), g[2:]...)...)
				break
			}
			srcs := []byte{id(), id()}
			if rng.IntN(3) == 0 {
				srcs = append(srcs, id())
			}
			out = append(out, fMerge(id(), byte(rng.IntN(len(fuzzSpans))), epoch(), srcs...)...)
		case k == fopBootstrap:
			e := owner + byte(rng.IntN(2))
			if rng.IntN(4) == 0 {
				e = byte(rng.IntN(4))
			}
			if e > owner {
				owner = e
			}
			out = append(out, fBootstrap(e)...)
		case k >= fopCount: // an enabled action
			out = append(out, fopEnabled, byte(rng.IntN(256)))
		default:
			out = append(out, k)
			for range 6 {
				out = append(out, byte(rng.IntN(256)))
			}
			if k == fopCreate || k == fopRemove {
				out[len(out)-4] = epoch()
			}
		}
	}
	return out
}

// TestRandomSequences runs the fuzz checker over pseudo-random sequences (a fixed seed),
// so plain go test explores well beyond the seed corpus.
func TestRandomSequences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ok [fopCount]int
	steps := map[node.ActionKind]int{}
	const runs = 1500
	for range runs {
		r := runFuzz(t, genSeq(rng))
		for k, c := range r.ok {
			ok[k] += c
		}
		for k, c := range r.steps {
			steps[node.ActionKind(k)] += c
		}
	}
	t.Logf("%d random sequences; successful operations by kind: %v; enabled steps taken: %v", runs, ok, steps)
	for k := range node.ActionKind(6) {
		require.Positive(t, steps[k], k)
	}
}
