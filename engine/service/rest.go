package service

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/svc"
)

// Response bodies are read up to this size; error texts quote at most
// restErrorBodyLimit bytes of them.
const (
	restBodyLimit      = 32 << 20
	restErrorBodyLimit = 512
)

// restClient is the HTTP side shared by the schema and schemaless REST
// invokers: base URL, client, policy.
type restClient struct {
	base      string // address without a trailing slash
	policy    callPolicy
	transport *http.Transport
	client    *http.Client
}

func newRESTClient(iface *svc.Interface) (*restClient, error) {
	u, err := url.Parse(iface.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rest address %q: want http(s)://host:port[/base]", iface.Address)
	}
	p := policyOf(iface.Options)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// One interface talks to one host, from as many rows at once as a
	// rule's options.concurrency: keep their connections (the default
	// keeps 2 and reconnects the others for every call).
	tr.MaxIdleConnsPerHost = 64
	if o := iface.Options; o != nil && o.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return &restClient{
		base:      strings.TrimRight(iface.Address, "/"),
		policy:    p,
		transport: tr,
		client:    &http.Client{Transport: tr, Timeout: p.timeout},
	}, nil
}

func (c *restClient) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}

// restResponse is a 2xx response, read whole.
type restResponse struct {
	status      int
	contentType string
	body        []byte
}

// do sends one request, with retries, and returns a 2xx response; other
// statuses are errors carrying status and body.
func (c *restClient) do(ctx context.Context, method, target string, body []byte) (*restResponse, error) {
	return c.doWithHeader(ctx, method, target, nil, body)
}

// doWithHeader is do with request headers, set over the interface's.
func (c *restClient) doWithHeader(ctx context.Context, method, target string, header http.Header, body []byte) (*restResponse, error) {
	var resp *restResponse
	err := c.policy.withRetries(ctx, func(ctx context.Context) error {
		var err error
		resp, err = c.doOnce(ctx, method, target, header, body)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rest call %s %s: %w", method, target, err)
	}
	return resp, nil
}

func (c *restClient) doOnce(ctx context.Context, method, target string, header http.Header, body []byte) (*restResponse, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range c.policy.headers {
		req.Header.Set(k, v)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.5")
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, restBodyLimit+1))
	if err != nil {
		return nil, c.transportError(ctx, fmt.Errorf("read body: %w", err))
	}
	if len(data) > restBodyLimit {
		return nil, fmt.Errorf("%s: the response body is larger than the limit of %d bytes", res.Status, restBodyLimit)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		err := fmt.Errorf("%s: %s", res.Status, quoteBody(data))
		if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 {
			return nil, markRetryable(err)
		}
		return nil, err
	}
	return &restResponse{status: res.StatusCode, contentType: res.Header.Get("Content-Type"), body: data}, nil
}

// transportError words a failure to get a response: timeouts and
// connection errors are retryable, a cancelled caller is not.
func (c *restClient) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return markRetryable(fmt.Errorf("timed out after %v", c.policy.timeout))
		}
		err = ue.Err
	}
	return markRetryable(err)
}

func quoteBody(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > restErrorBodyLimit {
		return string(b[:restErrorBodyLimit]) + "…"
	}
	return string(b)
}

// restInvoker calls rpcs over HTTP: POST <address>/<rpc> with a
// protobuf-JSON body, or as the method's google.api.http rule says.
type restInvoker struct {
	*restClient
}

func newRESTInvoker(iface *svc.Interface) (*restInvoker, error) {
	c, err := newRESTClient(iface)
	if err != nil {
		return nil, err
	}
	return &restInvoker{c}, nil
}

func (r *restInvoker) Invoke(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	out := dynamicpb.NewMessage(m.Output())
	err := r.invoke(ctx, m, req, func(call *svc.HTTPCall, res *restResponse) error {
		return call.DecodeResponse(res.contentType, res.body, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InvokeSQL maps a JSON reply with only the keys it holds, as eKuiper maps
// a REST reply; see Invoker.
func (r *restInvoker) InvokeSQL(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (any, error) {
	var v any
	err := r.invoke(ctx, m, req, func(call *svc.HTTPCall, res *restResponse) (err error) {
		v, err = call.ResponseToSQL(res.contentType, res.body, dynamicpb.NewMessage(m.Output()))
		return err
	})
	return v, err
}

// invoke sends the call of m with req and hands the 2xx response to
// decode.
func (r *restInvoker) invoke(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message, decode func(*svc.HTTPCall, *restResponse) error) error {
	call, err := svc.NewHTTPCall(m, req)
	if err != nil {
		return fmt.Errorf("rest call %s: %w", m.Name(), err)
	}
	target := r.base + call.Path
	if call.Query != "" {
		target += "?" + call.Query
	}
	res, err := r.do(ctx, call.Method, target, call.Body)
	if err != nil {
		return err
	}
	if err := decode(call, res); err != nil {
		return fmt.Errorf("rest call %s %s: %w", call.Method, target, err)
	}
	return nil
}

// restMediaType is the lower-case media type of a Content-Type header, ""
// if absent or unreadable.
func restMediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	return mt
}
