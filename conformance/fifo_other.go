//go:build !unix

package conformance

import "errors"

// mkfifo: no named pipes here; TLCGraph falls back to a file.
func mkfifo(string) error { return errors.ErrUnsupported }
