package kgencli

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/loopback"
	"gopkg.in/natefinch/lumberjack.v2"
)

var serveCmd = &command{
	name:    "serve",
	args:    "[-root DIR] [-rest ADDR] [-mqtt ADDR] [-pprof ADDR] [-ready FILE]",
	summary: "run the engine: REST API, embedded MQTT broker, rules",
	help: `
Serve opens the engine root folder (creating etc/, data/, plugins/ and log/
with default settings if missing), starts the embedded MQTT broker unless
etc/kgen.yaml names an external one, restarts the rules that were running,
and serves the REST management API until interrupted (SIGINT or SIGTERM).

With -pprof (or pprof: in etc/kgen.yaml) it also serves the Go profiler's
endpoints under /debug/pprof/ at ADDR, on a listener of their own. Off by
default; ADDR must be a loopback address (127.0.0.0/8, ::1 or localhost),
as profiles show the engine's memory. GET /metrics of the REST API gives
the engine's Prometheus metrics.

The REST API refuses requests whose Host is not the engine's address and
requests from web pages of other origins (rest.allowedHosts and
rest.allowedOrigins of etc/kgen.yaml add names). With rest.token (or
$KGEN_REST_TOKEN) set, every request but GET /ping must carry
"Authorization: Bearer <token>"; a -rest or rest.listen address other than
a loopback one is refused without a token. rest.tls.certFile and keyFile
serve HTTPS.

Logs go to stderr and to <root>/log/kgen.log, at log.level of etc/kgen.yaml;
the file is rotated at log.maxSize MiB (10), keeping log.maxBackups (5).
Once serving, it prints "kgen engine ready: REST <url>, MQTT <url>" to
stderr (", pprof <url>" added when on), and with -ready writes the REST URL
(line 1), the MQTT URL (line 2) and, when on, the pprof URL (line 3) to
FILE, which it removes again on a clean shutdown. Scripts wait for that
file rather than sleeping.`,
	example: `
kgen serve -root ./engine -rest 127.0.0.1:0 -mqtt 127.0.0.1:0 -ready ./engine.url &
KGEN_HOST=$(head -1 ./engine.url) kgen stream list
KGEN_REST_TOKEN=$(cat ./token) kgen serve -rest 0.0.0.0:9081 &
kgen serve -pprof 127.0.0.1:6060 &
go tool pprof http://127.0.0.1:6060/debug/pprof/heap`,
	setup: func(fs *flag.FlagSet) runFunc {
		root := fs.String("root", "", "engine root `DIR` (default $KGEN_ROOT, else the current folder)")
		rest := fs.String("rest", "", "REST API listen `ADDR`, port 0 for any (default rest.listen of etc/kgen.yaml: 127.0.0.1:9081)")
		mqtt := fs.String("mqtt", "", "embedded MQTT broker listen `ADDR` (default mqtt.embedded of etc/kgen.yaml: 127.0.0.1:1883)")
		pprof := fs.String("pprof", "", "serve the Go profiler (/debug/pprof/) at loopback `ADDR` (default pprof of etc/kgen.yaml: off)")
		ready := fs.String("ready", "", "write the REST and MQTT URLs (and the pprof URL, when on) to `FILE` once serving")
		return func(c *cli, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			if *pprof != "" {
				if err := loopback.Check(*pprof); err != nil {
					return usageErrorf("-pprof %q: %v", *pprof, err)
				}
			}
			return serve(c, *root, *rest, *mqtt, *pprof, *ready)
		}
	},
}

