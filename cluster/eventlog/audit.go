package eventlog

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Finding is a promise of the protocol that a run's logs show broken.
type Finding struct {
	File string
	Line int
	What string
}

// String formats the finding with its place.
func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.What) }

// Audit checks, from each node's own events, that every bootstrap answer it sent carried
// its whole merge journal: a merge the node prepared and had not yet committed or aborted
// is in every answer it gives meanwhile, so a new maintainer resumes it (the protocol's
// answer is the node's journal, not a summary of it). It returns the answers that left
// one out, in log order.
func Audit(run *Run) []Finding {
	var out []Finding
	for _, p := range run.Processes {
		if p.Node == "" {
			continue
		}
		open := map[string]int{} // merge id -> line of its PrepareMerge
		for _, ev := range p.Events {
			switch ev.Action {
			case DMEffect:
				var effect, id string
				_ = json.Unmarshal(ev.Fields["effect"], &effect)
				_ = json.Unmarshal(ev.Fields["id"], &id)
				switch effect {
				case "PrepareMerge":
					open[id] = ev.Line
				case "CommitMerge", "AbortMerge":
					delete(open, id)
				}
			case DMAnswer:
				var merges []string
				_ = json.Unmarshal(ev.Fields["merges"], &merges)
				var missing []string
				for id := range open {
					if !slices.Contains(merges, id) {
						missing = append(missing, id)
					}
				}
				slices.Sort(missing)
				for _, id := range missing {
					out = append(out, Finding{File: p.File, Line: ev.Line,
						What: fmt.Sprintf("bootstrap answer of epoch %d leaves out merge %s, prepared at line %d and neither committed nor aborted", ev.Epoch, id, open[id])})
				}
			}
		}
	}
	return out
}
