package recovery

import (
	"go.uber.org/zap"

	"github.com/opfsm/opfsm/fsm"
)

// Option tunes the controller Recover builds.
type Option func(*options)

type options struct {
	observer fsm.Observer
	logger   *zap.Logger
	bug      string // a seeded bug's name (seeded.go); only the checkers set it
	slow     slowPath
}

// slowPath makes Recover take a plain way where it has a fast one; tests check that both
// ways agree.
type slowPath uint8

const (
	// scanRegistry: adopt scans the registry for the tasks added so far, as it does when a
	// restored operator changed it, instead of using its own list.
	scanRegistry slowPath = 1 << iota
	// scanAccepted: adopt checks every accepted span of a table for overlap, not only the
	// last one of its group and the earlier groups'.
	scanAccepted
	// mapTables: live tables are indexed by a map even when their ids are dense.
	mapTables
	// oneByOne: adopt adds its tasks one AddTask at a time even when it could batch them.
	oneByOne
)

// withSlow switches the slow ways p on.
func withSlow(p slowPath) Option { return func(o *options) { o.slow |= p } }

// WithObserver gives the recovered controller an observer of every operator transition
// (operators.Config.Observer): a zap observer, a trace recorder or an fsm.Counter for
// metrics, or several as fsm.Observers.
func WithObserver(o fsm.Observer) Option { return func(opt *options) { opt.observer = o } }

// WithLogger gives the recovered controller its logger (operators.Config.Logger): operators
// added, finished and refused, never per status.
func WithLogger(l *zap.Logger) Option { return func(opt *options) { opt.logger = l } }
