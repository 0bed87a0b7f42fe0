package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/kgen-dev/kgen/engine"

	"github.com/kgen-dev/kgen/internal/loopback"
)

// ServePprof serves the Go profiler's endpoints (net/http/pprof, under
// /debug/pprof/) on addr until ctx ends, on a listener and mux of their
// own: never on the REST API's, and never on the process-wide default
// mux. addr must be a loopback address (127.0.0.0/8, ::1 or localhost),
// as profiles show the engine's memory; "127.0.0.1:0" picks a free port.
// Like the REST API, it refuses requests whose Host is not a loopback
// name with its port, or whose Origin is another site's (403). ready, if
// not nil, is called with the address listened on. A nil logger discards
// the logs.
func ServePprof(ctx context.Context, addr string, logger *slog.Logger, ready func(addr string)) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := loopback.Check(addr); err != nil {
		return fmt.Errorf("pprof %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace in progress runs for its seconds; close
	// rather than wait for it.
	// The Host and Origin checks of the REST API keep web pages out
	// (DNS rebinding would let one read the engine's memory); no token.
	g := newGuard(mux, engine.RESTConfig{})
	g.hints = false
	return serveHTTP(ctx, "pprof", addr, nil, g, logger, ready, (*http.Server).Close)
}
