package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/opfsm/opfsm/internal/tla"
	"github.com/opfsm/opfsm/internal/tlc"
)

// LogReport is the outcome of checking a cluster run's logs with TLC.
type LogReport struct {
	Entries int
	// Matched counts the entries TLC matched in order; Passed is true when it matched
	// every one and no invariant failed on the way.
	Matched int
	Passed  bool
	// Violated names an invariant that a state of the run broke ("" if none).
	Violated string
	// Failure is the first entry no step of the spec matches (nil when Passed or
	// Violated).
	Failure *LogFailure
	TLC     tlc.Result
}

// LogFailure is the first entry of a log that is not a step of the spec: the entry, and
// what the spec allowed instead: the spec's node row and maintainer variables after the
// same action without the entry's logged values (Allowed empty: the action itself was not
// enabled), and the differences, "name: logged X, spec Y".
type LogFailure struct {
	Index   int // 1-based
	Entry   LogEntry
	Allowed []string
	Diff    []string
}

// String formats the failure for reports.
func (f LogFailure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "entry %d, %s, is not a step of the spec", f.Index, f.Entry)
	switch {
	case len(f.Allowed) == 0:
		b.WriteString(": the spec does not allow that action there")
	case len(f.Diff) > 0:
		b.WriteString(": the spec allowed the action but not what the process logged after it:")
		for _, d := range f.Diff {
			b.WriteString("\n    " + d)
		}
	default:
		b.WriteString(": the spec allowed it, but no state it allowed leads on")
	}
	return b.String()
}

// logInvariants are the safety invariants every state TLC infers for a run must keep.
const logInvariants = "TypeOK NoDuplicateActiveDispatcher MergeOccupiesSources OperatorHasTask SchedulingIsOwned NodeBinding " +
	"DesiredCoverage DroppedStaysDropped MoveOrder MergeCommitRespected RemoveJournalSound"

// Constants is the CONSTANTS block of the TLC config for the run's world: its nodes, its
// epochs (one more than the elections: the nodes' start), and budgets as large as the
// run used.
func (r *LogRun) Constants() string {
	return fmt.Sprintf("CONSTANTS\n    N = %d\n    MaxEpoch = %d\n    MaxLoss = %d\n    MaxDup = 0\n    MaxCrash = %d\n    MaxFail = 0\n    MaxOps = %d\n"+
		"    OpKinds = {\"move\", \"split\", \"merge\", \"drop\"}\n    Layout = \"halves\"\n    MaxReq = 1\n    Bug = \"none\"\n",
		len(r.Nodes), len(r.Epochs)+1, r.Resends, r.Crashes, r.Ops)
}

var (
	reReached = regexp.MustCompile(`<<"reached", (\d+)>>`)
	reAllowed = regexp.MustCompile(`(?s)<<\s*"allowed",.*?>>\s*\n`)
)

// ValidateLogs has TLC check, with LogCheck.tla of spec/failover (in specDir), that the
// run is a behaviour of the spec. When it is not, a second TLC run matches the first
// unmatched entry without its logged values and reports what the spec allowed there.
func ValidateLogs(ctx context.Context, specDir string, r *LogRun) (LogReport, error) {
	rep := LogReport{Entries: len(r.Entries)}
	res, err := checkLog(ctx, specDir, r, 0)
	rep.TLC = res
	if err != nil {
		return rep, err
	}
	for _, m := range reReached.FindAllStringSubmatch(res.Output, -1) {
		if k, _ := strconv.Atoi(m[1]); k-1 > rep.Matched {
			rep.Matched = k - 1
		}
	}
	if res.Violated != "" {
		rep.Violated = res.Violated
		return rep, nil
	}
	if strings.Contains(res.Output, `<<"done">>`) {
		rep.Matched, rep.Passed = len(r.Entries), true
		return rep, nil
	}
	k := rep.Matched + 1
	if k > len(r.Entries) { // every entry matched, yet TLC printed no end: not a verdict
		return rep, fmt.Errorf("conformance: TLC matched all %d entries but did not report the end of the log:\n%s", len(r.Entries), tail(res.Output, 20))
	}
	f := &LogFailure{Index: k, Entry: r.Entries[k-1]}
	rep.Failure = f
	relaxed, err := checkLog(ctx, specDir, r, k)
	if err != nil {
		return rep, err
	}
	if m := reAllowed.FindString(relaxed.Output); m != "" {
		if v, err := tla.ParseValue(strings.TrimSpace(m)); err == nil {
			if seq, ok := v.(tla.Seq); ok && seq.Len() == 3 {
				f.Allowed = []string{seq.At(1).String(), seq.At(2).String()}
				f.Diff = allowedDiff(f.Entry, f.Allowed[0], f.Allowed[1])
			}
		}
	}
	return rep, nil
}

