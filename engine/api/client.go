package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/rule"
)

// DefaultHost is the engine the Client talks to when none is given.
const DefaultHost = "http://127.0.0.1:9081"

// Client talks to the REST API of a running engine. Methods that change
// something return the server's message ("Rule r1 was started").
type Client struct {
	base  string
	hc    *http.Client
	token string
}

// A ClientOption sets up a Client.
type ClientOption func(*Client)

// WithToken makes the client send "Authorization: Bearer <token>", for an
// engine with rest.token set. An empty token sends nothing.
func WithToken(token string) ClientOption {
	return func(c *Client) { c.token = token }
}

// NewClient returns a client for the engine at host: a URL such as
// "http://127.0.0.1:9081", or a bare "host:port". An empty host means
// DefaultHost; a nil hc, a client with a 30 second timeout. For an engine
// serving HTTPS with a certificate the system does not trust, pass an hc
// whose transport trusts it.
func NewClient(host string, hc *http.Client, opts ...ClientOption) (*Client, error) {
	if host == "" {
		host = DefaultHost
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("engine address %q: want http://host:port", host)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), hc: hc}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Base returns the engine URL the client talks to.
func (c *Client) Base() string { return c.base }

// Error is a failed request: the server's status and its JSON error body.
// errors.Is matches engine.ErrNotFound (and fs.ErrNotExist) for 404 and
// engine.ErrExists (and fs.ErrExist) for 409.
type Error struct {
	StatusCode int
	Code       int
	Message    string
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case http.StatusNotFound:
		return engine.ErrNotFound
	case http.StatusConflict:
		return engine.ErrExists
	}
	return nil
}

// CreateStream creates a stream from a CREATE STREAM statement.
func (c *Client) CreateStream(ctx context.Context, sql string) (string, error) {
	return c.text(ctx, http.MethodPost, "/streams", jsonBody(streamBody{SQL: sql}))
}

// ReplaceStream replaces the definition of a stream.
func (c *Client) ReplaceStream(ctx context.Context, name, sql string) (string, error) {
	return c.text(ctx, http.MethodPut, "/streams/"+url.PathEscape(name), jsonBody(streamBody{SQL: sql}))
}

// Streams lists the stream names.
func (c *Client) Streams(ctx context.Context) ([]string, error) {
	var names []string
	return names, c.json(ctx, http.MethodGet, "/streams", &names)
}

// Stream describes a stream.
func (c *Client) Stream(ctx context.Context, name string) (*engine.StreamInfo, error) {
	var info engine.StreamInfo
	if err := c.json(ctx, http.MethodGet, "/streams/"+url.PathEscape(name), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// DropStream deletes a stream.
func (c *Client) DropStream(ctx context.Context, name string) (string, error) {
	return c.text(ctx, http.MethodDelete, "/streams/"+url.PathEscape(name), nil)
}

// CreateRule creates and starts a rule from rule JSON.
func (c *Client) CreateRule(ctx context.Context, rule []byte) (string, error) {
	return c.text(ctx, http.MethodPost, "/rules", rule)
}

// UpdateRule replaces a rule's definition.
func (c *Client) UpdateRule(ctx context.Context, id string, rule []byte) (string, error) {
	return c.text(ctx, http.MethodPut, "/rules/"+url.PathEscape(id), rule)
}

// Rules lists the rules and their status.
func (c *Client) Rules(ctx context.Context) ([]engine.RuleSummary, error) {
	var rules []engine.RuleSummary
	return rules, c.json(ctx, http.MethodGet, "/rules", &rules)
}

// Rule returns a rule's JSON definition.
func (c *Client) Rule(ctx context.Context, id string) (json.RawMessage, error) {
	var raw json.RawMessage
	return raw, c.json(ctx, http.MethodGet, "/rules/"+url.PathEscape(id), &raw)
}

// DropRule deletes a rule.
func (c *Client) DropRule(ctx context.Context, id string) (string, error) {
	return c.text(ctx, http.MethodDelete, "/rules/"+url.PathEscape(id), nil)
}

// StartRule starts a rule.
func (c *Client) StartRule(ctx context.Context, id string) (string, error) {
	return c.text(ctx, http.MethodPost, "/rules/"+url.PathEscape(id)+"/start", nil)
}

// StopRule stops a rule.
func (c *Client) StopRule(ctx context.Context, id string) (string, error) {
	return c.text(ctx, http.MethodPost, "/rules/"+url.PathEscape(id)+"/stop", nil)
}

// RestartRule restarts a rule.
func (c *Client) RestartRule(ctx context.Context, id string) (string, error) {
	return c.text(ctx, http.MethodPost, "/rules/"+url.PathEscape(id)+"/restart", nil)
}

// RuleStatus returns a rule's state and metrics.
func (c *Client) RuleStatus(ctx context.Context, id string) (*rule.Status, error) {
	var st rule.Status
	if err := c.json(ctx, http.MethodGet, "/rules/"+url.PathEscape(id)+"/status", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// RuleTopo returns a rule's topology: its sources, the steps it runs and
// its sinks, in eKuiper's shape.
func (c *Client) RuleTopo(ctx context.Context, id string) (*rule.Topo, error) {
	var topo rule.Topo
	if err := c.json(ctx, http.MethodGet, "/rules/"+url.PathEscape(id)+"/topo", &topo); err != nil {
		return nil, err
	}
	return &topo, nil
}

// Info returns the engine's version, platform and uptime.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var info Info
	if err := c.json(ctx, http.MethodGet, "/ping", &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Version returns how the engine was built.
func (c *Client) Version(ctx context.Context) (*BuildInfo, error) {
	var bi BuildInfo
	if err := c.json(ctx, http.MethodGet, "/version", &bi); err != nil {
		return nil, err
	}
	return &bi, nil
}

func jsonBody(v any) []byte {
	data, _ := json.Marshal(v) // a struct of strings always encodes
	return data
}

func (c *Client) text(ctx context.Context, method, path string, body []byte) (string, error) {
	data, err := c.do(ctx, method, path, body)
	return trimText(data), err
}

func trimText(data []byte) string { return strings.TrimSpace(string(data)) }

func (c *Client) json(ctx context.Context, method, path string, v any) error {
	data, err := c.do(ctx, method, path, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// do sends a request and returns the body of a 2xx response, or an *Error.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	return c.doType(ctx, method, path, "application/json", body)
}

// doType is do with a body of the given content type.
func (c *Client) doType(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("cannot reach the engine at %s (is kgen serve running? set -host or KGEN_HOST): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	apiErr := &Error{StatusCode: resp.StatusCode}
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Message != "" {
		apiErr.Code, apiErr.Message = eb.Error, eb.Message
	} else {
		msg := strings.TrimSpace(string(data))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		apiErr.Message = fmt.Sprintf("%s %s: %s (%s)", method, path, msg, resp.Status)
	}
	return nil, apiErr
}
