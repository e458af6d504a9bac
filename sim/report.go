package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opfsm/opfsm/internal/seeded"
	"github.com/opfsm/opfsm/maintainer"
	"github.com/opfsm/opfsm/recovery"
)

// Bugs are the seeded bugs of the dispatcher manager, named as in spec/README.md; the zero
// value is the correct design. The simulator switches them on in the node cores it runs
// (package node carries them behind an unexported switch).
type Bugs struct {
	// MergeJournalLost: bootstrap answers omit the merge journal (TiCDC 4763).
	MergeJournalLost bool
	// NoEpochFence: requests of any epoch are applied.
	NoEpochFence bool
	// BootstrapNoFence: a stale bootstrap takes the node over.
	BootstrapNoFence bool
	// SweepSkipsPreCommit: closed Preparing/MergeReady dispatchers are never swept (G6).
	SweepSkipsPreCommit bool
	// JournalMissingRemove: a Remove for a missing dispatcher is journaled anyway.
	JournalMissingRemove bool
	// BootstrapKeepsOwner: a node answers a bootstrap but keeps obeying its old owner.
	BootstrapKeepsOwner bool
	// AbortIgnoresMissingTarget: the merge check does not abort a merge whose merged
	// dispatcher is gone.
	AbortIgnoresMissingTarget bool
	// MergeNotJournaled: a node starts a merge without journaling it.
	MergeNotJournaled bool
	// RecoverEarly: a booting maintainer recovers before every live node answered.
	RecoverEarly bool
	// Recovery names a seeded bug of package recovery ("" none), switched on in every
	// maintainer's recovery.
	Recovery string
}

// node returns the dispatcher manager's part.
func (b Bugs) node() seeded.NodeBugs {
	return seeded.NodeBugs{MergeJournalLost: b.MergeJournalLost, NoEpochFence: b.NoEpochFence, BootstrapNoFence: b.BootstrapNoFence,
		SweepSkipsPreCommit: b.SweepSkipsPreCommit, JournalMissingRemove: b.JournalMissingRemove, BootstrapKeepsOwner: b.BootstrapKeepsOwner,
		AbortIgnoresMissingTarget: b.AbortIgnoresMissingTarget, MergeNotJournaled: b.MergeNotJournaled}
}

// maintainer switches the maintainer's seeded bugs on in m, if any.
func (b Bugs) maintainer(m *maintainer.Maintainer) {
	if b.RecoverEarly {
		seeded.SetMaintainerBugs(m, seeded.MaintainerBugs{RecoverEarly: true})
	}
}

// recoveryOptions returns the options that switch the recovery bug on, if any.
func (b Bugs) recoveryOptions() []recovery.Option {
	if b.Recovery == "" {
		return nil
	}
	return []recovery.Option{seeded.RecoveryBug(b.Recovery).(recovery.Option)}
}

// ErrUnknownBug: a seeded-bug name the simulator does not have.
var ErrUnknownBug = errors.New("unknown seeded bug")

// bugNames maps the spec's seeded-bug names to the simulator's switches.
var bugNames = map[string]func(*Bugs){
	"merge_journal_lost":           func(b *Bugs) { b.MergeJournalLost = true },
	"no_epoch_fence":               func(b *Bugs) { b.NoEpochFence = true },
	"bootstrap_no_fence":           func(b *Bugs) { b.BootstrapNoFence = true },
	"sweep_skips_precommit":        func(b *Bugs) { b.SweepSkipsPreCommit = true },
	"journal_missing_remove":       func(b *Bugs) { b.JournalMissingRemove = true },
	"recover_before_all_answers":   func(b *Bugs) { b.RecoverEarly = true },
	"bootstrap_keeps_owner":        func(b *Bugs) { b.BootstrapKeepsOwner = true },
	"abort_ignores_missing_target": func(b *Bugs) { b.AbortIgnoresMissingTarget = true },
	"merge_not_journaled":          func(b *Bugs) { b.MergeNotJournaled = true },
}

