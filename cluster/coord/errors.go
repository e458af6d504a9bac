package coord

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the package returns wraps one of these (or an etcd
// client error) with %w, so callers test them with errors.Is.
var (
	// ErrStartTimeout: the embedded etcd did not become ready in time.
	ErrStartTimeout = errors.New("embedded etcd not ready in time")
	// ErrUnreachable: Dial could not reach any endpoint within its timeout.
	ErrUnreachable = errors.New("etcd unreachable")
	// ErrInvalidArgument: a name, address or TTL given to the package is unusable.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotLeader: the leadership this call was made under is no longer held.
	ErrNotLeader = errors.New("not the leader")
	// ErrNoLeader: no candidate holds the leadership.
	ErrNoLeader = errors.New("no leader")
	// ErrCheckpointBackwards: a checkpoint lower than the stored one was refused.
	ErrCheckpointBackwards = errors.New("checkpoint would go backwards")
	// ErrTableExists: CreateTable of a table that is already live.
	ErrTableExists = errors.New("table exists")
	// ErrNoTable: DropTable of a table that is not live.
	ErrNoTable = errors.New("table is not live")
	// ErrWatchClosed: a watch ended although its context did not (the client closed).
	ErrWatchClosed = errors.New("watch closed")
	// ErrMalformed: a key or value read from etcd does not decode; the error is a
	// *DataError naming the key.
	ErrMalformed = errors.New("malformed data in etcd")
)

// DataError reports a key or value under the changefeed's prefix that does not decode.
// It matches ErrMalformed with errors.Is.
type DataError struct {
	// Key is the etcd key that is malformed, or whose value is.
	Key string
	// Reason says what is wrong with it.
	Reason string
}

// Error formats the error as "malformed data in etcd: key "K": reason".
func (e *DataError) Error() string {
	return fmt.Sprintf("%v: key %q: %s", ErrMalformed, e.Key, e.Reason)
}

// Is reports whether target is ErrMalformed.
func (e *DataError) Is(target error) bool { return target == ErrMalformed }

// dataErr builds a *DataError for key from a decoding error.
func dataErr(key string, err error) error {
	return &DataError{Key: key, Reason: err.Error()}
}
