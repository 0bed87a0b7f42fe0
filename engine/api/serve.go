package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/kgen-dev/kgen/engine"
)

// shutdownTimeout bounds how long Serve waits for requests in flight once
// ctx ends.
const shutdownTimeout = 10 * time.Second

// Serve serves the REST API of e on addr ("127.0.0.1:0" picks a free port)
// until ctx ends, then shuts down gracefully. ready, if not nil, is called
// with the address actually listened on once connections are accepted. A
// nil logger discards the logs.
func Serve(ctx context.Context, e *engine.Engine, addr string, logger *slog.Logger, ready func(addr string)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rest api: %w", err)
	}
	srv := &http.Server{
		Handler:           NewHandler(e, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("rest api listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("rest api: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("rest api: shut down: %w", err)
	}
	return nil
}
