package transport

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	ops "github.com/opfsm/opfsm/operators"
)

// observed is a logger that keeps every entry, debug included, for the test to read.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// TestReconnectBackoff: a Client whose sessions a node keeps refusing reopens them after
// a backoff that starts at minBackoff and doubles, each wait between half and all of its
// delay; it warns of the first failure and logs the next ones at debug level with their
// count.
func TestReconnectBackoff(t *testing.T) {
	srvLog, srvLogs := observed()
	srv := NewServer("other-cf", &nodeRec{}, srvLog) // refuses every session of testCF
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Stop()
		require.NoError(t, <-served)
	})

	cliLog, cliLogs := observed()
	c := NewClient(testCF, 1, "m", &maintRec{}, cliLog)
	t.Cleanup(c.Close)
	c.SetNode("A", l.Addr().String())

	// Five refusals: the waits between them follow delays of 50, 100, 200 and 400 ms.
	refused := func() []observer.LoggedEntry { return srvLogs.FilterMessage("session refused").All() }
	require.Eventually(t, func() bool { return len(refused()) >= 5 }, waitFor, 5*time.Millisecond)
	c.Close()
	at := refused()
	var total time.Duration
	for i, delay := range []time.Duration{minBackoff, 2 * minBackoff, 4 * minBackoff, 8 * minBackoff} {
		gap := at[i+1].Time.Sub(at[i].Time)
		require.GreaterOrEqual(t, gap, delay/2, "wait %d", i+1)
		total += gap
	}
	// The waits are at most 50+100+200+400 ms; twice as long would be 1.5 s at least.
	require.Less(t, total, 30*minBackoff)

	// One warning, then a debug entry per further failure, counting them.
	entries := cliLogs.FilterMessageSnippet("session to node").AllUntimed()
	require.GreaterOrEqual(t, len(entries), 4)
	for i, e := range entries {
		if i == 0 {
			require.Equal(t, zapcore.WarnLevel, e.Level)
			require.Equal(t, "session to node broke; reopening", e.Message)
			require.NotContains(t, e.ContextMap(), "attempts")
			continue
		}
		require.Equal(t, zapcore.DebugLevel, e.Level, "failure %d", i+1)
		require.Equal(t, "session to node still down", e.Message)
		require.Equal(t, int64(i+1), e.ContextMap()["attempts"])
	}
}

// TestNewClientLogsUnusableHello: a Client whose Hello every node would refuse says so
// once, at error level, when it is made; a usable one logs nothing.
func TestNewClientLogsUnusableHello(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cf         ops.ChangefeedID
		epoch      ops.Epoch
		maintainer string
		errors     int
	}{
		{"usable", testCF, 1, "m", 0},
		{"usable without a name", testCF, 1, "", 0},
		{"no changefeed", "", 1, "m", 1},
		{"epoch 0", testCF, 0, "m", 1},
		{"changefeed not UTF-8", "\xff", 1, "m", 1},
		{"name not UTF-8", testCF, 1, "\xc3", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := observed()
			c := NewClient(tc.cf, tc.epoch, tc.maintainer, &maintRec{}, log)
			t.Cleanup(c.Close)
			errs := logs.FilterLevelExact(zapcore.ErrorLevel).AllUntimed()
			require.Len(t, errs, tc.errors)
			require.Equal(t, tc.errors, logs.Len(), "nothing else is logged")
			for _, e := range errs {
				require.Equal(t, "nodes will refuse this client's sessions: it needs a UTF-8 changefeed, an epoch and a UTF-8 name", e.Message)
				require.Equal(t, tc.maintainer, e.ContextMap()["maintainer"])
			}
		})
	}
}

// TestServeListenerError: Serve returns the listener's error, and nil only once the
// Server is stopped.
func TestServeListenerError(t *testing.T) {
	srv := NewServer(testCF, &nodeRec{}, nil)
	t.Cleanup(srv.Stop)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.ErrorIs(t, srv.Serve(l), net.ErrClosed)

	l, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	srv.Stop()
	require.NoError(t, <-served)
}
