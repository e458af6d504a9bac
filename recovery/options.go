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
}

// WithObserver gives the recovered controller an observer of every operator transition
// (operators.Config.Observer): a zap observer, a trace recorder or an fsm.Counter for
// metrics, or several as fsm.Observers.
func WithObserver(o fsm.Observer) Option { return func(opt *options) { opt.observer = o } }

// WithLogger gives the recovered controller its logger (operators.Config.Logger): operators
// added, finished and refused, never per status.
func WithLogger(l *zap.Logger) Option { return func(opt *options) { opt.logger = l } }