// allowedDiff compares what an entry logged with what the spec allowed (TLC's node row,
// "none" for a maintainer's entry, and maintainer variables), field by field.
func allowedDiff(e LogEntry, row, mv string) []string {
	var out []string
	if e.Row != "" {
		out = append(out, fieldDiff("node "+strconv.Itoa(e.N)+" ", e.Row, row)...)
	}
	if e.MV != "" {
		out = append(out, fieldDiff("maintainer ", e.MV, mv)...)
	}
	return out
}

// fieldDiff compares two TLA+ records field by field, in canonical form, as TLC prints records in an order of its own.
func fieldDiff(prefix, logged, spec string) []string {
	a, b := recordFields(logged), recordFields(spec)
	var out []string
	for _, k := range a.keys {
		if a.vals[k] != b.vals[k] {
			out = append(out, fmt.Sprintf("%s%s: logged %s, spec %s", prefix, k, a.vals[k], b.vals[k]))
		}
	}
	return out
}

type fields struct {
	keys []string
	vals map[string]string
}

// recordFields splits a record's text into its fields, each value in canonical form
// (internal/tla), so values compare whatever order TLC printed them in.
func recordFields(s string) fields {
	f := fields{vals: map[string]string{}}
	v, err := tla.ParseValue(strings.TrimSpace(s))
	if err != nil {
		return f
	}
	r, ok := v.(tla.Record)
	if !ok {
		return f
	}
	for _, fd := range r.Fields() {
		f.keys = append(f.keys, fd.Name)
		f.vals[fd.Name] = fd.Value.String()
	}
	return f
}

// checkLog runs TLC on the log once; relax, if not 0, is the entry matched without its
// logged values.
func checkLog(ctx context.Context, specDir string, r *LogRun, relax int) (tlc.Result, error) {
	dir, err := specCopy("opfsm-logs-", specDir)
	if err != nil {
		return tlc.Result{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "LogData.tla"), []byte(logModule(r, relax)), 0o644); err != nil {
		return tlc.Result{}, err
	}
	cfg := r.Constants() + "INIT LogInit\nNEXT LogNext\nCONSTRAINT Reached Done Allowed\nINVARIANTS " + logInvariants + "\nCHECK_DEADLOCK FALSE\n"
	if err := os.WriteFile(filepath.Join(dir, "LogCheck.cfg"), []byte(cfg), 0o644); err != nil {
		return tlc.Result{}, err
	}
	// Following given steps is no search: even ten thousand steps take as long with the
	// client compiler alone (20.5 s and 20.4 s), which spends far less CPU, hence Quick.
	res, err := tlc.Run(ctx, tlc.Options{Dir: dir, Spec: "LogCheck", Config: "LogCheck.cfg", Quick: true})
	if err != nil {
		return res, err
	}
	if res.Error != "" {
		return res, fmt.Errorf("conformance: TLC failed on the log spec: %s\n%s", res.Summary(), tail(res.Output, 40))
	}
	return res, nil
}

// logModule writes the run as module LogData: Relax and Log, long values as definitions.
func logModule(r *LogRun, relax int) string {
	var log strings.Builder
	defs := newValueDefs()
	or := func(v string) string {
		if v == "" {
			return `"none"`
		}
		return defs.name(v)
	}
	for i, e := range r.Entries {
		sep := ",\n"
		if i == len(r.Entries)-1 {
			sep = "\n"
		}
		fmt.Fprintf(&log, "    [kind |-> %q, n |-> %d, e |-> %d, d |-> %q, dest |-> %d, msg |-> %s, st |-> %s, fixN |-> %s, row |-> %s, fixM |-> %s, mv |-> %s]%s",
			e.Kind, e.N, e.E, e.D, e.Dest, or(e.Msg), or(e.St), boolText(e.Row != ""), or(e.Row), boolText(e.MV != ""), or(e.MV), sep)
	}
	var b strings.Builder
	b.WriteString("----------------------------- MODULE LogData -----------------------------\n")
	b.WriteString("(* Generated by package conformance: a cluster run's protocol steps. *)\n")
	b.WriteString("EXTENDS Sequences\n\n")
	fmt.Fprintf(&b, "Relax == %d\n\n", relax)
	b.WriteString(defs.text.String())
	b.WriteString("\nLog == <<\n")
	b.WriteString(log.String())
	b.WriteString(">>\n")
	b.WriteString("=============================================================================\n")
	return b.String()
}
