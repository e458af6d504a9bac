package scenario

import ops "github.com/opfsm/opfsm/operators"

// Scenario is a decoded scenario file.
type Scenario struct {
	File    string
	Name    string
	Nodes   []ops.NodeID
	Tables  []ops.TableID
	Spans   []Placement
	Steps   []Step
	Expects []Expect
}

// Placement is one span of the initial layout: dispatcher ID, Working on Node.
type Placement struct {
	ID   ops.DispatcherID
	Span ops.Span
	Node ops.NodeID
	Line int
}

// Expect is the required end state of one table: the spans its tasks cover, each Working
// on the named node (empty: any live node) and, when ID is set, with that dispatcher id.
// Gone: the table has no task and no dispatcher at all.
type Expect struct {
	Line  int
	Table ops.TableID
	Gone  bool
	Spans []ExpectSpan
}

// ExpectSpan is one span an Expect requires.
type ExpectSpan struct {
	Span ops.Span
	Node ops.NodeID
	ID   ops.DispatcherID
}

// created lists the tables the script creates: they do not exist when the cluster starts.
func (s *Scenario) created() map[ops.TableID]bool {
	out := map[ops.TableID]bool{}
	for _, st := range s.Steps {
		if c, ok := st.(CreateStep); ok {
			out[c.Table] = true
		}
	}
	return out
}
