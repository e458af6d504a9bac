package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Sentinel errors; every error of this package wraps one of them.
var (
	// ErrNoLogs means a directory without *.jsonl logs.
	ErrNoLogs = errors.New("no event logs")
	// ErrTruncated means a last line without its newline: the log was cut.
	ErrTruncated = errors.New("truncated line")
	// ErrMalformed means a line that is not one JSON object with the fields its action
	// needs.
	ErrMalformed = errors.New("malformed event")
	// ErrUnknownAction means an action this package does not know.
	ErrUnknownAction = errors.New("unknown action")
	// ErrChangefeed means logs of different changefeeds, or a log that does not start by
	// naming its changefeed.
	ErrChangefeed = errors.New("log of another changefeed")
	// ErrOrder means sequence numbers that go backwards on one stream.
	ErrOrder = errors.New("out of order")
	// ErrUnmatched means a receive that no log sent, or that differs from what was sent.
	ErrUnmatched = errors.New("receive without its send")
	// ErrCycle means orders that contradict each other: no merge exists.
	ErrCycle = errors.New("contradictory order")
)

// LineError is a problem at one line of one log.
type LineError struct {
	File string
	Line int
	Err  error
	// Detail says what exactly is wrong.
	Detail string
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v: %s", e.File, e.Line, e.Err, e.Detail)
}

// Unwrap returns the sentinel.
func (e *LineError) Unwrap() error { return e.Err }

func lineErr(file string, line int, err error, format string, args ...any) error {
	return &LineError{File: file, Line: line, Err: err, Detail: fmt.Sprintf(format, args...)}
}

// Event is one line of a process's event log.
type Event struct {
	// File and Line say where it was read (Line counts from 1).
	File string
	Line int
	// Proc is the process that logged it, Action the spec action it is.
	Proc   string
	Action string
	TS     time.Time
	// Epoch and Seq order it on its stream (0 when the action has none); Node is the
	// node a maintainer's send or receive is about.
	Epoch, Seq uint64
	Node       string
	// Fields are every field of the line but event, proc and ts.
	Fields map[string]json.RawMessage
}

// Process is one process's log.
type Process struct {
	File       string
	Proc       string
	Changefeed string
	// Node is a node process's protocol identity (empty for a maintainer).
	Node   string
	Events []Event
}

// ReadDir reads every *.jsonl log in dir, in name order.
func ReadDir(dir string) ([]*Process, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoLogs)
	}
	slices.Sort(files)
	var out []*Process
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		p, err := Read(f, fh)
		_ = fh.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Read reads one process's log from r; file names it in errors.
func Read(file string, r io.Reader) (*Process, error) {
	p := &Process{File: file}
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(b) > 0 {
				return nil, lineErr(file, line, ErrTruncated, "%d bytes without a newline", len(b))
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		ev, err := parse(file, line, bytes.TrimSpace(b))
		if err != nil {
			return nil, err
		}
		if err := p.add(ev); err != nil {
			return nil, err
		}
	}
	if len(p.Events) == 0 {
		return nil, lineErr(file, 1, ErrChangefeed, "an empty log names no changefeed")
	}
	return p, nil
}

// parse decodes one line.
func parse(file string, line int, b []byte) (Event, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Event{}, lineErr(file, line, ErrMalformed, "%v", err)
	}
	ev := Event{File: file, Line: line, Fields: raw}
	str := func(key string, dst *string) error {
		v, ok := raw[key]
		if !ok {
			return lineErr(file, line, ErrMalformed, "no %q", key)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return lineErr(file, line, ErrMalformed, "%q: %v", key, err)
		}
		return nil
	}
	if err := str("event", &ev.Action); err != nil {
		return ev, err
	}
	if err := str("proc", &ev.Proc); err != nil {
		return ev, err
	}
	var ts string
	if err := str("ts", &ts); err != nil {
		return ev, err
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ev, lineErr(file, line, ErrMalformed, "ts: %v", err)
	}
	ev.TS = t
	delete(raw, "event")
	delete(raw, "proc")
	delete(raw, "ts")
	spec, ok := actions[ev.Action]
	if !ok {
		return ev, lineErr(file, line, ErrUnknownAction, "%q", ev.Action)
	}
	num := func(key string, dst *uint64) error {
		v, ok := raw[key]
		if !ok {
			return lineErr(file, line, ErrMalformed, "%s needs %q", ev.Action, key)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return lineErr(file, line, ErrMalformed, "%s %q: %v", ev.Action, key, err)
		}
		return nil
	}
	if spec.epoch {
		if err := num("epoch", &ev.Epoch); err != nil {
			return ev, err
		}
	}
	if spec.seq {
		if err := num("seq", &ev.Seq); err != nil {
			return ev, err
		}
	}
	if spec.node {
		if err := str("node", &ev.Node); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// add appends ev to p, checking that the process and changefeed stay the same.
func (p *Process) add(ev Event) error {
	if len(p.Events) == 0 {
		if actions[ev.Action].role != roleStart {
			return lineErr(p.File, ev.Line, ErrChangefeed, "the log starts with %s, not with a start event naming its changefeed", ev.Action)
		}
		p.Proc = ev.Proc
		if err := json.Unmarshal(ev.Fields["cf"], &p.Changefeed); err != nil || p.Changefeed == "" {
			return lineErr(p.File, ev.Line, ErrChangefeed, "%s names no changefeed", ev.Action)
		}
		if ev.Action == NodeStarted {
			if err := json.Unmarshal(ev.Fields["id"], &p.Node); err != nil || p.Node == "" {
				return lineErr(p.File, ev.Line, ErrMalformed, "%s names no node id", ev.Action)
			}
		}
	} else if ev.Proc != p.Proc {
		return lineErr(p.File, ev.Line, ErrMalformed, "process %q in the log of %q", ev.Proc, p.Proc)
	} else if actions[ev.Action].role == roleStart {
		return lineErr(p.File, ev.Line, ErrMalformed, "a second start event")
	}
	p.Events = append(p.Events, ev)
	return nil
}
