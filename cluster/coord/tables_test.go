package coord

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	ops "github.com/opfsm/opfsm/operators"
)

func TestTables(t *testing.T) {
	e := startEtcd(t)
	c := New(dial(t, e), testCF)
	ctx := testCtx(t, 10*time.Second)

	tables, rev, err := c.Tables(ctx)
	require.NoError(t, err)
	require.Empty(t, tables)
	watch := c.WatchTables(ctx, rev)

	steps := []struct {
		name    string
		do      func() error
		wantErr error
		event   *TableEvent // Rev is filled in
		tables  map[ops.TableID]uint64
	}{
		{"create 1", func() error { return c.CreateTable(ctx, 1, 100) }, nil,
			&TableEvent{Table: 1, Checkpoint: 100, Created: true}, map[ops.TableID]uint64{1: 100}},
		{"create 1 again", func() error { return c.CreateTable(ctx, 1, 200) }, ErrTableExists,
			nil, map[ops.TableID]uint64{1: 100}},
		{"create -7", func() error { return c.CreateTable(ctx, -7, 0) }, nil,
			&TableEvent{Table: -7, Created: true}, map[ops.TableID]uint64{1: 100, -7: 0}},
		{"drop 1", func() error { return c.DropTable(ctx, 1) }, nil,
			&TableEvent{Table: 1}, map[ops.TableID]uint64{-7: 0}},
		{"drop 1 again", func() error { return c.DropTable(ctx, 1) }, ErrNoTable,
			nil, map[ops.TableID]uint64{-7: 0}},
		{"recreate 1", func() error { return c.CreateTable(ctx, 1, 300) }, nil,
			&TableEvent{Table: 1, Checkpoint: 300, Created: true}, map[ops.TableID]uint64{1: 300, -7: 0}},
	}
	last := rev
	for _, s := range steps {
		err := s.do()
		if s.wantErr != nil {
			require.ErrorIs(t, err, s.wantErr, s.name)
		} else {
			require.NoError(t, err, s.name)
		}
		if s.event != nil {
			ev := next(t, watch, 2*time.Second)
			require.Greater(t, ev.Rev, last, s.name)
			last = ev.Rev
			want := *s.event
			want.Rev = ev.Rev
			require.Equal(t, want, ev, s.name)
		}
		tables, _, err := c.Tables(ctx)
		require.NoError(t, err)
		require.Equal(t, s.tables, tables, s.name)
	}
	select {
	case ev := <-watch:
		require.FailNow(t, "unexpected event", "%+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWatchCompacted: a watch after a compacted revision ends with an error event.
func TestWatchCompacted(t *testing.T) {
	e := startEtcd(t)
	cli := dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 10*time.Second)

	_, rev, err := c.Tables(ctx)
	require.NoError(t, err)
	require.NoError(t, c.CreateTable(ctx, 1, 1))
	require.NoError(t, c.CreateTable(ctx, 2, 2))
	_, now, err := c.Tables(ctx)
	require.NoError(t, err)
	_, err = cli.Compact(ctx, now)
	require.NoError(t, err)

	tw := c.WatchTables(ctx, rev)
	ev := next(t, tw, 2*time.Second)
	require.ErrorIs(t, ev.Err, rpctypes.ErrCompacted)
	_, ok := <-tw
	require.False(t, ok, "closed after the error")

	nw := c.WatchNodes(ctx, rev)
	nev := next(t, nw, 2*time.Second)
	require.ErrorIs(t, nev.Err, rpctypes.ErrCompacted)
	_, ok = <-nw
	require.False(t, ok, "closed after the error")
}

// TestWatchEnds: the channel closes when the context ends, and reports a closed client.
func TestWatchEnds(t *testing.T) {
	e := startEtcd(t)
	cli := dial(t, e)
	c := New(cli, testCF)
	ctx := testCtx(t, 10*time.Second)

	wctx, cancel := contextWithCancel(ctx)
	w := c.WatchTables(wctx, 0)
	cancel()
	select {
	case ev, ok := <-w:
		require.False(t, ok, "event %+v", ev)
	case <-time.After(2 * time.Second):
		require.FailNow(t, "not closed")
	}

	w2 := c.WatchNodes(ctx, 0)
	cli.Close()
	ev := next(t, w2, 2*time.Second)
	require.Error(t, ev.Err)
}
