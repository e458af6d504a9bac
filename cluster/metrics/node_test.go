package metrics_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/opfsm/opfsm/cluster/metrics"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

func create(e ops.Epoch, id ops.DispatcherID, span ops.Span) protocol.Request {
	return protocol.Request{Changefeed: cf, Epoch: e, Kind: protocol.Create, Record: ops.Record{
		Changefeed: cf, ID: id, Type: ops.TypeAdd, State: ops.AddRunning, Epoch: e, Span: span, Dest: "B"}}
}

func remove(e ops.Epoch, id ops.DispatcherID, span ops.Span) protocol.Request {
	return protocol.Request{Changefeed: cf, Epoch: e, Kind: protocol.Remove, Record: ops.Record{
		Changefeed: cf, ID: id, Type: ops.TypeRemove, State: ops.RemoveRunning, Epoch: e, Span: span, Origin: "B"}}
}

func merge(e ops.Epoch, id ops.DispatcherID, span ops.Span, sources ...ops.DispatcherID) protocol.Request {
	return protocol.Request{Changefeed: cf, Epoch: e, Kind: protocol.Merge, Record: ops.Record{
		Changefeed: cf, ID: id, Type: ops.TypeMerge, State: ops.MergeRunning, Epoch: e, Span: span, Origin: "B", Sources: sources}}
}

// nodeHost is what a node process does around its core: every request's error goes to
// Refused, every report the transport sends to StatusesSent, and Update after Advance.
type nodeHost struct {
	t    *testing.T
	core *node.Node
	x    *metrics.Node
	sent int // statuses sent, counted by the test
}

func (h *nodeHost) step(req protocol.Request) error {
	err := h.core.Step(req)
	h.x.Refused(err)
	h.flush()
	return err
}

func (h *nodeHost) flush() {
	rd := h.core.Ready()
	for _, r := range rd.Reports {
		h.x.StatusesSent(len(r.Statuses))
		h.sent += len(r.Statuses)
	}
	h.core.Advance()
	h.x.Update(h.core)
}

// TestNode: dispatchers by state (closing ones apart), journal lengths, the owner epoch,
// refusals by reason and the transport's statuses, scraped over HTTP.
func TestNode(t *testing.T) {
	x := metrics.NewNode()
	url := serve(t, x.Handler())
	core, err := node.New(node.Config{Node: "B", Changefeed: cf, Owner: 3})
	require.NoError(t, err)
	h := &nodeHost{t: t, core: core, x: x}

	s := get(t, url)
	require.Equal(t, 0.0, s.value(t, "opfsm_node_owner_epoch"), "before the first Update")
	h.flush()
	s = get(t, url)
	require.Equal(t, 3.0, s.value(t, "opfsm_node_owner_epoch"))
	require.Empty(t, s.nonZero(t, "opfsm_node_dispatchers"))
	for _, state := range []string{"Initializing", "Working", "WaitingMerge", "Preparing", "MergeReady", "Stopped", "Removed", metrics.Closing} {
		require.Equal(t, 0.0, s.value(t, "opfsm_node_dispatchers", "state="+state), "every state is exported")
	}
	for _, reason := range []string{metrics.ReasonFenced, metrics.ReasonOverlap, metrics.ReasonBadMerge, metrics.ReasonOther} {
		require.Equal(t, 0.0, s.value(t, "opfsm_node_requests_refused_total", "reason="+reason), "every reason is exported")
	}

	require.NoError(t, h.step(create(3, "l", left)))
	require.NoError(t, h.step(create(3, "r", right)))
	require.Equal(t, map[string]float64{"state=Initializing": 2}, get(t, url).nonZero(t, "opfsm_node_dispatchers"))
	require.NoError(t, core.Working("l"))
	h.flush()
	require.Equal(t, map[string]float64{"state=Initializing": 1, "state=Working": 1}, get(t, url).nonZero(t, "opfsm_node_dispatchers"))
	require.NoError(t, core.Working("r"))
	h.flush()

	// Refusals, one reason each, and one fenced more.
	var refused *node.RefusedError
	require.ErrorAs(t, h.step(create(2, "x", ops.Span{Table: 2})), &refused)
	require.ErrorIs(t, h.step(remove(4, "l", left)), node.ErrFenced)
	require.ErrorIs(t, h.step(create(3, "y", left)), node.ErrOverlap)
	require.ErrorIs(t, h.step(merge(3, "lr", ops.Span{Table: 1, End: "q"}, "l", "r")), node.ErrBadMerge)
	other := create(3, "z", ops.Span{Table: 2})
	other.Changefeed, other.Record.Changefeed = "other", "other"
	require.ErrorIs(t, h.step(other), node.ErrWrongChangefeed)
	x.Refused(nil)
	x.Refused(fmt.Errorf("wrapped: %w", &node.RefusedError{Err: node.ErrOverlap}))
	s = get(t, url)
	require.Equal(t, map[string]float64{"reason=fenced": 2, "reason=overlap": 2, "reason=bad_merge": 1, "reason=other": 1},
		s.nonZero(t, "opfsm_node_requests_refused_total"))
	require.Equal(t, map[string]float64{"state=Working": 2}, s.nonZero(t, "opfsm_node_dispatchers"), "a refusal changes nothing")

	// A Remove: l is closing, and journaled until it is swept.
	require.NoError(t, h.step(remove(3, "l", left)))
	s = get(t, url)
	require.Equal(t, map[string]float64{"state=Working": 1, "state=closing": 1}, s.nonZero(t, "opfsm_node_dispatchers"))
	require.Equal(t, 1.0, s.value(t, "opfsm_node_remove_journal_entries"))
	require.NoError(t, core.Closed("l", 0))
	h.flush()
	s = get(t, url)
	require.Equal(t, map[string]float64{"state=Working": 1}, s.nonZero(t, "opfsm_node_dispatchers"))
	require.Equal(t, 0.0, s.value(t, "opfsm_node_remove_journal_entries"))

	// A merge: journaled from the Merge request until it is cleaned up.
	require.NoError(t, h.step(create(3, "l2", left)))
	require.NoError(t, core.Working("l2"))
	h.flush()
	require.NoError(t, h.step(merge(3, "lr", whole, "l2", "r")))
	s = get(t, url)
	require.Equal(t, 1.0, s.value(t, "opfsm_node_merge_journal_entries"))
	require.Equal(t, map[string]float64{"state=WaitingMerge": 2, "state=Preparing": 1}, s.nonZero(t, "opfsm_node_dispatchers"))

	// Statuses: what the host's transport sent (every report above) and dropped.
	sent := get(t, url).value(t, "opfsm_node_statuses_total", "outcome=sent")
	require.Equal(t, 4, h.sent, "Working l, Working r, Stopped l, Working l2")
	require.Equal(t, float64(h.sent), sent)
	x.StatusesDropped(2)
	x.StatusesSent(0)
	x.StatusesDropped(-1)
	s = get(t, url)
	require.Equal(t, sent, s.value(t, "opfsm_node_statuses_total", "outcome=sent"))
	require.Equal(t, 2.0, s.value(t, "opfsm_node_statuses_total", "outcome=dropped"))

	x.Update(nil)
	s = get(t, url)
	require.Empty(t, s.nonZero(t, "opfsm_node_dispatchers"))
	require.Equal(t, 0.0, s.value(t, "opfsm_node_owner_epoch"))
	require.Equal(t, 2.0, s.value(t, "opfsm_node_requests_refused_total", "reason=bad_merge")+s.value(t, "opfsm_node_requests_refused_total", "reason=other"),
		"counters outlive the core")
}
