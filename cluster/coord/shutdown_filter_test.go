package coord

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestShutdownFilter: the embedded etcd's logger drops the "serving failed" errors etcd
// logs for every listener it closes, and only those, and only once it is closing.
func TestShutdownFilter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		closing bool
		want    []string
	}{
		{"running", false, []string{servingFailed, "disk full", servingFailed, "disk full"}},
		{"closing", true, []string{"disk full", "disk full"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.ErrorLevel)
			closing := new(atomic.Bool)
			closing.Store(tc.closing)
			log := zap.New(&shutdownFilter{Core: core, closing: closing})
			for _, l := range []*zap.Logger{log, log.With(zap.String("member", "opfsm"))} { // With keeps the filter
				l.Error(servingFailed)
				l.Error("disk full")
			}
			var got []string
			for _, e := range logs.AllUntimed() {
				got = append(got, e.Message)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
