package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/testutil"
)

func TestServePprof(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- api.ServePprof(ctx, "127.0.0.1:0", nil, func(addr string) { addrc <- addr }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("ServePprof: %v", err)
	}
	base := "http://" + addr + "/debug/pprof/"
	_, port, _ := net.SplitHostPort(addr)
	if status, body := testutil.HTTPGet(t, base); status != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("GET %s: %d\n%s", base, status, body)
	}
	if status, body := testutil.HTTPGet(t, base+"goroutine?debug=1"); status != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("GET %sgoroutine: %d\n%.200s", base, status, body)
	}
	if status, body := testutil.HTTPGet(t, base+"cmdline"); status != 200 || body == "" {
		t.Errorf("GET %scmdline: %d %q", base, status, body)
	}
	// Web pages are kept out: a rebound name, another site's origin.
	for _, h := range []map[string]string{{"Host": "evil.example:" + port}, {"Origin": "http://evil.example"}} {
		req, _ := http.NewRequest("GET", base+"heap", nil)
		for k, v := range h {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "evil.example") {
			t.Errorf("GET heap with %v: %d %s, want 403", h, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest("GET", base+"cmdline", nil)
	req.Host = "localhost:" + port
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET cmdline as localhost: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Nothing else is served there.
	if status, _ := testutil.HTTPGet(t, "http://"+addr+"/metrics"); status != 404 {
		t.Errorf("GET /metrics on the pprof listener: %d, want 404", status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServePprof after ctx ended: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ServePprof did not return after ctx ended")
	}
}

func TestServePprofRefusesOtherAddresses(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"0.0.0.0:0", `pprof "0.0.0.0:0": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`},
		{":6060", `pprof ":6060": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`},
		{"192.168.1.10:6060", `pprof "192.168.1.10:6060": not a loopback address (want 127.0.0.0/8, ::1 or localhost)`},
		{"localhost", `pprof "localhost": want host:port on the loopback interface, such as 127.0.0.1:6060`},
	} {
		called := false
		err := api.ServePprof(t.Context(), tc.addr, nil, func(string) { called = true })
		if err == nil || err.Error() != tc.want || called {
			t.Errorf("ServePprof(%q): %v (ready called: %v), want %s", tc.addr, err, called, tc.want)
		}
	}
}

// The REST API never serves the profiler, whatever the settings.
func TestNoPprofOnRESTAPI(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if status, _ := s.call(t, "GET", path, ""); status != 404 {
			t.Errorf("GET %s on the REST API: %d, want 404", path, status)
		}
	}
}
