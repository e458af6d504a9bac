package operators

import (
	"fmt"

	"github.com/opfsm/opfsm/fsm"
)

func fsmState(i int) fsm.State       { return fsm.State(i) }
func fsmTrigger(i uint8) fsm.Trigger { return fsm.Trigger(i) }

// recorder collects transitions as "machine id From->To".
type recorder struct{ seen []string }

func (r *recorder) Observe(t fsm.Transition) {
	r.seen = append(r.seen, fmt.Sprintf("%s %s %s->%s", t.Def.Name(), t.ID, t.FromName(), t.ToName()))
}
