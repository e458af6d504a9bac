package recovery

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// TestSortDispatchers: the radix-sorted view orders dispatchers exactly as sorting them by
// dispatcherCmp does, for short, long, shared-prefix and repeated ids, at every size.
func TestSortDispatchers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	idOf := func() ops.DispatcherID {
		switch rng.IntN(4) {
		case 0:
			return ops.DispatcherID("t" + strconv.Itoa(rng.IntN(50)))
		case 1:
			return ops.DispatcherID("dispatcher-" + strconv.Itoa(rng.IntN(300))) // longer than a prefix
		case 2:
			return ops.DispatcherID(string(rune('a'+rng.IntN(3))) + "\x00" + strconv.Itoa(rng.IntN(5)))
		default:
			return ops.DispatcherID(strconv.FormatUint(rng.Uint64(), 36))
		}
	}
	var scratch []idKey
	for _, n := range []int{0, 1, 2, 63, 64, 65, 500, 3000} {
		for round := 0; round < 5; round++ {
			ds := make([]protocol.Dispatcher, n)
			for i := range ds {
				ds[i] = protocol.Dispatcher{ID: idOf(), Span: ops.Span{Table: ops.TableID(rng.IntN(3)), Start: strconv.Itoa(rng.IntN(3))}, State: ops.ComponentState(rng.IntN(3)), Checkpoint: uint64(rng.IntN(2))}
			}
			want := slices.Clone(ds)
			slices.SortFunc(want, func(a, b protocol.Dispatcher) int { return dispatcherCmp(&a, &b) })
			v := sortDispatchers(ds, &scratch)
			got := make([]protocol.Dispatcher, n)
			for k, i := range v.perm {
				got[k] = ds[i]
				require.Equal(t, ds[i].ID.Prefix(), v.prefix[k])
			}
			require.Equal(t, want, got, "n=%d", n)
		}
	}
}

// TestLookupLongIDs: journal lookups find dispatchers whose ids share their first eight
// bytes, and do not find the ones that are not there.
func TestLookupLongIDs(t *testing.T) {
	var ds []protocol.Dispatcher
	for i := 0; i < 100; i++ {
		ds = append(ds, disp(ops.DispatcherID("dispatcher-"+strconv.Itoa(i)), ops.Span{Table: ops.TableID(i)}, ops.Working))
	}
	rm := func(id string, tb int) ops.Record {
		return ops.Record{Changefeed: cf, ID: ops.DispatcherID(id), Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: 1, Span: ops.Span{Table: ops.TableID(tb)}, Origin: "B"}
	}
	tables := make([]ops.TableID, 101)
	for i := range tables {
		tables[i] = ops.TableID(i)
	}
	res, err := Recover(protocol.Snapshot{Changefeed: cf, Epoch: 2, Tables: tables, Answers: []protocol.BootstrapAnswer{
		withRemoves(resp("B", ds...), rm("dispatcher-57", 57), rm("dispatcher-570", 100)),
	}})
	require.NoError(t, err)
	require.Empty(t, res.Rejected)
	require.True(t, hasRule(res, "3.3-remove-resume"))
	require.True(t, hasRule(res, "3.3-remove-done")) // dispatcher-570 is not reported
	require.Equal(t, []string{"remove dispatcher-57 Running"}, summarize(res).ops)
}

// TestSpanCmpAgreesWithLess: ops.CompareSpans is the order ops.Span.Less defines.
func TestSpanCmpAgreesWithLess(t *testing.T) {
	keys := []string{"", "a", "b", "ab"}
	var spans []ops.Span
	for _, tb := range []ops.TableID{1, 2} {
		for _, s := range keys {
			for _, e := range keys {
				spans = append(spans, ops.Span{Table: tb, Start: s, End: e})
			}
		}
	}
	for _, a := range spans {
		for _, b := range spans {
			want := 0
			if a.Less(b) {
				want = -1
			} else if b.Less(a) {
				want = 1
			}
			if got := ops.CompareSpans(a, b); got != want {
				t.Errorf("ops.CompareSpans(%v, %v) = %d, want %d", a, b, got, want)
			}
		}
	}
}