// BugNames lists the seeded bugs ParseBug knows, sorted: the dispatcher manager's and
// recovery's.
func BugNames() []string {
	out := make([]string, 0, len(bugNames)+len(seeded.RecoveryBugs))
	for n := range bugNames {
		out = append(out, n)
	}
	out = append(out, seeded.RecoveryBugs...)
	slices.Sort(out)
	return out
}

// ParseBug returns the Bugs with the named seeded bug switched on ("" or "none": none).
func ParseBug(name string) (Bugs, error) {
	var b Bugs
	if name == "" || name == "none" {
		return b, nil
	}
	if slices.Contains(seeded.RecoveryBugs, name) {
		b.Recovery = name
		return b, nil
	}
	set, ok := bugNames[name]
	if !ok {
		return b, fmt.Errorf("%w %q (have %s)", ErrUnknownBug, name, strings.Join(BugNames(), ", "))
	}
	set(&b)
	return b, nil
}

// Replay applies trace to a fresh cluster of cfg, checking the invariants after every step,
// and stops at the first violation; if there is none, the cluster must then settle, as in
// Walk. An action that is not enabled where the trace puts it is an error (ErrNotEnabled
// or ErrNoMessage).
func Replay(cfg Config, trace []Action) (Run, error) {
	c, err := NewCluster(cfg)
	if err != nil {
		return Run{}, err
	}
	var run Run
	for _, a := range trace {
		if err := c.Apply(a); err != nil {
			return run, err
		}
		run.Trace = append(run.Trace, a)
		if err := c.Check(); err != nil {
			run.Violation = err
			return run, nil
		}
	}
	return settle(c, run)
}

// Shrink returns a shortest-found failing run: it drops one random step at a time, from
// the end, keeping every shorter trace that still replays (and settles) to a violation of
// the same property.
func Shrink(cfg Config, run Run) Run {
	var want *Violation
	if !errors.As(run.Violation, &want) {
		return run
	}
	best := run
	for changed := true; changed; {
		changed = false
		for i := len(best.Trace) - 1; i >= 0; i-- {
			cand := slices.Delete(slices.Clone(best.Trace), i, i+1)
			got, err := Replay(cfg, cand)
			var v *Violation
			if err == nil && errors.As(got.Violation, &v) && v.Property == want.Property {
				got.Seed = run.Seed
				best, changed = got, true
			}
		}
	}
	return best
}

// Mermaid renders a run as a Mermaid sequence diagram: the maintainer and the nodes as
// participants, requests and statuses as arrows, everything else as notes.
func Mermaid(cfg Config, run Run) string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n  participant M as maintainer\n")
	for _, n := range cfg.Nodes {
		fmt.Fprintf(&b, "  participant %s\n", n)
	}
	for i, a := range run.Trace {
		switch {
		case a.Name == "DMDeliver" || a.Name == "DMDeliverDup":
			fmt.Fprintf(&b, "  M->>%s: %d. %s\n", a.Node, i+1, a)
		case a.Name == "MaintainerStatus":
			fmt.Fprintf(&b, "  %s->>M: %d. %s\n", a.Node, i+1, a)
		case a.Node != "" && a.Name != "StartMove" && a.Name != "ScheduleAbsent":
			fmt.Fprintf(&b, "  Note over %s: %d. %s\n", a.Node, i+1, a)
		default:
			fmt.Fprintf(&b, "  Note over M: %d. %s\n", i+1, a)
		}
	}
	if len(run.Settle) > 0 {
		fmt.Fprintf(&b, "  Note over M: faults stop, %d fair steps\n", len(run.Settle))
	}
	if run.Violation != nil {
		fmt.Fprintf(&b, "  Note over M: %s\n", strings.ReplaceAll(run.Violation.Error(), ";", ","))
	}
	return b.String()
}
