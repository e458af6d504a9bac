package cluster

import (
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// Events is one process's protocol event log: JSON lines, one per event, each naming the
// spec action it is (DMDeliver, MaintainerStatus, ...) in "event", the process in "proc",
// and the epoch and per-stream sequence numbers that order it against other processes'
// events ("epoch", "seq"), with the values the action changed in this process. Nothing
// orders events by wall clock; "ts" is for people. A nil *Events logs nothing.
type Events struct {
	log *zap.Logger
}

// NewEvents returns an event log writing to w for process proc.
func NewEvents(w io.Writer, proc string) *Events {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		MessageKey: "event", TimeKey: "ts", EncodeTime: zapcore.RFC3339NanoTimeEncoder,
		LineEnding: zapcore.DefaultLineEnding, EncodeDuration: zapcore.StringDurationEncoder,
	})
	core := zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.InfoLevel)
	return &Events{log: zap.New(core).With(zap.String("proc", proc))}
}

// OpenEvents creates dir/<proc>.jsonl and returns its event log and the file, which the
// caller closes.
func OpenEvents(dir, proc string) (*Events, *os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, proc+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return NewEvents(f, proc), f, nil
}

// Emit writes one event.
func (e *Events) Emit(event string, fields ...zap.Field) {
	if e != nil {
		e.log.Info(event, fields...)
	}
}

// Sync flushes the log.
func (e *Events) Sync() {
	if e != nil {
		_ = e.log.Sync()
	}
}

// requestFields are the fields that name a request; traced, also its destination node
// ("dest", "" when it has none), which the spec's requests carry.
func requestFields(req protocol.Request, traced bool) []zap.Field {
	f := []zap.Field{zap.Stringer("kind", req.Kind), zap.Uint64("reqEpoch", uint64(req.Epoch))}
	if req.Kind != protocol.Bootstrap {
		f = append(f, zap.String("id", string(req.Record.ID)), zap.Stringer("op", req.Record.Type),
			zap.Stringer("span", req.Record.Span))
		if traced {
			f = append(f, zap.String("dest", string(req.Record.Dest)))
		}
		if len(req.Record.Sources) > 0 {
			f = append(f, zap.Strings("sources", ids(req.Record.Sources)))
		}
	}
	return f
}

// statusArray is a report's statuses as a JSON array of {id, state, checkpoint}.
type statusArray []ops.Status

func (a statusArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, s := range a {
		_ = enc.AppendObject(zapcore.ObjectMarshalerFunc(func(o zapcore.ObjectEncoder) error {
			o.AddString("id", string(s.ID))
			o.AddString("state", s.State.String())
			o.AddUint64("checkpoint", s.Checkpoint)
			return nil
		}))
	}
	return nil
}

// ids are names (dispatcher or node ids) as strings, for the event log.
func ids[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}
