package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/kgen-dev/kgen/engine"
)

// guard refuses what should not reach the API: a Host the API does not
// answer to (DNS rebinding: a web page whose name now points at this
// machine), an Origin other than the API's own or a configured one (a web
// page posting to it from the browser), and, when a token is set, a
// request without it. GET /ping needs no token, so that health checks
// need no secret.
type guard struct {
	next    http.Handler
	token   [sha256.Size]byte
	auth    bool
	hosts   []string
	origins map[string]bool
	// hints tells how to allow a refused Host or Origin; the profiler's
	// guard has no settings to point to.
	hints bool
}

func newGuard(next http.Handler, conf engine.RESTConfig) *guard {
	g := &guard{next: next, auth: conf.Token != "", origins: map[string]bool{}, hints: true}
	g.token = sha256.Sum256([]byte(conf.Token))
	for _, h := range conf.AllowedHosts {
		g.hosts = append(g.hosts, strings.ToLower(h))
	}
	for _, o := range conf.AllowedOrigins {
		g.origins[strings.TrimRight(strings.ToLower(o), "/")] = true
	}
	return g
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !g.hostAllowed(r, r.Host, scheme) {
		msg := fmt.Sprintf("host %q is not an address of this engine", r.Host)
		if g.hints {
			msg += ": add it to rest.allowedHosts of etc/kgen.yaml to allow it"
		}
		writeJSON(w, http.StatusForbidden, ErrorBody{Error: CodeGeneral, Message: msg})
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(r, origin, scheme) {
		msg := fmt.Sprintf("origin %q may not call this engine", origin)
		if g.hints {
			msg += ": add it to rest.allowedOrigins of etc/kgen.yaml to allow it"
		}
		writeJSON(w, http.StatusForbidden, ErrorBody{Error: CodeGeneral, Message: msg})
		return
	}
	if g.auth && r.URL.Path != "/ping" {
		if msg := g.checkToken(r); msg != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kgen"`)
			writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: CodeGeneral, Message: msg})
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

func (g *guard) checkToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return `this engine requires a token: send "Authorization: Bearer <token>" (rest.token of etc/kgen.yaml; kgen takes -token or $` + engine.TokenEnv + `)`
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return `Authorization: want "Bearer <token>"`
	}
	// Equal-length digests keep the comparison's time independent of
	// the token's length too.
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(sum[:], g.token[:]) != 1 {
		return "invalid token: it is not the engine's rest.token"
	}
	return ""
}

// hostAllowed tells whether hostport (a Host header, or the host of an
// Origin) names this engine: the address the request came in on, a
// loopback name with that port when that address is a loopback one, or
// an entry of rest.allowedHosts.
func (g *guard) hostAllowed(r *http.Request, hostport, scheme string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "80"
		if scheme == "https" {
			port = "443"
		}
	}
	host = strings.ToLower(host)
	for _, h := range g.hosts {
		if h == host || h == host+":"+port || h == "["+host+"]:"+port {
			return true
		}
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lap, err := netip.ParseAddrPort(local.String())
	if err != nil || port != fmt.Sprint(lap.Port()) {
		return false
	}
	la := lap.Addr().Unmap()
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		return ip == la || (ip.IsLoopback() && la.IsLoopback())
	}
	return host == "localhost" && la.IsLoopback()
}

// originAllowed tells whether a browser page of origin may call the API:
// the API's own origin, or one of rest.allowedOrigins.
func (g *guard) originAllowed(r *http.Request, origin, scheme string) bool {
	o := strings.TrimRight(strings.ToLower(origin), "/")
	if g.origins[o] {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme != scheme || u.Host == "" || u.Path != "" {
		return false
	}
	return g.hostAllowed(r, u.Host, scheme)
}
