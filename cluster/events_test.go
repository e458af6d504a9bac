package cluster

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// lines decodes JSON lines, checking that each has a wall clock "ts", which it drops.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	require.True(t, bytes.HasSuffix(b, []byte("\n")), "%q ends with a newline", b)
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &v), "line %q", line)
		ts, ok := v["ts"].(string)
		require.True(t, ok, "line %q has no ts", line)
		_, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err)
		delete(v, "ts")
		out = append(out, v)
	}
	return out
}

// syncBuffer is a buffer that counts Syncs.
type syncBuffer struct {
	bytes.Buffer
	syncs int
}

func (b *syncBuffer) Sync() error {
	b.syncs++
	return nil
}

// TestEvents proves the event log's format: one JSON object per line, naming the event in
// "event" and the process in "proc", with the event's fields; statuses as an array of
// {id, state, checkpoint}; Sync flushing the writer.
func TestEvents(t *testing.T) {
	var buf syncBuffer
	e := NewEvents(&buf, "n1")
	e.Emit("NodeStarted", zap.String("cf", "cf"), zap.String("id", "n1.7"))
	e.Emit("DMSend", zap.Uint64("epoch", 3), zap.Uint64("seq", 12), zap.Array("statuses", statusArray{
		{ID: "d1", State: ops.Working, Checkpoint: 5},
		{ID: "d2", State: ops.Stopped},
	}))
	e.Emit("DMSend", zap.Uint64("epoch", 3), zap.Uint64("seq", 13), zap.Array("statuses", statusArray(nil)))
	require.Equal(t, []map[string]any{
		{"event": "NodeStarted", "proc": "n1", "cf": "cf", "id": "n1.7"},
		{"event": "DMSend", "proc": "n1", "epoch": 3.0, "seq": 12.0, "statuses": []any{
			map[string]any{"id": "d1", "state": "Working", "checkpoint": 5.0},
			map[string]any{"id": "d2", "state": "Stopped", "checkpoint": 0.0},
		}},
		{"event": "DMSend", "proc": "n1", "epoch": 3.0, "seq": 13.0, "statuses": []any{}},
	}, lines(t, buf.Bytes()))
	require.Zero(t, buf.syncs)
	e.Sync()
	require.Equal(t, 1, buf.syncs)
}

// TestNilEvents proves that a nil *Events logs nothing and does not fail.
func TestNilEvents(t *testing.T) {
	var e *Events
	require.NotPanics(t, func() {
		e.Emit("DMDeliver", zap.Uint64("epoch", 1))
		e.Sync()
	})
}

// TestOpenEvents proves that OpenEvents appends to dir/<proc>.jsonl, and fails for a
// directory that does not exist.
func TestOpenEvents(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		e, f, err := OpenEvents(dir, "c1")
		require.NoError(t, err)
		require.Equal(t, filepath.Join(dir, "c1.jsonl"), f.Name())
		e.Emit("Elected", zap.Int("i", i))
		e.Sync()
		require.NoError(t, f.Close())
	}
	b, err := os.ReadFile(filepath.Join(dir, "c1.jsonl"))
	require.NoError(t, err)
	require.Equal(t, []map[string]any{
		{"event": "Elected", "proc": "c1", "i": 0.0},
		{"event": "Elected", "proc": "c1", "i": 1.0},
	}, lines(t, b))

	e, f, err := OpenEvents(filepath.Join(dir, "missing"), "c1")
	require.Error(t, err)
	require.Nil(t, e)
	require.Nil(t, f)
}

// TestRequestFields proves the fields that name a request: its kind and epoch, and but for
// a bootstrap the operator's id, type and span, and a merge's sources; traced, but for a
// bootstrap, its destination too.
func TestRequestFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    protocol.Request
		traced bool
		want   map[string]any
	}{
		{
			name: "bootstrap",
			req:  protocol.Request{Changefeed: cf, Epoch: 4, Kind: protocol.Bootstrap},
			want: map[string]any{"kind": "Bootstrap", "reqEpoch": 4.0},
		},
		{
			name: "create",
			req:  createReq("d1", t1a, 42),
			want: map[string]any{"kind": "Create", "reqEpoch": 1.0, "id": "d1", "op": "add", "span": "1[,k)"},
		},
		{
			name: "remove",
			req:  removeReq("d1", t1b),
			want: map[string]any{"kind": "Remove", "reqEpoch": 1.0, "id": "d1", "op": "remove", "span": "1[k,)"},
		},
		{
			name: "merge",
			req:  mergeReq("m", t1All, "a", "b"),
			want: map[string]any{"kind": "Merge", "reqEpoch": 1.0, "id": "m", "op": "merge", "span": "1[,)", "sources": []any{"a", "b"}},
		},
		{
			name: "traced bootstrap", traced: true,
			req:  protocol.Request{Changefeed: cf, Epoch: 4, Kind: protocol.Bootstrap},
			want: map[string]any{"kind": "Bootstrap", "reqEpoch": 4.0},
		},
		{
			name: "traced create", traced: true,
			req:  createReq("d1", t1a, 42),
			want: map[string]any{"kind": "Create", "reqEpoch": 1.0, "id": "d1", "op": "add", "span": "1[,k)", "dest": "n1"},
		},
		{
			name: "traced remove", traced: true,
			req:  removeReq("d1", t1b),
			want: map[string]any{"kind": "Remove", "reqEpoch": 1.0, "id": "d1", "op": "remove", "span": "1[k,)", "dest": ""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			NewEvents(&buf, "c1").Emit("MaintainerSend", requestFields(tc.req, tc.traced)...)
			tc.want["event"], tc.want["proc"] = "MaintainerSend", "c1"
			require.Equal(t, []map[string]any{tc.want}, lines(t, buf.Bytes()))
		})
	}
}
