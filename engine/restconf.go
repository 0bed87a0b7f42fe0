package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/kgen-dev/kgen/internal/loopback"
)

// TokenEnv is the environment variable whose value, when set, replaces
// rest.token and rest.tokenFile of etc/kgen.yaml. The kgen CLI reads it
// too.
const TokenEnv = "KGEN_REST_TOKEN"

// RESTConfig is the rest: block of etc/kgen.yaml: where the management
// API listens and who may use it.
type RESTConfig struct {
	// Listen is the address of the REST management API. An address other
	// than a loopback one (127.0.0.0/8, ::1, localhost) needs a token.
	Listen string `yaml:"listen"`
	// Token, when set, is required of every request but GET /ping as
	// "Authorization: Bearer <token>". $KGEN_REST_TOKEN replaces it.
	Token string `yaml:"token"`
	// TokenFile names a file holding the token (surrounding white space
	// is dropped); relative to the engine root. Set it or Token, not both.
	TokenFile string `yaml:"tokenFile"`
	// TLS, when both files are set, serves HTTPS with this certificate
	// and key (PEM; paths relative to the engine root).
	TLS struct {
		CertFile string `yaml:"certFile"`
		KeyFile  string `yaml:"keyFile"`
	} `yaml:"tls"`
	// AllowedHosts are more names the API answers to in the Host header
	// (host, or host:port for one port only), for example the name a
	// proxy or a port mapping puts in front of it. Always allowed: the
	// address a request came in on, and for loopback listeners
	// localhost, 127.0.0.1 and [::1] with that port.
	AllowedHosts []string `yaml:"allowedHosts"`
	// AllowedOrigins are web origins (scheme://host[:port]) whose pages
	// may call the API from a browser. Requests carrying any other Origin
	// than the API's own are refused.
	AllowedOrigins []string `yaml:"allowedOrigins"`
}

// TLSEnabled tells whether the API serves HTTPS.
func (c *RESTConfig) TLSEnabled() bool { return c.TLS.CertFile != "" }

// CheckListen returns an error when addr is not a loopback address and no
// token is set: a token is required for the API to listen beyond this
// machine.
func (c *RESTConfig) CheckListen(addr string) error {
	if c.Token != "" || loopback.Check(addr) == nil {
		return nil
	}
	return fmt.Errorf("rest.listen %q is not a loopback address, so the REST API needs a token: set rest.token or rest.tokenFile in etc/kgen.yaml, or $%s (or listen on 127.0.0.1)", addr, TokenEnv)
}

// resolve reads the token (from $KGEN_REST_TOKEN or rest.tokenFile),
// makes file paths absolute under root and checks the block.
func (c *RESTConfig) resolve(root string) error {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	c.TokenFile = abs(c.TokenFile)
	c.TLS.CertFile, c.TLS.KeyFile = abs(c.TLS.CertFile), abs(c.TLS.KeyFile)
	switch env := os.Getenv(TokenEnv); {
	case env != "":
		c.Token = env
	case c.TokenFile != "" && c.Token != "":
		return errors.New("rest.token and rest.tokenFile are both set: set one")
	case c.TokenFile != "":
		data, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return fmt.Errorf("rest.tokenFile: %w", err)
		}
		c.Token = strings.TrimSpace(string(data))
		if c.Token == "" {
			return fmt.Errorf("rest.tokenFile %q: the file is empty", c.TokenFile)
		}
	}
	for _, r := range c.Token {
		if r <= ' ' || r > '~' {
			return errors.New("rest.token: want printable ASCII without spaces")
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("rest.tls: set both certFile and keyFile, or neither")
	}
	if c.TLSEnabled() {
		if _, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
			return fmt.Errorf("rest.tls: %w", err)
		}
	}
	for _, h := range c.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			return fmt.Errorf("rest.allowedHosts: %q: want a host name or host:port", h)
		}
	}
	for _, o := range c.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("rest.allowedOrigins: %q: want scheme://host[:port], such as https://dashboard.example.com", o)
		}
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("rest.listen %q: want host:port", c.Listen)
		}
		return c.CheckListen(c.Listen)
	}
	return nil
}
