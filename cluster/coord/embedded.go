package coord

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Timing of the embedded etcd and of Dial.
const (
	// EmbeddedTickMs is the embedded etcd's raft heartbeat interval in milliseconds.
	EmbeddedTickMs = 50
	// EmbeddedElectionMs is the embedded etcd's raft election timeout in milliseconds.
	EmbeddedElectionMs = 500
	// EmbeddedMinTTL is the smallest lease TTL in seconds the embedded etcd grants:
	// etcd raises any shorter TTL to ceil(1.5 * election timeout), which is 1 s here
	// (2 s with etcd's default 100/1000 ms). A lease is revoked up to 0.5 s after it
	// expires (etcd checks expiry every 500 ms), so a candidate killed with a 2 s TTL
	// loses its leadership within about 2.5 s.
	EmbeddedMinTTL = 1
	// StartTimeout bounds how long StartEmbedded waits for the server to be ready.
	StartTimeout = 20 * time.Second
	// DialTimeout bounds how long Dial waits for its first answer from etcd.
	DialTimeout = 2 * time.Second
)

// bindAttempts is how many times StartEmbedded picks fresh ports after losing a race
// for them.
const bindAttempts = 8

// Embedded is a single-member etcd running in this process.
type Embedded struct {
	etcd      *embed.Etcd
	endpoints []string
	closing   *atomic.Bool
	once      sync.Once
}

// StartEmbedded starts a single-member etcd with its data in dir (created if missing;
// an existing data dir is reopened with its data) on free loopback ports, and returns
// once it serves requests. Its raft timing is EmbeddedTickMs/EmbeddedElectionMs, so
// leases as short as EmbeddedMinTTL seconds work. etcd logs to log at error level and
// above, or everything log enables if log is at debug level; a nil log means stderr at
// error level. If the server is not ready within StartTimeout it is stopped and the
// error wraps ErrStartTimeout.
func StartEmbedded(dir string, log *zap.Logger) (*Embedded, error) {
	if dir == "" {
		return nil, fmt.Errorf("coord: start embedded etcd: %w: empty data dir", ErrInvalidArgument)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("coord: start embedded etcd: %w", err)
	}
	etcdLog, err := embeddedLogger(log)
	if err != nil {
		return nil, fmt.Errorf("coord: start embedded etcd: logger: %w", err)
	}
	var lastErr error
	for range bindAttempts {
		e, err := startOnce(dir, etcdLog)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, fmt.Errorf("coord: start embedded etcd in %s: %w", dir, lastErr)
}

// startOnce picks two free ports and starts etcd on them.
func startOnce(dir string, log *zap.Logger) (*Embedded, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}

	cfg := embed.NewConfig()
	cfg.Name = "opfsm"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.InitialClusterToken = "opfsm"
	cfg.TickMs = EmbeddedTickMs
	cfg.ElectionMs = EmbeddedElectionMs
	cfg.EnableGRPCGateway = false
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	closing := new(atomic.Bool)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &shutdownFilter{Core: c, closing: closing}
	})))

	etcd, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-etcd.Server.ReadyNotify():
	case err := <-etcd.Err():
		closing.Store(true)
		etcd.Close()
		return nil, fmt.Errorf("etcd failed while starting: %w", err)
	case <-time.After(StartTimeout):
		closing.Store(true)
		etcd.Server.Stop()
		etcd.Close()
		return nil, fmt.Errorf("%w: not ready after %v", ErrStartTimeout, StartTimeout)
	}
	return &Embedded{etcd: etcd, endpoints: []string{client.String()}, closing: closing}, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// embeddedLogger is the logger handed to etcd: log restricted to error level unless
// log is at debug level, or stderr at error level when log is nil.
func embeddedLogger(log *zap.Logger) (*zap.Logger, error) {
	if log == nil {
		return quietLogger()
	}
	log = log.Named("etcd")
	if log.Core().Enabled(zapcore.DebugLevel) {
		return log, nil
	}
	return log.WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel)), nil
}

// servingFailed is what etcd logs, at error level, for every listener it closes on its
// way down.
const servingFailed = "setting up serving from embedded etcd failed."

// shutdownFilter drops etcd's servingFailed entries once the server is closing.
type shutdownFilter struct {
	zapcore.Core
	closing *atomic.Bool
}

func (f *shutdownFilter) With(fields []zapcore.Field) zapcore.Core {
	return &shutdownFilter{Core: f.Core.With(fields), closing: f.closing}
}

func (f *shutdownFilter) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if ent.Message == servingFailed && f.closing.Load() {
		return ce
	}
	return f.Core.Check(ent, ce)
}

// quietLogger logs errors and worse to stderr.
func quietLogger() (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(zapcore.ErrorLevel)
	cfg.Sampling = nil
	return cfg.Build()
}

// Endpoints returns the client URLs to Dial.
func (e *Embedded) Endpoints() []string { return append([]string(nil), e.endpoints...) }

// Close stops the server and waits until it has stopped. It is idempotent.
func (e *Embedded) Close() {
	e.once.Do(func() {
		e.closing.Store(true)
		e.etcd.Close()
		<-e.etcd.Server.StopNotify()
	})
}

// Dial connects a client to endpoints and checks, within DialTimeout, that the cluster
// answers a read; otherwise it closes the client and returns an error wrapping
// ErrUnreachable. The client logs errors to stderr; the caller closes it.
func Dial(endpoints []string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("coord: dial: %w: no endpoints", ErrInvalidArgument)
	}
	log, err := quietLogger()
	if err != nil {
		return nil, fmt.Errorf("coord: dial: logger: %w", err)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          DialTimeout,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               log,
	})
	if err != nil {
		return nil, fmt.Errorf("coord: dial %v: %w: %w", endpoints, ErrUnreachable, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
	defer cancel()
	if _, err := cli.Get(ctx, "/opfsm/", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		return nil, fmt.Errorf("coord: dial %v: %w: %w", endpoints, ErrUnreachable, err)
	}
	return cli, nil
}
