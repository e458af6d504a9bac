package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/opfsm/opfsm/cluster"
	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// The chaos run judges the cluster from the processes' own state (their /state pages),
// never from the maintainer's beliefs alone.

var web = &http.Client{Timeout: 2 * time.Second}

func getJSON(ctx context.Context, addr string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/state", nil)
	if err != nil {
		return err
	}
	resp, err := web.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/state: %s", addr, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// nodeState reads a node's own state: its dispatchers and journals.
func nodeState(ctx context.Context, p *proc) (protocol.BootstrapAnswer, error) {
	var a protocol.BootstrapAnswer
	err := getJSON(ctx, p.started.HTTP, &a)
	return a, err
}

func maintainerState(ctx context.Context, p *proc) (cluster.MaintainerState, error) {
	var s cluster.MaintainerState
	err := getJSON(ctx, p.started.HTTP, &s)
	return s, err
}

// active is a dispatcher that serves its keys: Initializing or Working and not closing.
type active struct {
	node ops.NodeID
	d    protocol.Dispatcher
}

func (a active) key() string { return string(a.node) + "/" + string(a.d.ID) }

func activeOf(states []protocol.BootstrapAnswer) []active {
	var out []active
	for _, s := range states {
		for _, d := range s.Dispatchers {
			if (d.State == ops.Initializing || d.State == ops.Working) && !d.Removing {
				out = append(out, active{node: s.Node, d: d})
			}
		}
	}
	return out
}

// duplicates returns the pairs of active dispatchers that share keys, among those active
// in this round and the one before: a round reads nodes one after another, so two
// dispatchers seen in two consecutive rounds were active at one moment (one round ends
// before the next starts), which one round alone does not show (a move closes its origin
// before it creates the destination, between two reads).
func duplicates(prev, cur []active) []string {
	seen := map[string]bool{}
	for _, a := range prev {
		seen[a.key()] = true
	}
	var both []active
	for _, a := range cur {
		if seen[a.key()] {
			both = append(both, a)
		}
	}
	var out []string
	for i := range both {
		for j := i + 1; j < len(both); j++ {
			if both[i].d.Span.Overlaps(both[j].d.Span) {
				out = append(out, fmt.Sprintf("keys served twice: %s %s on %s and %s %s on %s", both[i].d.ID, both[i].d.Span, both[i].node,
					both[j].d.ID, both[j].d.Span, both[j].node))
			}
		}
	}
	return out
}

// behind returns the Working dispatchers of live tables whose checkpoint is below the
// changefeed checkpoint stored before the round: the changefeed claimed progress that a
// span does not have.
func behind(cur []active, live map[ops.TableID]bool, stored uint64) []string {
	var out []string
	for _, a := range cur {
		if a.d.State == ops.Working && live[a.d.Span.Table] && a.d.Checkpoint < stored {
			out = append(out, fmt.Sprintf("checkpoint went backwards: %s %s on %s at %d, the changefeed at %d", a.d.ID, a.d.Span,
				a.node, a.d.Checkpoint, stored))
		}
	}
	return out
}

// converged says why the cluster has not converged, or "" when it has: the leader runs
// with no operator; every live table is tiled exactly once by Working dispatchers that
// are not closing, each with a Replicating task on its node; nothing else runs; no node
// journals anything.
func converged(lead cluster.MaintainerState, states []protocol.BootstrapAnswer, live map[ops.TableID]bool) string {
	if !lead.Elected || lead.Booting {
		return "no maintainer runs"
	}
	for kind, n := range lead.Operators {
		if n > 0 {
			return fmt.Sprintf("the maintainer has %d %s operators", n, kind)
		}
	}
	tasks := map[string]cluster.TaskState{}
	for _, t := range lead.Tasks {
		tasks[t.ID] = t
	}
	spans := map[ops.TableID][]ops.Span{}
	count := 0
	for _, s := range states {
		if len(s.Removes)+len(s.Merges) > 0 {
			return fmt.Sprintf("node %s journals %d removes and %d merges", s.Node, len(s.Removes), len(s.Merges))
		}
		for _, d := range s.Dispatchers {
			if d.State != ops.Working || d.Removing {
				return fmt.Sprintf("dispatcher %s on %s is %s (closing %v)", d.ID, s.Node, d.State, d.Removing)
			}
			if !live[d.Span.Table] {
				return fmt.Sprintf("dispatcher %s on %s serves dropped table %d", d.ID, s.Node, d.Span.Table)
			}
			if t, ok := tasks[string(d.ID)]; !ok || t.Node != string(s.Node) || t.Sched != ops.Replicating.String() {
				return fmt.Sprintf("orphan: dispatcher %s on %s has no Replicating task there", d.ID, s.Node)
			}
			spans[d.Span.Table] = append(spans[d.Span.Table], d.Span)
			count++
		}
	}
	if count != len(lead.Tasks) {
		return fmt.Sprintf("%d tasks but %d dispatchers", len(lead.Tasks), count)
	}
	for t := range live {
		if why := tiles(t, spans[t]); why != "" {
			return why
		}
	}
	return ""
}

// tiles says why spans do not cover table t exactly once, or "".
func tiles(t ops.TableID, spans []ops.Span) string {
	slices.SortFunc(spans, ops.CompareSpans)
	at := ""
	for i, s := range spans {
		if s.Start != at || (i > 0 && at == "") {
			return fmt.Sprintf("table %d is not covered exactly once: %s", t, spanList(spans))
		}
		at = s.End
	}
	if len(spans) == 0 || at != "" {
		return fmt.Sprintf("table %d is not covered exactly once: %s", t, spanList(spans))
	}
	return ""
}

func spanList(spans []ops.Span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = s.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
