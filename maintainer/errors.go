package maintainer

import "errors"

// Sentinel errors; every error this package returns wraps one of them (or an operators or
// protocol error that says more).
var (
	// ErrInvalidConfig means a configuration without changefeed or epoch.
	ErrInvalidConfig = errors.New("invalid maintainer config")
	// ErrWrongChangefeed means an answer or report of another changefeed.
	ErrWrongChangefeed = errors.New("message of another changefeed")
	// ErrStaleEpoch means a bootstrap answer for another maintainer epoch.
	ErrStaleEpoch = errors.New("answer of another maintainer epoch")
	// ErrUnknownNode means a node that is not live (a destination, or an answer's sender).
	ErrUnknownNode = errors.New("node is not live")
	// ErrBooting means a call that needs a running maintainer while it bootstraps.
	ErrBooting = errors.New("maintainer is bootstrapping")
	// ErrNotBooting means a bootstrap step after recovery.
	ErrNotBooting = errors.New("maintainer is not bootstrapping")
	// ErrAwaitingAnswers means Recover before every live node answered.
	ErrAwaitingAnswers = errors.New("waiting for bootstrap answers")
	// ErrTableExists means CreateTable for a table that is live.
	ErrTableExists = errors.New("table exists")
	// ErrUnknownTable means DropTable for a table that is not live.
	ErrUnknownTable = errors.New("table is not live")
)
