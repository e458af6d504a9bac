package operators

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTaskTableAgreesWithMap drives the registry with random inserts, lookups and deletes
// (growth, slot reuse and backward-shift deletion included) against a Go map.
func TestTaskTableAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, capacity := range []int{0, 5, 1000} {
		tt := newTaskTable(capacity)
		model := map[DispatcherID]Task{}
		for i := 0; i < 20000; i++ {
			id := DispatcherID("d" + strconv.Itoa(rng.IntN(3000)))
			switch rng.IntN(3) {
			case 0:
				task := Task{ID: id, Span: Span{Table: TableID(i)}, Checkpoint: uint64(i)}
				_, inserted := tt.insert(task)
				_, had := model[id]
				require.Equal(t, !had, inserted, id)
				if !had {
					model[id] = task
				}
			case 1:
				old, removed := tt.remove(id)
				want, had := model[id]
				require.Equal(t, had, removed, id)
				require.Equal(t, want, old)
				delete(model, id)
			default:
				got := tt.get(id)
				want, had := model[id]
				require.Equal(t, had, got != nil, id)
				if had {
					require.Equal(t, want, *got)
				}
			}
			require.Equal(t, len(model), tt.n)
		}
		seen := map[DispatcherID]Task{}
		tt.each(func(task *Task) { seen[task.ID] = *task })
		require.Equal(t, model, seen)
		for id, want := range model {
			require.Equal(t, want, *tt.get(id))
		}
	}
}

// TestAddTasksAgreesWithAddTask: AddTasks gives each task the answer AddTask would, in order,
// duplicates and invalid tasks included, and adds them all or, if any is refused, none.
func TestAddTasksAgreesWithAddTask(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, 500} {
		var ts []Task
		for i := 0; i < n; i++ {
			task := Task{ID: DispatcherID("d" + strconv.Itoa(rng.IntN(n+1))), Span: Span{Table: TableID(i)}, Sched: Replicating, Node: "B"}
			if n == 17 { // all new and valid: added
				ts = append(ts, Task{ID: DispatcherID("u" + strconv.Itoa(i)), Span: Span{Table: TableID(i)}, Sched: Absent})
				continue
			}
			switch rng.IntN(10) {
			case 0:
				task.Node = "" // refused: Replicating without a node
			case 1:
				task.ID = ""
			}
			ts = append(ts, task)
		}
		one, all := NewController(Config{Changefeed: "cf", Epoch: 1}), NewController(Config{Changefeed: "cf", Epoch: 1, Capacity: n})
		require.NoError(t, one.AddTask(Task{ID: "d0", Span: Span{Table: 1}, Sched: Absent}))
		require.NoError(t, all.AddTask(Task{ID: "d0", Span: Span{Table: 1}, Sched: Absent}))
		before := all.Tasks()
		errs := all.AddTasks(ts)
		refused := 0
		for i, task := range ts {
			want := one.AddTask(task)
			if want == nil {
				require.True(t, errs == nil || errs[i] == nil, "task %d", i)
				continue
			}
			refused++
			require.NotNil(t, errs, "task %d", i)
			require.EqualError(t, errs[i], want.Error())
		}
		require.Equal(t, refused == 0, errs == nil)
		if refused == 0 {
			require.Equal(t, one.Tasks(), all.Tasks())
		} else {
			require.Equal(t, before, all.Tasks())
		}
	}
}

// TestPagesPartitionSlots: pageOf lays the slots out page after page with no gap or
// overlap, each page as long as pageLen says, small pages first.
func TestPagesPartitionSlots(t *testing.T) {
	page, off := uint32(0), uint32(0)
	for slot := uint32(0); slot < 5*pageSize; slot++ {
		p, o := pageOf(slot)
		require.Equal(t, page, p, "slot %d", slot)
		require.Equal(t, off, o, "slot %d", slot)
		if off++; int(off) == pageLen(int(page)) {
			page, off = page+1, 0
		}
	}
	require.Equal(t, smallPages+4, int(page), "the small pages hold exactly pageSize slots")
}

// TestTaskTableCloneIsSmallAndIndependent: a clone of a small table copies a few hundred
// bytes of pages (the explorer holds tens of thousands of clones), and neither copy sees the
// other's changes, across small and full pages.
func TestTaskTableCloneIsSmallAndIndependent(t *testing.T) {
	for _, n := range []int{2, 9, 1500} {
		tt := newTaskTable(0)
		for i := 0; i < n; i++ {
			tt.insert(Task{ID: DispatcherID("d" + strconv.Itoa(i)), Checkpoint: uint64(i)})
		}
		d := tt.clone()
		slots := 0
		for _, p := range d.pages {
			slots += len(p)
		}
		require.Less(t, slots, 2*n+16, "n=%d: the clone's pages hold %d slots", n, slots)
		d.get("d1").Checkpoint = 99
		_, ok := d.remove("d0")
		require.True(t, ok)
		d.insert(Task{ID: "new"})
		require.Equal(t, uint64(1), tt.get("d1").Checkpoint)
		require.NotNil(t, tt.get("d0"))
		require.Nil(t, tt.get("new"))
		require.Equal(t, n, tt.n)
		require.Equal(t, n, d.n)
	}
}

// TestTaskTableIndexSize: the index has at least 8 entries and at most 3/4 of them used:
// its size for a capacity, the bits its home positions take, and the insert that doubles
// it.
func TestTaskTableIndexSize(t *testing.T) {
	for _, tc := range []struct{ n, size int }{{0, 8}, {5, 8}, {6, 16}, {11, 16}, {12, 32}, {1000, 2048}} {
		require.Equal(t, tc.size, indexSize(tc.n), "n=%d", tc.n)
	}
	tt := newTaskTable(0)
	require.Len(t, tt.index, 8)
	require.Equal(t, uint(61), tt.shift, "8 entries: a home is the hash's top 3 bits")
	for i := range 6 {
		tt.insert(Task{ID: DispatcherID("d" + strconv.Itoa(i))})
	}
	require.Len(t, tt.index, 8, "6 of 8 used: 3/4, not more")
	tt.insert(Task{ID: "d6"})
	require.Len(t, tt.index, 16)
	require.Equal(t, uint(60), tt.shift)
}

// TestOperatorBitsBeyondTheirWords: deleting a task in a slot whose word of operator bits
// was never allocated (no task there or after it ever had an operator) is fine, and a task
// later added to the slot has no operator.
func TestOperatorBitsBeyondTheirWords(t *testing.T) {
	c := NewController(Config{Changefeed: cf, Epoch: 2})
	for i := range 70 {
		require.NoError(t, c.AddTask(Task{ID: DispatcherID("d" + strconv.Itoa(i)), Span: span(TableID(i+1), "", ""), Sched: Replicating, Node: "B"}))
	}
	require.NoError(t, c.StartMove("d0", "C"))
	require.Len(t, c.tasks.hasOp, 1)
	require.NoError(t, c.DeleteTask("d65"))
	require.NoError(t, c.AddTask(Task{ID: "new", Span: span(500, "", ""), Sched: Replicating, Node: "B"}))
	slot, ok := c.tasks.lookup("new", c.tasks.hash("new"))
	require.True(t, ok)
	require.Equal(t, uint32(65), slot, "the freed slot")
	require.False(t, c.tasks.opAt(slot))
	c.tasks.markOp("new", false)
	require.Len(t, c.tasks.hasOp, 1, "clearing a bit allocates no word")
}
