package api_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/testutil"
)

// served is an engine whose REST API api.Serve serves on a free
// loopback port.
type served struct {
	e    *engine.Engine
	root string
	addr string // host:port
	base string // scheme://host:port
	hc   *http.Client
}

// serve opens an engine whose etc/kgen.yaml is conf, created before the
// engine opens, and serves its REST API until the test ends.
func serve(t *testing.T, conf string, setup func(root string)) *served {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(root)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "kgen.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(engine.Options{Root: root, NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, e, "127.0.0.1:0", nil, func(a string) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
	})
	s := &served{e: e, root: root, hc: &http.Client{Timeout: 30 * time.Second}}
	select {
	case s.addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	s.base = "http://" + s.addr
	return s
}

// request sends one request with the given headers ("Host" sets the Host
// header) and returns the status, the error message of a JSON error body
// (else the body) and the response headers.
func (s *served) request(t *testing.T, method, path, body string, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.TrimSpace(string(data))
	if resp.StatusCode >= 400 {
		var eb api.ErrorBody
		if err := json.Unmarshal(data, &eb); err != nil {
			t.Fatalf("%s %s: %d: error body is not JSON: %q", method, path, resp.StatusCode, data)
		}
		msg = eb.Message
	}
	return resp.StatusCode, msg, resp.Header
}

const (
	testToken = "t0k3n-for-tests"
	needToken = `this engine requires a token: send "Authorization: Bearer <token>" (rest.token of etc/kgen.yaml; kgen takes -token or $KGEN_REST_TOKEN)`
)

