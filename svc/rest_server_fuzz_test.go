package svc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// FuzzRESTServer serves arbitrary requests with a handler over the test
// Greeter, whose rpcs answer their request where the types agree: any
// status is fine, panics are not, and every reply is JSON.
func FuzzRESTServer(f *testing.F) {
	h, err := NewRESTHandler(greeterRESTMethods(f, func(_ context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
		if m.Input() == m.Output() {
			return req, nil
		}
		return dynamicpb.NewMessage(m.Output()), nil
	})...)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ method, path, query, body string }{
		{"POST", "/SayHello", "", `{"name":"w","big":"1","shownAs":"D","nums":[1,2]}`},
		{"GET", "/v1/items/a%2Fb/keys/k", "limit=5&tags=x&tags=y&sub.level=2&color=RED&page=3", ""},
		{"GET", "/v1/kinds/s/-5/AQ==/RED", "at=2024-01-02T03:04:05Z&wait=1s&at.nanos=1&word=w&number=1&blobs=_-8", ""},
		{"PUT", "/v1/kinds/keys/k", "", `{"sub":{"level":2},"counts":{"a":1},"subs":[{}]}`},
		{"POST", "/v1/kinds/x:y:tag", "flag=1", `["1","2"]`},
		{"PATCH", "/v1/messages/m", "revision=4", `{"text":"t"}`},
		{"DELETE", "/v1/messages//a/", "", ""},
		{"SEARCH", "/v1/x:watch", "", ""},
		{"GET", "/v2/things/a:find", "", ""},
		{"GET", "/v1/describe/%zz", "%", "{"},
	} {
		f.Add(seed.method, seed.path, seed.query, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		u, err := url.ParseRequestURI(path + "?" + query)
		if err != nil {
			u = &url.URL{Path: path, RawPath: path, RawQuery: query}
		}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 404, 405, 413, 500:
		default:
			t.Fatalf("%s %s: status %d", method, u, w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: %d reply is not JSON: %q", method, u, w.Code, w.Body.Bytes())
		}
	})
}

// FuzzRESTRoundTrip transcodes requests of every rpc with arbitrary text
// in their string fields with NewHTTPCall, and serves them: whatever
// the client can send, the implementation must get unchanged.
func FuzzRESTRoundTrip(f *testing.F) {
	var mu sync.Mutex
	var got proto.Message
	h, err := NewRESTHandler(greeterRESTMethods(f, func(_ context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
		mu.Lock()
		got = req
		mu.Unlock()
		return dynamicpb.NewMessage(m.Output()), nil
	})...)
	if err != nil {
		f.Fatal(err)
	}
	methods := prototest.Transport(f).Services().ByName("Greeter").Methods()
	f.Add("messages/a b", "k", uint8(5))
	f.Add("shelves/1", "x/y", uint8(7))
	f.Add("messages//%2F:watch", "ü?#&=+", uint8(10))
	f.Add("a:tag", "", uint8(13))
	f.Fuzz(func(t *testing.T, s1, s2 string, which uint8) {
		if !utf8.ValidString(s1) || !utf8.ValidString(s2) {
			return
		}
		m := methods.Get(int(which) % methods.Len())
		req := dynamicpb.NewMessage(m.Input())
		fields := m.Input().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() && fd.ContainingOneof() == nil {
				v := s1
				if i%2 == 1 {
					v = s2
				}
				req.Set(fd, protoreflect.ValueOfString(v))
			}
		}
		call, err := NewHTTPCall(m, req)
		if err != nil {
			return
		}
		target := "http://h" + call.Path
		if call.Query != "" {
			target += "?" + call.Query
		}
		r, err := http.NewRequest(call.Method, target, bytes.NewReader(call.Body))
		if err != nil {
			t.Fatalf("%s %s: %v", call.Method, target, err)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s %s: %d %s", call.Method, target, w.Code, w.Body)
		}
		mu.Lock()
		defer mu.Unlock()
		if got == nil || !proto.Equal(got, req) {
			t.Fatalf("%s %s %s: implementation got %v, want %v", call.Method, target, call.Body, got, req)
		}
	})
}
