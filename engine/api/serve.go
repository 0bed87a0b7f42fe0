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

// Connection limits of the API servers: a request's headers and its whole
// body must come within readTimeout (a zip upload included), and an idle
// keep-alive connection is closed after idleTimeout, so stalled clients
// cannot hold connections open.
var (
	readTimeout = 2 * time.Minute
	idleTimeout = 2 * time.Minute
)

// Serve serves the REST API of e on addr ("127.0.0.1:0" picks a free port)
// until ctx ends, then shuts down gracefully. ready, if not nil, is called
// with the address actually listened on once connections are accepted. A
// nil logger discards the logs.
func Serve(ctx context.Context, e *engine.Engine, addr string, logger *slog.Logger, ready func(addr string)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return serveHTTP(ctx, "rest api", addr, NewHandler(e, logger), logger, ready, func(srv *http.Server) error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
}

// serveHTTP serves h on addr until ctx ends, then ends the server with
// stop. name starts its errors and its log line; ready, if not nil, is
// called with the address listened on.
func serveHTTP(ctx context.Context, name, addr string, h http.Handler, logger *slog.Logger, ready func(addr string), stop func(*http.Server) error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info(name+" listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", name, err)
	case <-ctx.Done():
	}
	err = stop(srv)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("%s: shut down: %w", name, err)
	}
	return nil
}
