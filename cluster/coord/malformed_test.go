package coord

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ops "github.com/opfsm/opfsm/operators"
)

// TestMalformedData: a bad key or value under the prefix is a *DataError naming the
// key from every read and watch that meets it, never a panic.
func TestMalformedData(t *testing.T) {
	e := startEtcd(t)
	cli := dial(t, e)
	// Each case has a changefeed of its own in the one etcd.
	cf := func(name string) ops.ChangefeedID { return ops.ChangefeedID("cf-" + name) }
	tests := []struct {
		name, key, value string // key below the changefeed prefix
		// which reads meet it
		nodes, tables, checkpoint bool
	}{
		{"table id not a number", "tables/abc", "1", false, true, false},
		{"table id with leading zero", "tables/07", "1", false, true, false},
		{"table id overflows", "tables/9223372036854775808", "1", false, true, false},
		{"empty table id", "tables/", "1", false, true, false},
		{"table checkpoint not a number", "tables/5", "x", false, true, false},
		{"table checkpoint negative", "tables/5", "-1", false, true, false},
		{"node id without incarnation", "nodes/n1", "a", true, false, false},
		{"node id with bad incarnation", "nodes/n1@xyz", "a", true, false, false},
		{"node id with bad name", "nodes/n 1@1f", "a", true, false, false},
		{"node with empty address", "nodes/n1@1f", "", true, false, false},
		{"checkpoint not a number", "checkpoint", "soon", false, false, true},
		{"checkpoint with plus sign", "checkpoint", "+5", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(cli, cf(tt.name))
			tt.key = c.Prefix() + tt.key
			ctx := testCtx(t, 10*time.Second)
			_, _, err := c.State(ctx)
			require.NoError(t, err)
			nodeW := c.WatchNodes(ctx, 0)
			tableW := c.WatchTables(ctx, 0)
			_, err = cli.Put(ctx, tt.key, tt.value)
			require.NoError(t, err)

			isData := func(err error) {
				t.Helper()
				require.ErrorIs(t, err, ErrMalformed)
				var de *DataError
				require.True(t, errors.As(err, &de), "%v", err)
				require.Equal(t, tt.key, de.Key)
				require.Contains(t, err.Error(), tt.key)
			}
			_, _, err = c.State(ctx)
			isData(err)
			short, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, err = c.Campaign(short, "m", 2)
			isData(err)
			_, _, err = c.Leader(ctx)
			require.ErrorIs(t, err, ErrNoLeader, "a failed campaign gives the leadership up")

			_, _, err = c.Nodes(ctx)
			if tt.nodes {
				isData(err)
				isData(next(t, nodeW, 2*time.Second).Err)
			} else {
				require.NoError(t, err)
			}
			_, _, err = c.Tables(ctx)
			if tt.tables {
				isData(err)
				isData(next(t, tableW, 2*time.Second).Err)
			} else {
				require.NoError(t, err)
			}
			_, err = c.Checkpoint(ctx)
			if tt.checkpoint {
				isData(err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}
