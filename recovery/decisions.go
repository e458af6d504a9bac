package recovery

import (
	"fmt"
	"iter"
	"strings"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Decision explains what recovery did with one dispatcher, span or journal entry. The log
// (Decisions) builds it when asked, and it formats its evidence only when asked, because
// recovery decides once per span and a million spans must not mean a million Sprintf calls.
type Decision struct {
	// Subject is the dispatcher or task id the decision is about.
	Subject ops.DispatcherID
	// Rule is a stable rule name, documented in docs/recovery.md.
	Rule string
	// Node, Span and State are what the deciding report said (zero when not from a report).
	Node  ops.NodeID
	Span  ops.Span
	State ops.ComponentState
	// Detail adds what the fields cannot say.
	Detail string
}

// Evidence formats what made the rule apply.
func (d Decision) Evidence() string {
	var b strings.Builder
	if d.Node != "" {
		fmt.Fprintf(&b, "%s %s on %s", d.Span, d.State, d.Node)
	}
	if d.Detail != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(d.Detail)
	}
	return b.String()
}

// String formats the decision as "subject rule: evidence".
func (d Decision) String() string { return string(d.Subject) + " " + d.Rule + ": " + d.Evidence() }

// Decisions is the log of every rule Recover applied, in the order applied. It stores each
// decision as a 16-byte record without pointers (the rule as a small number, the report it
// was about as an index) and builds the Decision when asked: at a million spans a log of
// full Decision values was 112 MB that the garbage collector had to scan. A decision about
// a report reads the report from the snapshot's dispatcher lists, which the log shares:
// do not change them while you use it.
type Decisions struct {
	entries []entry
	texts   []text                     // what entries not about a report say, and long details
	resps   []protocol.BootstrapAnswer // the accepted answers, which reports are addressed in
}

// entry is one decision: about the report x when x.r >= 0, with a fixed detail or, when
// text >= 0, texts[text].detail; or, when x.r < 0, about texts[text].
type entry struct {
	rule   rule
	detail detail
	x      ref
	text   int32
}

// text is what a decision that is not about one report says, or a report's long detail.
type text struct {
	subject ops.DispatcherID
	span    ops.Span
	detail  string
}

// Len returns the number of decisions.
func (l Decisions) Len() int { return len(l.entries) }

// At returns the i-th decision, 0 <= i < Len().
func (l Decisions) At(i int) Decision {
	e := &l.entries[i]
	if e.x.r < 0 {
		t := &l.texts[e.text]
		return Decision{Subject: t.subject, Rule: ruleNames[e.rule], Span: t.span, Detail: t.detail}
	}
	resp := &l.resps[e.x.r]
	d := &resp.Dispatchers[e.x.i]
	out := Decision{Subject: d.ID, Rule: ruleNames[e.rule], Node: resp.Node, Span: d.Span, State: d.State, Detail: detailNames[e.detail]}
	if e.text >= 0 {
		out.Detail = l.texts[e.text].detail
	}
	return out
}

// All returns an iterator over the decisions, in order.
func (l Decisions) All() iter.Seq[Decision] {
	return func(yield func(Decision) bool) {
		for i := range l.entries {
			if !yield(l.At(i)) {
				return
			}
		}
	}
}

// List returns every decision, in order.
func (l Decisions) List() []Decision {
	out := make([]Decision, len(l.entries))
	for i := range out {
		out[i] = l.At(i)
	}
	return out
}

// addText logs a decision that is not about one report.
func (l *Decisions) addText(id ops.DispatcherID, r rule, span ops.Span, detail string) {
	l.texts = append(l.texts, text{subject: id, span: span, detail: detail})
	l.entries = append(l.entries, entry{rule: r, x: ref{-1, -1}, text: int32(len(l.texts) - 1)})
}

// addReport logs a decision about the report x.
func (l *Decisions) addReport(x ref, r rule, d detail) {
	l.entries = append(l.entries, entry{rule: r, detail: d, x: x, text: -1})
}

// extendLast appends more to the last decision's detail; it must be about a report.
func (l *Decisions) extendLast(more string) {
	e := &l.entries[len(l.entries)-1]
	l.texts = append(l.texts, text{detail: detailNames[e.detail] + more})
	e.text = int32(len(l.texts) - 1)
}

// rule is a rule of docs/recovery.md, logged by number.
type rule uint8

// The rules, named as docs/recovery.md names them.
const (
	ruleAdopt rule = iota
	ruleHole
	ruleJournalSuperseded
	ruleRemoveDone
	ruleRemoveResume
	ruleMergeCommittedPartial
	ruleMergeCommittedSource
	ruleMergeDone
	ruleMergeDoneSource
	ruleMergeResume
	ruleMergeStaleJournal
	ruleNotActive
	ruleDroppedTable
	ruleMoveContinueAddDest
	ruleSplitFinish
	ruleAbortPrecommitTarget
	ruleOverlap
	ruleResumeContested
)

var ruleNames = [...]string{
	ruleAdopt:                 "3.2-adopt",
	ruleHole:                  "3.2-hole",
	ruleJournalSuperseded:     "3.3-journal-superseded",
	ruleRemoveDone:            "3.3-remove-done",
	ruleRemoveResume:          "3.3-remove-resume",
	ruleMergeCommittedPartial: "3.4-merge-committed-partial",
	ruleMergeCommittedSource:  "3.4-merge-committed-source",
	ruleMergeDone:             "3.4-merge-done",
	ruleMergeDoneSource:       "3.4-merge-done-source",
	ruleMergeResume:           "3.4-merge-resume",
	ruleMergeStaleJournal:     "3.4-merge-stale-journal",
	ruleNotActive:             "3.5-not-active",
	ruleDroppedTable:          "C6-dropped-table",
	ruleMoveContinueAddDest:   "G4-move-continue-add-dest",
	ruleSplitFinish:           "G4-split-finish",
	ruleAbortPrecommitTarget:  "G6-abort-precommit-target",
	ruleOverlap:               "G8-overlap",
	ruleResumeContested:       "3.3-resume-contested",
}

// detail is a fixed detail of a decision about a report.
type detail uint8

// The fixed details.
const (
	detailNone detail = iota
	detailClosing
	detailOneShot
	detailRemoveOperator
	detailTempCover
)

var detailNames = [...]string{
	detailNone:           "",
	detailClosing:        "closing",
	detailOneShot:        "one-shot remove (the id is owned elsewhere)",
	detailRemoveOperator: "remove operator without task",
	detailTempCover:      "kept as a task until its remove finishes, then coverage repaired",
}
