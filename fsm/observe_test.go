package fsm_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opfsm/opfsm/fsm"
)

func TestObservers(t *testing.T) {
	m := newMoveLike(t)
	core, logs := observer.New(zapcore.DebugLevel)
	counter := fsm.NewCounter(m.def)
	var rec fsm.Recorder
	obs := fsm.Observers{fsm.ZapObserver(zap.New(core), zapcore.DebugLevel), counter, &rec, nil}

	st := m.def.Initial()
	_, err := m.def.Fire(&st, m.statusOld, "d7", obs) // ignored: nobody hears it
	require.NoError(t, err)
	_, err = m.def.Fire(&st, m.originStopped, "d7", obs)
	require.NoError(t, err)
	_, err = m.def.Fire(&st, m.destWorking, "d7", obs)
	require.NoError(t, err)

	require.Equal(t, 2, logs.Len())
	first := logs.All()[0].ContextMap()
	require.Equal(t, map[string]any{"machine": "movelike", "id": "d7", "from": "RemoveOrigin", "to": "AddDest", "trigger": "OriginStopped"}, first)
	require.Equal(t, uint64(1), counter.Count(m.def, m.removeOrigin, m.originStopped))
	require.Equal(t, uint64(0), counter.Count(m.def, m.removeOrigin, m.statusOld))
	require.Equal(t, map[string]uint64{
		"movelike: RemoveOrigin --OriginStopped--> AddDest": 1,
		"movelike: AddDest --DestWorking--> DoneSuccess":    1,
	}, counter.Snapshot())
	require.Len(t, rec.Records(), 2)
	rec.Reset()
	require.Empty(t, rec.Records())

	// A disabled logger logs nothing.
	quiet, quietLogs := observer.New(zapcore.InfoLevel)
	st = m.def.Initial()
	_, err = m.def.Fire(&st, m.originStopped, "d8", fsm.ZapObserver(zap.New(quiet), zapcore.DebugLevel))
	require.NoError(t, err)
	require.Zero(t, quietLogs.Len())
}
