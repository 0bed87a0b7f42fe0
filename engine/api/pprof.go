package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/kgen-dev/kgen/internal/loopback"
)

// ServePprof serves the Go profiler's endpoints (net/http/pprof, under
// /debug/pprof/) on addr until ctx ends, on a listener and mux of their
// own: never on the REST API's, and never on the process-wide default
// mux. addr must be a loopback address (127.0.0.0/8, ::1 or localhost),
// as profiles show the engine's memory; "127.0.0.1:0" picks a free port.
// ready, if not nil, is called with the address listened on. A nil logger
// discards the logs.
func ServePprof(ctx context.Context, addr string, logger *slog.Logger, ready func(addr string)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := loopback.Check(addr); err != nil {
		return fmt.Errorf("pprof %q: %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("pprof listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("pprof: %w", err)
	case <-ctx.Done():
	}
	// A CPU profile or trace in progress runs for its seconds; close
	// rather than wait for it.
	err = srv.Close()
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("pprof: shut down: %w", err)
	}
	return nil
}
