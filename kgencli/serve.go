package kgencli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/atomicfile"
)

var serveCmd = &command{
	name:    "serve",
	args:    "[-root DIR] [-rest ADDR] [-mqtt ADDR] [-ready FILE]",
	summary: "run the engine: REST API, embedded MQTT broker, rules",
	help: `
Serve opens the engine root folder (creating etc/, data/, plugins/ and log/
with default settings if missing), starts the embedded MQTT broker unless
etc/kgen.yaml names an external one, restarts the rules that were running,
and serves the REST management API until interrupted (SIGINT or SIGTERM).

Logs go to stderr and to <root>/log/kgen.log, at log.level of etc/kgen.yaml.
Once serving, it prints "kgen engine ready: REST <url>, MQTT <url>" to
stderr, and with -ready writes the REST URL (line 1) and the MQTT URL
(line 2) to FILE, which it removes again on a clean shutdown. Scripts wait
for that file rather than sleeping.`,
	example: `
kgen serve -root ./engine -rest 127.0.0.1:0 -mqtt 127.0.0.1:0 -ready ./engine.url &
KGEN_HOST=$(head -1 ./engine.url) kgen stream list`,
	setup: func(fs *flag.FlagSet) runFunc {
		root := fs.String("root", "", "engine root `DIR` (default $KGEN_ROOT, else the current folder)")
		rest := fs.String("rest", "", "REST API listen `ADDR`, port 0 for any (default rest.listen of etc/kgen.yaml: 127.0.0.1:9081)")
		mqtt := fs.String("mqtt", "", "embedded MQTT broker listen `ADDR` (default mqtt.embedded of etc/kgen.yaml: 127.0.0.1:1883)")
		ready := fs.String("ready", "", "write the REST and MQTT URLs to `FILE` once serving")
		return func(c *cli, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			return serve(c, *root, *rest, *mqtt, *ready)
		}
	},
}

func serve(c *cli, rootFlag, restAddr, mqttAddr, readyFile string) (err error) {
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
	if conf.Log.Level != "" {
		if err := level.UnmarshalText([]byte(conf.Log.Level)); err != nil {
			logger.Warn("etc/kgen.yaml: log.level: want debug, info, warn or error; using info", "level", conf.Log.Level)
		}
	}
	if restAddr == "" {
		restAddr = conf.REST.Listen
	}
	var wrote bool
	err = api.Serve(ctx, e, restAddr, logger, func(addr string) {
		restURL := "http://" + addr
		if readyFile != "" {
			if err := atomicfile.Write(readyFile, []byte(restURL+"\n"+e.BrokerURL()+"\n")); err != nil {
				logger.Error("write ready file", "file", readyFile, "err", err)
			} else {
				wrote = true
			}
		}
		fmt.Fprintf(c.stderr, "kgen engine ready: REST %s, MQTT %s\n", restURL, e.BrokerURL())
	})
	if wrote {
		os.Remove(readyFile)
	}
	return err
}

func openLog(root string) (*os.File, error) {
	dir := filepath.Join(root, "log")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "kgen.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// signalContext is the context of commands that run until interrupted.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}
