package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// A client that stalls in the middle of its body, or sits on an idle
// connection, is cut off after the read or idle timeout instead of holding
// the connection open.
func TestStalledClientsAreCutOff(t *testing.T) {
	readTimeout, idleTimeout = 300*time.Millisecond, 300*time.Millisecond
	defer func() { readTimeout, idleTimeout = 2*time.Minute, 2*time.Minute }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	go func() {
		done <- serveHTTP(ctx, "test", "127.0.0.1:0", nil, h, slog.New(slog.DiscardHandler), func(a string) { ready <- a },
			func(srv *http.Server) error { return srv.Close() })
	}()
	addr := <-ready
	for name, req := range map[string]string{
		"stalled body": "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
		"idle":         "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		_, err = io.ReadAll(conn) // the server's answer, if any, then EOF
		conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the connection was still open after %v", name, time.Since(start).Round(time.Millisecond))
		}
	}
	cancel()
	<-done
}
