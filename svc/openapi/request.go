package openapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Credentials are the secrets for an operation's security schemes, keyed by
// security scheme name (components.securitySchemes): the token of an http
// bearer, oauth2 or openIdConnect scheme, "user:password" for http basic,
// the key of an apiKey scheme.
type Credentials map[string]string

// NewRequest builds the HTTP request of a call: path parameters escaped
// into the path template, query parameters (arrays and objects in form
// style, exploded unless the parameter says otherwise), headers, a JSON
// body, and the credentials of the first security requirement that creds
// satisfy. base is the server URL; "" means DefaultBase.
func (op *Operation) NewRequest(ctx context.Context, base string, args []any, creds Credentials) (*http.Request, error) {
	vals, err := op.Args(args)
	if err != nil {
		return nil, err
	}
	if base == "" {
		base = op.doc.DefaultBase()
	}
	if base == "" {
		return nil, fmt.Errorf("function %q: no server URL: the document names no server", op.ID)
	}
	base = strings.TrimRight(base, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("function %q: server URL %q: want http(s)://host[:port][/base]", op.ID, base)
	}
	path := op.Path
	query := url.Values{}
	header := http.Header{}
	var body io.Reader
	for _, p := range op.Params {
		v, ok := vals[p.Name]
		if !ok {
			continue
		}
		switch p.In {
		case openapi3.ParameterInPath:
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(simple(v)))
		case openapi3.ParameterInQuery:
			addQuery(query, p, v)
		case openapi3.ParameterInHeader:
			header.Set(p.Name, simple(v))
		case "body":
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("function %q: parameter %q (body): %w", op.ID, p.Name, err)
			}
			body = bytes.NewReader(b)
			header.Set("Content-Type", "application/json")
		}
	}
	if err := op.authorize(header, query, creds); err != nil {
		return nil, err
	}
	target := base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", op.ID, err)
	}
	maps.Copy(req.Header, header)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// simple writes a value in simple style: scalars as text, arrays
// comma-separated.
func simple(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalar(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, k, scalar(x[k]))
		}
		return strings.Join(parts, ",")
	}
	return scalar(v)
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// addQuery adds a query parameter in form style.
func addQuery(q url.Values, p *Param, v any) {
	switch x := v.(type) {
	case []any:
		if !p.explode {
			q.Add(p.Name, simple(x))
			return
		}
		for _, e := range x {
			q.Add(p.Name, scalar(e))
		}
	case map[string]any:
		if !p.explode {
			q.Add(p.Name, simple(x))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			q.Add(k, scalar(x[k]))
		}
	default:
		q.Add(p.Name, scalar(v))
	}
}

// schemeOf returns the security scheme name, nil if undeclared.
func (d *Document) schemeOf(name string) *openapi3.SecurityScheme {
	if d.Spec.Components == nil {
		return nil
	}
	if r := d.Spec.Components.SecuritySchemes[name]; r != nil {
		return r.Value
	}
	return nil
}

// supported says why kgen cannot fill a scheme, "" if it can.
func supported(s *openapi3.SecurityScheme) string {
	if s == nil {
		return "undeclared"
	}
	switch s.Type {
	case "http":
		if sch := strings.ToLower(s.Scheme); sch == "bearer" || sch == "basic" {
			return ""
		}
		return fmt.Sprintf("http scheme %q", s.Scheme)
	case "apiKey":
		if s.In == "header" || s.In == "query" {
			return ""
		}
		return fmt.Sprintf("apiKey in %s", s.In)
	case "oauth2", "openIdConnect":
		return "" // the caller brings the access token
	}
	return fmt.Sprintf("type %q", s.Type)
}

// checkSecurity says why no requirement of reqs can be met, "" if one can.
func (d *Document) checkSecurity(reqs openapi3.SecurityRequirements) string {
	if len(reqs) == 0 {
		return ""
	}
	var why []string
	for _, req := range reqs {
		ok := true
		for _, name := range slices.Sorted(maps.Keys(req)) {
			if w := supported(d.schemeOf(name)); w != "" {
				why = append(why, fmt.Sprintf("%q (%s)", name, w))
				ok = false
			}
		}
		if ok {
			return ""
		}
	}
	return "security: no supported requirement: " + strings.Join(why, ", ")
}

// authorize fills in the first security requirement creds satisfy (an
// empty requirement needs nothing); none satisfied is an error naming what
// the first requirement needs.
func (op *Operation) authorize(header http.Header, query url.Values, creds Credentials) error {
	if len(op.security) == 0 {
		return nil
	}
	for _, req := range op.security {
		names := slices.Sorted(maps.Keys(req))
		if !slices.ContainsFunc(names, func(n string) bool { _, ok := creds[n]; return !ok || supported(op.doc.schemeOf(n)) != "" }) {
			for _, n := range names {
				apply(op.doc.schemeOf(n), creds[n], header, query)
			}
			return nil
		}
	}
	first := op.security[0]
	for _, req := range op.security {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(req)), func(n string) bool { return supported(op.doc.schemeOf(n)) != "" }) {
			first = req
			break
		}
	}
	var missing []string
	for _, n := range slices.Sorted(maps.Keys(first)) {
		if _, ok := creds[n]; !ok {
			missing = append(missing, strconv.Quote(n))
		}
	}
	return fmt.Errorf("function %q: no credentials for security scheme %s", op.ID, strings.Join(missing, ", "))
}

func apply(s *openapi3.SecurityScheme, secret string, header http.Header, query url.Values) {
	switch s.Type {
	case "apiKey":
		if s.In == "query" {
			query.Set(s.Name, secret)
		} else {
			header.Set(s.Name, secret)
		}
	case "http":
		if strings.EqualFold(s.Scheme, "basic") {
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(secret)))
			return
		}
		header.Set("Authorization", "Bearer "+secret)
	default: // oauth2, openIdConnect
		header.Set("Authorization", "Bearer "+secret)
	}
}