func serve(c *cli, rootFlag, restAddr, mqttAddr, pprofAddr, readyFile string) (err error) {
	ctx, stop := signalContext(c.ctx)
	defer stop()
	root, err := engine.ResolveRoot(rootFlag)
	if err != nil {
		return err
	}
	logFile, err := openLog(root)
	if err != nil {
		return err
	}
	defer logFile.Close()
	level := new(slog.LevelVar)
	opts := &slog.HandlerOptions{Level: level}
	logger := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(c.stderr, opts),
		slog.NewTextHandler(logFile, opts),
	))

	e, err := engine.Open(engine.Options{Root: root, Logger: logger, Broker: true, BrokerAddr: mqttAddr})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := e.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close engine: %w", cerr)
		}
		logger.Info("kgen engine stopped")
	}()
	conf := e.Config()
	logFile.setLimits(conf.Log.MaxSize, conf.Log.MaxBackups)
	if conf.Log.Level != "" {
		if err := level.UnmarshalText([]byte(conf.Log.Level)); err != nil {
			logger.Warn("etc/kgen.yaml: log.level: want debug, info, warn or error; using info", "level", conf.Log.Level)
		}
	}
	if restAddr == "" {
		restAddr = conf.REST.Listen
	}
	if err := conf.REST.CheckListen(restAddr); err != nil {
		return err
	}
	pprofURL, stopPprof, err := startPprof(ctx, cmp.Or(pprofAddr, conf.Pprof), logger)
	if err != nil {
		return err
	}
	defer func() {
		if perr := stopPprof(); perr != nil && err == nil {
			err = perr
		}
	}()
	var wrote bool
	err = api.Serve(ctx, e, restAddr, logger, func(addr string) {
		restURL := "http://" + addr
		if conf.REST.TLSEnabled() {
			restURL = "https://" + addr
		}
		lines := restURL + "\n" + e.BrokerURL() + "\n"
		msg := fmt.Sprintf("kgen engine ready: REST %s, MQTT %s", restURL, e.BrokerURL())
		if pprofURL != "" {
			lines += pprofURL + "\n"
			msg += ", pprof " + pprofURL
		}
		if readyFile != "" {
			if err := atomicfile.Write(readyFile, []byte(lines)); err != nil {
				logger.Error("write ready file", "file", readyFile, "err", err)
			} else {
				wrote = true
			}
		}
		fmt.Fprintln(c.stderr, msg)
	})
	if wrote {
		os.Remove(readyFile)
	}
	return err
}

// startPprof serves the Go profiler at addr, when addr is set, until ctx
// ends or stop is called. It returns once listening, with the profiler's
// URL and stop, which returns the server's error.
func startPprof(ctx context.Context, addr string, logger *slog.Logger) (url string, stop func() error, err error) {
	if addr == "" {
		return "", func() error { return nil }, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := make(chan string, 1)
	go func() { done <- api.ServePprof(ctx, addr, logger, func(a string) { ready <- a }) }()
	select {
	case a := <-ready:
		stop = func() error {
			cancel()
			return <-done
		}
		return "http://" + a + "/debug/pprof/", stop, nil
	case err := <-done:
		cancel()
		return "", nil, err
	}
}

// Log file rotation defaults: log.maxSize and log.maxBackups of
// etc/kgen.yaml.
const (
	defaultLogMaxSize    = 10 // MiB
	defaultLogMaxBackups = 5
)

// openLog opens <root>/log/kgen.log, rotated at the default size until
// setLimits sets the configured one.
func openLog(root string) (*logFile, error) {
	dir := filepath.Join(root, "log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log folder: %w", err)
	}
	l := &logFile{name: filepath.Join(dir, "kgen.log")}
	l.setLimits(0, 0)
	// Open (or create) it now, so that a folder that cannot be written is
	// an error here rather than lost log lines.
	if _, err := l.w.Write(nil); err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return l, nil
}

// logFile is the engine's log file: kgen.log, rotated when it grows past
// its size to kgen-<time>.log, keeping the newest backups.
type logFile struct {
	name string
	mu   sync.Mutex
	w    *lumberjack.Logger
}

// setLimits rotates at maxSize MiB and keeps maxBackups old files; 0 takes
// the defaults.
func (l *logFile) setLimits(maxSize, maxBackups int) {
	if maxSize <= 0 {
		maxSize = defaultLogMaxSize
	}
	if maxBackups <= 0 {
		maxBackups = defaultLogMaxBackups
	}
	w := &lumberjack.Logger{Filename: l.name, MaxSize: maxSize, MaxBackups: maxBackups}
	l.mu.Lock()
	old := l.w
	l.w = w
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Close()
}

// signalContext is the context of commands that run until interrupted.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
