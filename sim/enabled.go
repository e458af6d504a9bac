package sim

import (
	"slices"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/node"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Enabled lists every action that can happen now, in a fixed order.
func (c *Cluster) Enabled() []Action { return c.AppendEnabled(nil) }

// AppendEnabled appends Enabled's list to buf and returns the extended buffer, for a
// caller that reuses one buffer state after state.
func (c *Cluster) AppendEnabled(buf []Action) []Action {
	out := buf
	var names [8]ops.NodeID
	live := c.appendLiveNodes(names[:0])
	lim := c.cfg.Limits
	for _, rq := range c.net.req {
		s := rq.s
		if !c.alive[s.Node] {
			continue
		}
		out = append(out, Action{Name: "DMDeliver", Node: s.Node, Epoch: s.Epoch})
		if c.dup < lim.MaxDup {
			out = append(out, Action{Name: "DMDeliverDup", Node: s.Node, Epoch: s.Epoch})
		}
		if c.loss < lim.MaxLoss {
			for i, r := range rq.q {
				if r.Kind != protocol.Bootstrap {
					out = append(out, Action{Name: "Lose", Node: s.Node, Epoch: s.Epoch, Index: i})
				}
			}
		}
	}
	for _, n := range live {
		for _, a := range c.core(n).Enabled() {
			out = append(out, Action{Name: a.Kind.String(), Node: n, ID: a.ID})
		}
		if c.fail < lim.MaxFail {
			out = c.prepareFailures(n, out)
		}
		if c.cfg.Heartbeat {
			out = append(out, Action{Name: "DMHeartbeat", Node: n})
		}
	}
	if c.Epoch() < lim.MaxEpoch {
		out = append(out, Action{Name: "MaintainerCrash"})
	}
	if c.crash < lim.MaxCrash && len(live) > 1 {
		for _, n := range live {
			out = append(out, Action{Name: "NodeCrash", Node: n})
		}
	}
	if c.m.Booting() {
		if c.m.Recoverable() {
			out = append(out, Action{Name: "Recover"})
		}
		return out
	}
	for _, n := range live {
		if len(c.net.statuses(n)) > 0 {
			out = append(out, Action{Name: "MaintainerStatus", Node: n})
		}
	}
	c.m.EachOutstanding(func(msg maintainer.Message) {
		if c.alive[msg.To] && !c.net.InFlight(Stream{msg.To, c.Epoch()}, msg.Request) &&
			!c.net.AnswerPending(msg.To, c.Epoch()) {
			out = append(out, Action{Name: "Resend", ID: msg.Request.Record.ID})
		}
	})
	c.schedulerActions(live, &out)
	return out
}

func (c *Cluster) schedulerActions(live []ops.NodeID, out *[]Action) {
	ctrl := c.m.Controller()
	var tasks []ops.Task
	if c.opsLeft > 0 {
		tasks = ctrl.Tasks()
	} else {
		// Only Absent tasks can be scheduled now: the few of them, in the same id order.
		ctrl.EachTask(func(t ops.Task) {
			if t.Sched == ops.Absent {
				tasks = append(tasks, t)
			}
		})
		slices.SortFunc(tasks, func(a, b ops.Task) int { return strings.Compare(string(a.ID), string(b.ID)) })
	}
	for _, t := range tasks {
		if _, busy := ctrl.Operator(t.ID); busy {
			continue
		}
		if t.Sched == ops.Absent {
			for _, n := range live {
				*out = append(*out, Action{Name: "ScheduleAbsent", ID: t.ID, Node: n})
			}
		}
		if t.Sched == ops.Replicating && c.opsLeft > 0 {
			for _, n := range live {
				if n != t.Node && c.kind("move") {
					*out = append(*out, Action{Name: "StartMove", ID: t.ID, Node: n})
				}
			}
			if c.kind("split") {
				*out = append(*out, c.splits(t)...)
			}
			if c.kind("remove") {
				*out = append(*out, Action{Name: "StartRemove", ID: t.ID})
			}
		}
	}
	if c.opsLeft <= 0 {
		return
	}
	// Merge candidates in key order: Adjacent is directed (left span first), and ids need
	// not sort as their spans do (recovery names a hole t<table>-e<epoch>-<start>).
	bySpan := slices.Clone(tasks)
	slices.SortFunc(bySpan, func(x, y ops.Task) int { return ops.CompareSpans(x.Span, y.Span) })
	for i, a := range bySpan {
		for _, b := range bySpan[i+1:] {
			if c.kind("merge") && c.mergeable(a, b) {
				*out = append(*out, Action{Name: "StartMerge", IDs: []ops.DispatcherID{a.ID, b.ID}})
			}
		}
	}
	for _, t := range c.tables {
		if c.kind("drop") {
			*out = append(*out, Action{Name: "DropTable", Table: t})
		}
	}
	if c.kind("create") {
		for _, t := range c.cfg.NewTables {
			if _, gone := c.dropped[t]; !gone && !slices.Contains(c.tables, t) {
				*out = append(*out, Action{Name: "CreateTable", Table: t, ID: NewTableTask(t)})
			}
		}
	}
}

// NewTableTask names the task a "create" operation adds for table t.
func NewTableTask(t ops.TableID) ops.DispatcherID {
	return ops.DispatcherID("t" + strconv.FormatInt(int64(t), 10))
}

// kind reports whether the scheduler may start operations of kind k.
func (c *Cluster) kind(k string) bool {
	if c.cfg.OpKinds == nil {
		return slices.Contains(SpecOpKinds, k)
	}
	return slices.Contains(c.cfg.OpKinds, k)
}

// splits lists the StartSplit actions for task t: at SplitKey, or at each configured
// split key inside its span.
func (c *Cluster) splits(t ops.Task) []Action {
	if c.cfg.SplitKeys == nil {
		if _, ok := SplitKey(t.Span); ok {
			return []Action{{Name: "StartSplit", ID: t.ID}}
		}
		return nil
	}
	var out []Action
	for _, k := range c.cfg.SplitKeys {
		if _, ok := cut(t.Span, k); ok {
			out = append(out, Action{Name: "StartSplit", ID: t.ID, Key: k})
		}
	}
	return out
}

// mergeable reports whether the scheduler may merge a and b: the cheap geometric checks
// first, the controller's lookups only for the few pairs that pass them.
func (c *Cluster) mergeable(a, b ops.Task) bool {
	if a.Sched != ops.Replicating || b.Sched != ops.Replicating || a.Node != b.Node || !a.Span.Adjacent(b.Span) {
		return false
	}
	ctrl := c.m.Controller()
	_, opA := ctrl.Operator(a.ID)
	_, opB := ctrl.Operator(b.ID)
	_, taken := ctrl.Task(mergedID(a.ID, b.ID))
	_, busy := ctrl.Operator(mergedID(a.ID, b.ID))
	return !opA && !opB && !taken && !busy
}

// SplitKey is the key at which the simulator's scheduler splits span s: the first of
// Start+"m", Start+"g", Start+"0" that lies strictly inside s. ok is false when none does.
func SplitKey(s ops.Span) (key string, ok bool) {
	for _, k := range []string{s.Start + "m", s.Start + "g", s.Start + "0"} {
		if s.Start < k && (s.End == "" || k < s.End) {
			return k, true
		}
	}
	return "", false
}

// Halves cuts s at SplitKey(s) into two adjacent spans that tile it.
func Halves(s ops.Span) ([]ops.Span, bool) {
	k, ok := SplitKey(s)
	if !ok {
		return nil, false
	}
	return cut(s, k)
}

// cut cuts s at key k, which must lie strictly inside s.
func cut(s ops.Span, k string) ([]ops.Span, bool) {
	if k <= s.Start || (s.End != "" && k >= s.End) {
		return nil, false
	}
	return []ops.Span{{Table: s.Table, Start: s.Start, End: k}, {Table: s.Table, Start: k, End: s.End}}, true
}

// mergedID names the dispatcher a merge of a and b creates, the same in every run.
func mergedID(a, b ops.DispatcherID) ops.DispatcherID { return a + "+" + b }

// prepareFailures appends a DMPrepareFail for every merged dispatcher of node n that may
// fail now (pre-commit, not closing), by id.
func (c *Cluster) prepareFailures(n ops.NodeID, out []Action) []Action {
	first := len(out)
	c.core(n).EachDispatcher(func(d protocol.Dispatcher) {
		if node.CanFailPrepare(d) {
			out = append(out, Action{Name: "DMPrepareFail", Node: n, ID: d.ID})
		}
	})
	slices.SortFunc(out[first:], func(a, b Action) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}