func TestTokenRequired(t *testing.T) {
	s := serve(t, "rest:\n  token: "+testToken+"\n", nil)
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	for _, tc := range []struct {
		method, path string
		headers      map[string]string
		status       int
		want         string // the error message; "" for success
	}{
		{"GET", "/ping", nil, 200, ""},
		{"GET", "/", nil, 401, needToken},
		{"GET", "/rules", nil, 401, needToken},
		{"GET", "/metrics", nil, 401, needToken},
		{"GET", "/streams", map[string]string{"Authorization": "Bearer wrong"}, 401, "invalid token: it is not the engine's rest.token"},
		{"GET", "/streams", map[string]string{"Authorization": "Bearer " + testToken + "x"}, 401, "invalid token: it is not the engine's rest.token"},
		{"GET", "/streams", map[string]string{"Authorization": "Basic " + testToken}, 401, `Authorization: want "Bearer <token>"`},
		{"GET", "/streams", map[string]string{"Authorization": testToken}, 401, `Authorization: want "Bearer <token>"`},
		{"GET", "/streams", bearer, 200, ""},
		{"GET", "/streams", map[string]string{"Authorization": "bearer " + testToken}, 200, ""},
		{"GET", "/metrics", bearer, 200, ""},
		{"POST", "/streams", nil, 401, needToken},
	} {
		status, msg, h := s.request(t, tc.method, tc.path, "", tc.headers)
		if status != tc.status || (tc.want != "" && msg != tc.want) {
			t.Errorf("%s %s %v: %d %q, want %d %q", tc.method, tc.path, tc.headers, status, msg, tc.status, tc.want)
		}
		if got := h.Get("WWW-Authenticate"); (status == 401) != strings.HasPrefix(got, "Bearer") {
			t.Errorf("%s %s: %d with WWW-Authenticate %q", tc.method, tc.path, status, got)
		}
	}

	// The client sends the token it is given, and reports the refusal
	// without one.
	ctx := t.Context()
	cl, err := api.NewClient(s.base, nil, api.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateStream(ctx, demoSQL); err != nil {
		t.Fatalf("create stream with the token: %v", err)
	}
	if names, err := cl.Streams(ctx); err != nil || len(names) != 1 || names[0] != "demo" {
		t.Errorf("streams with the token: %v, %v", names, err)
	}
	anon, err := api.NewClient(s.base, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = anon.Streams(ctx)
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || err.Error() != needToken {
		t.Errorf("streams without the token: %v", err)
	}
	if _, err := anon.Info(ctx); err != nil {
		t.Errorf("ping without the token: %v", err)
	}
}

func TestTokenFromEnvAndFile(t *testing.T) {
	// rest.tokenFile, relative to the root, surrounding space dropped.
	s := serve(t, "rest:\n  tokenFile: etc/token\n", func(root string) {
		if err := os.WriteFile(filepath.Join(root, "etc", "token"), []byte("  from-file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if status, msg, _ := s.request(t, "GET", "/rules", "", map[string]string{"Authorization": "Bearer from-file"}); status != 200 {
		t.Errorf("token of rest.tokenFile: %d %s", status, msg)
	}
	// $KGEN_REST_TOKEN replaces rest.token.
	t.Setenv(engine.TokenEnv, "from-env")
	s = serve(t, "rest:\n  token: from-conf\n", nil)
	if status, _, _ := s.request(t, "GET", "/rules", "", map[string]string{"Authorization": "Bearer from-conf"}); status != 401 {
		t.Errorf("rest.token with $KGEN_REST_TOKEN set: %d, want 401", status)
	}
	if status, msg, _ := s.request(t, "GET", "/rules", "", map[string]string{"Authorization": "Bearer from-env"}); status != 200 {
		t.Errorf("token of $KGEN_REST_TOKEN: %d %s", status, msg)
	}
}

func TestServeRefusesOpenListenWithoutToken(t *testing.T) {
	e, err := engine.Open(engine.Options{Root: t.TempDir(), NoRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		err := api.Serve(t.Context(), e, addr, nil, func(string) { t.Errorf("Serve(%q) listened", addr) })
		want := `rest api: rest.listen "` + addr + `" is not a loopback address, so the REST API needs a token: set rest.token or rest.tokenFile in etc/kgen.yaml, or $KGEN_REST_TOKEN (or listen on 127.0.0.1)`
		if err == nil || err.Error() != want {
			t.Errorf("Serve(%q) = %v\nwant %s", addr, err, want)
		}
	}
}

// TestBrowsersRefused: a web page cannot drive the engine, neither by
// posting to it from another origin nor by pointing a name of its own at
// the engine's address (DNS rebinding).
func TestBrowsersRefused(t *testing.T) {
	s := serve(t, "rest:\n  allowedHosts: [kgen.internal, \"proxy.example:8443\"]\n  allowedOrigins: [\"https://dash.example\"]\n", nil)
	_, port, _ := net.SplitHostPort(s.addr)
	stream := `{"sql": ` + quote(demoSQL) + `}`
	if status, msg, _ := s.request(t, "POST", "/streams", stream, nil); status != 201 {
		t.Fatalf("create stream: %d %s", status, msg)
	}
	rule := func(id string) string {
		return `{"id": "` + id + `", "sql": "SELECT * FROM demo", "actions": [{"nop": {}}]}`
	}
	foreignOrigin := func(o string) string {
		return `origin "` + o + `" may not call this engine: add it to rest.allowedOrigins of etc/kgen.yaml to allow it`
	}
	foreignHost := func(h string) string {
		return `host "` + h + `" is not an address of this engine: add it to rest.allowedHosts of etc/kgen.yaml to allow it`
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		want    string
	}{
		// What a form or fetch(…, {mode: "no-cors"}) of a web page sends:
		// a "simple" request the browser does not preflight.
		{"foreign-page", map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403, foreignOrigin("http://evil.example")},
		{"sandboxed-page", map[string]string{"Content-Type": "text/plain", "Origin": "null"}, 403, foreignOrigin("null")},
		{"other-local-port", map[string]string{"Origin": "http://localhost:1"}, 403, foreignOrigin("http://localhost:1")},
		{"wrong-scheme", map[string]string{"Origin": "https://127.0.0.1:" + port}, 403, foreignOrigin("https://127.0.0.1:" + port)},
		{"rebound-name", map[string]string{"Host": "evil.example:" + port}, 403, foreignHost("evil.example:" + port)},
		{"rebound-name-no-port", map[string]string{"Host": "evil.example"}, 403, foreignHost("evil.example")},
		{"other-port", map[string]string{"Host": "127.0.0.1:1"}, 403, foreignHost("127.0.0.1:1")},
		{"allowed-host-other-port", map[string]string{"Host": "proxy.example:9"}, 403, foreignHost("proxy.example:9")},
		{"rebound-with-own-origin", map[string]string{"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port}, 403, foreignHost("evil.example:" + port)},

		{"no-origin", map[string]string{"Content-Type": "text/plain"}, 201, ""},
		{"own-origin", map[string]string{"Origin": s.base}, 201, ""},
		{"localhost", map[string]string{"Host": "localhost:" + port, "Origin": "http://localhost:" + port}, 201, ""},
		{"ipv6-loopback", map[string]string{"Host": "[::1]:" + port}, 201, ""},
		{"allowed-host", map[string]string{"Host": "KGEN.internal", "Origin": "http://kgen.internal"}, 201, ""},
		{"allowed-host-port", map[string]string{"Host": "proxy.example:8443"}, 201, ""},
		{"allowed-origin", map[string]string{"Origin": "https://dash.example"}, 201, ""},
	} {
		status, msg, _ := s.request(t, "POST", "/rules", rule(tc.name), tc.headers)
		if status != tc.status || (tc.want != "" && msg != tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, msg, tc.status, tc.want)
		}
		// A refused request changed nothing.
		code, _, _ := s.request(t, "GET", "/rules/"+tc.name, "", nil)
		if created := code == 200; created != (tc.status == 201) {
			t.Errorf("%s: rule created: %v", tc.name, created)
		}
	}
	// Reads are refused too: a rebound page must not read them either.
	if status, _, _ := s.request(t, "GET", "/rules", "", map[string]string{"Host": "evil.example:" + port}); status != 403 {
		t.Errorf("GET /rules from a rebound name: %d, want 403", status)
	}
}

func TestTLS(t *testing.T) {
	certPEM, keyPEM := testutil.SelfSignedCert(t)
	s := serve(t, "rest:\n  token: "+testToken+"\n  tls:\n    certFile: etc/cert.pem\n    keyFile: etc/key.pem\n", func(root string) {
		for name, data := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
			if err := os.WriteFile(filepath.Join(root, "etc", name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	s.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	s.base = "https://" + s.addr
	cl, err := api.NewClient(s.base, s.hc, api.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateStream(t.Context(), demoSQL); err != nil {
		t.Fatalf("create stream over HTTPS: %v", err)
	}
	if status, msg, _ := s.request(t, "GET", "/streams", "", map[string]string{"Authorization": "Bearer " + testToken, "Origin": s.base}); status != 200 {
		t.Errorf("GET /streams from the API's own https origin: %d %s", status, msg)
	}
	if status, _, _ := s.request(t, "GET", "/streams", "", map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://" + s.addr}); status != 403 {
		t.Errorf("GET /streams from the http origin: %d, want 403", status)
	}
	// Plain HTTP is not answered with the API.
	plain, err := api.NewClient("http://"+s.addr, nil, api.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if names, err := plain.Streams(t.Context()); err == nil {
		t.Errorf("streams over plain HTTP: %v", names)
	}
}
