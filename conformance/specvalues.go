package conformance

import "fmt"

// The spec's records as TLA+ text, written once for the simulator's abstraction and the
// cluster-log reader: requests, schedule-journal entries, operators, statuses and a
// dispatcher manager's rows.

const (
	noRec        = `[op |-> "", epoch |-> 0, dest |-> 0]`
	noOp         = `[type |-> "", st |-> "", origin |-> 0, dest |-> 0]`
	noResp       = `[ok |-> FALSE, disp |-> [m |-> "none", a |-> "none", b |-> "none"], rem |-> [m |-> FALSE, a |-> FALSE, b |-> FALSE], opJ |-> [m |-> ` + noRec + `, a |-> ` + noRec + `, b |-> ` + noRec + `], mergeJ |-> 0]`
	bootstrapReq = `[type |-> "bootstrap", id |-> "m", op |-> "", dest |-> 0]`
	mergeReq     = `[type |-> "merge", id |-> "m", op |-> "merge", dest |-> 0]`
)

// reqText is a create or remove request (Network.tla's CreateReq, RemoveReq).
func reqText(typ, id, op string, dest int) string {
	return fmt.Sprintf("[type |-> %q, id |-> %q, op |-> %q, dest |-> %d]", typ, id, op, dest)
}

// jrecText is a schedule-journal entry (Schema.tla's JournalEntries).
func jrecText(op string, epoch uint64, dest int) string {
	return fmt.Sprintf("[op |-> %q, epoch |-> %d, dest |-> %d]", op, epoch, dest)
}

// opText is an operator (Schema.tla's Op).
func opText(typ, st string, origin, dest int) string {
	return fmt.Sprintf("[type |-> %q, st |-> %q, origin |-> %d, dest |-> %d]", typ, st, origin, dest)
}

// statusText is a status report (Network.tla's Report).
func statusText(id, st string, epoch uint64) string {
	return fmt.Sprintf("[id |-> %q, st |-> %q, epoch |-> %d]", id, st, epoch)
}

// dmRows are a dispatcher manager's disp, rem and opJ rows from its dispatchers' states,
// removing flags and journal entries by spec id.
func dmRows(states map[string]string, removing map[string]bool, journal map[string]string) (disp, rem, opJ string) {
	return idFunc(func(d string) string { return quoteOr(states[d], "none") }),
		idFunc(func(d string) string { return boolText(removing[d]) }),
		idFunc(func(d string) string { return orText(journal[d], noRec) })
}
