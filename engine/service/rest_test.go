package service

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
	"github.com/kgen-dev/kgen/svc"
)

// restSeen is one request as the test server saw it.
type restSeen struct {
	method, uri, body, contentType string
	header                         http.Header
}

// restTestServer records requests and answers with reply.
type restTestServer struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	seen  []restSeen
	reply func(w http.ResponseWriter, r *http.Request)
}

func startRESTTestServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *restTestServer {
	t.Helper()
	s := &restTestServer{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.calls.Add(1)
		s.mu.Lock()
		s.seen = append(s.seen, restSeen{r.Method, r.RequestURI, string(b), r.Header.Get("Content-Type"), r.Header.Clone()})
		s.mu.Unlock()
		if s.reply != nil {
			s.reply(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *restTestServer) last(t *testing.T) restSeen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("server saw no request")
	}
	return s.seen[len(s.seen)-1]
}

func replyWith(contentType, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		io.WriteString(w, body)
	}
}

func newTestRESTInvoker(t *testing.T, address string, o *svc.Options) Invoker {
	t.Helper()
	inv, err := NewInvoker(&svc.Interface{Address: address, Protocol: svc.ProtocolREST, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}

func TestRESTDefaultPost(t *testing.T) {
	s := startRESTTestServer(t, replyWith("application/json", `{"message":"hi","count":"3","txt":"t","extra":1}`))
	inv := newTestRESTInvoker(t, s.URL+"/base/", &svc.Options{Headers: map[string]string{"X-Tenant": "acme"}})
	m, req := prototest.RequestOf(t, "SayHello", `{"name":"w","big":"1099511627776","shownAs":"D","nums":[1,2]}`)
	resp, err := inv.Invoke(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	got := s.last(t)
	if got.method != "POST" || got.uri != "/base/SayHello" {
		t.Errorf("request = %s %s, want POST /base/SayHello", got.method, got.uri)
	}
	if want := `{"name":"w","big":"1099511627776","shownAs":"D","nums":[1,2]}`; prototest.CompactJSON(t, got.body) != want {
		t.Errorf("body = %s\nwant %s", got.body, want)
	}
	if got.contentType != "application/json" || got.header.Get("X-Tenant") != "acme" {
		t.Errorf("headers = %v", got.header)
	}
	if got, want := prototest.AsJSON(t, resp), `{"message":"hi","count":"3","reply_text":"t"}`; got != want {
		t.Errorf("response = %s, want %s", got, want)
	}
}

func TestRESTTranscoding(t *testing.T) {
	for _, tc := range []struct {
		rpc, req            string
		wantMethod, wantURI string
		wantBody            string
		wantErr             string
	}{
		{rpc: "GetMessage", req: `{"name":"messages/a b"}`, wantMethod: "GET", wantURI: "/v1/messages/a%20b"},
		{rpc: "GetMessage", req: `{"name":"messages/ü?#%"}`, wantMethod: "GET", wantURI: "/v1/messages/%C3%BC%3F%23%25"},
		{rpc: "GetMessage", req: `{"name":"message/123456"}`,
			wantErr: `rest call GetMessage: path field "name": value "message/123456" does not match "messages/*"`},
		{rpc: "GetMessage", req: `{"name":"messages/a/b"}`,
			wantErr: `rest call GetMessage: path field "name": value "messages/a/b" does not match "messages/*"`},
		{rpc: "GetMessage", req: `{"name":"messages/"}`,
			wantErr: `rest call GetMessage: path field "name": value "messages/" does not match "messages/*"`},
		{rpc: "GetItem", req: `{"sub":{"key":"k"}}`,
			wantErr: `rest call GetItem: path field "id": value "" does not match "*"`},
		{rpc: "GetItem",
			req:        `{"id":"a/b c","sub":{"key":"k?","level":2},"limit":5,"tags":["x","y z&"],"filter":{"key":"f"},"flag":true,"color":"RED","page":3,"labels":{"a":"b"}}`,
			wantMethod: "GET",
			wantURI:    "/v1/items/a%2Fb%20c/keys/k%3F?color=RED&filter.key=f&flag=true&limit=5&page=3&sub.level=2&tags=x&tags=y+z%26"},
		{rpc: "CreateMessage",
			req:        `{"parent":"shelves/1","message":{"name":"n","text":"t","author_name":"me"},"requestId":"r"}`,
			wantMethod: "POST", wantURI: "/v1/shelves/1/messages",
			wantBody: `{"message":{"name":"n","text":"t","writtenBy":"me"},"requestId":"r"}`},
		{rpc: "CreateMessage", req: `{"parent":"books/1"}`,
			wantErr: `rest call CreateMessage: path field "parent": value "books/1" does not match "shelves/*"`},
		{rpc: "UpdateMessage", req: `{"messageId":"m 1","message":{"text":"t"},"revision":4}`,
			wantMethod: "PATCH", wantURI: "/v1/messages/m%201?revision=4", wantBody: `{"text":"t"}`},
		{rpc: "UpdateMessage", req: `{"messageId":"m"}`, wantMethod: "PATCH", wantURI: "/v1/messages/m", wantBody: `{}`},
		{rpc: "DeleteMessage", req: `{"name":"messages/a/b c"}`, wantMethod: "DELETE", wantURI: "/v1/messages/a/b%20c"},
		{rpc: "Watch", req: `{"name":"x"}`, wantMethod: "SEARCH", wantURI: "/v1/x:watch"},
	} {
		t.Run(tc.rpc+" "+tc.req, func(t *testing.T) {
			reply := `{"name":"n","writtenBy":"w"}`
			if tc.rpc == "Watch" { // response_body: "text"
				reply = `"n"`
			}
			s := startRESTTestServer(t, replyWith("application/json", reply))
			inv := newTestRESTInvoker(t, s.URL, nil)
			m, req := prototest.RequestOf(t, tc.rpc, tc.req)
			_, err := inv.Invoke(context.Background(), m, req)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
				}
				if s.calls.Load() != 0 {
					t.Error("a bad request was sent")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := s.last(t)
			if got.method != tc.wantMethod || got.uri != tc.wantURI {
				t.Errorf("request = %s %s\nwant      %s %s", got.method, got.uri, tc.wantMethod, tc.wantURI)
			}
			if prototest.CompactJSON(t, got.body) != tc.wantBody {
				t.Errorf("body = %q, want %q", got.body, tc.wantBody)
			}
		})
	}
}

func TestRESTResponseBodyField(t *testing.T) {
	s := startRESTTestServer(t, replyWith("application/json", `"watched"`))
	inv := newTestRESTInvoker(t, s.URL, nil)
	m, req := prototest.RequestOf(t, "Watch", `{"name":"x"}`)
	resp, err := inv.Invoke(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := prototest.AsJSON(t, resp); got != `{"text":"watched"}` {
		t.Errorf("response = %s", got)
	}
}

func TestRESTResponses(t *testing.T) {
	for _, tc := range []struct {
		name, rpc, contentType, body string
		want                         string // proto-name JSON of the response
		wantErr                      string // suffix after "rest call POST <url>/<rpc>: "
	}{
		{"json names", "SayHello", "application/json", `{"message":"m","txt":"t"}`, `{"message":"m","reply_text":"t"}`, ""},
		{"proto names", "SayHello", "application/json; charset=utf-8", `{"message":"m","reply_text":"t","count":7}`, `{"message":"m","count":"7","reply_text":"t"}`, ""},
		{"unknown keys dropped", "SayHello", "application/json", `{"nope":{"a":[1]},"message":"m"}`, `{"message":"m"}`, ""},
		{"problem+json", "SayHello", "application/problem+json", `{"message":"m"}`, `{"message":"m"}`, ""},
		{"garbage json", "SayHello", "application/json", `{"message":`, "",
			"decode application/json response into transport.test.HelloReply: "},
		{"wrong type", "SayHello", "application/json", `{"count":"x"}`, "",
			"decode application/json response into transport.test.HelloReply: "},
		{"text for StringValue", "Upper", "text/plain; charset=utf-8", "Hello World", `"Hello World"`, ""},
		{"json for StringValue", "Upper", "application/json", `"abc"`, `"abc"`, ""},
		{"text for Int64Value", "Count", "text/plain", " 42\n", `"42"`, ""},
		{"text float for Int64Value", "Count", "text/plain", "42.0", `"42"`, ""},
		{"bad text for Int64Value", "Count", "text/plain", "many", "",
			`decode text/plain response into google.protobuf.Int64Value: want an integer, got "many"`},
		{"text json for message", "SayHello", "text/plain", `{"message":"m"}`, `{"message":"m"}`, ""},
		{"text for message", "SayHello", "text/plain", `hello`, "",
			`response content type "text/plain": want JSON for transport.test.HelloReply, and the body is not: `},
		{"octet-stream json", "SayHello", "application/octet-stream", `{"message":"m"}`, `{"message":"m"}`, ""},
		{"xml", "SayHello", "application/xml", `<a/>`, "",
			`response content type "application/xml": want JSON for transport.test.HelloReply, and the body is not: `},
		{"no content type", "SayHello", "", `<a/>`, "",
			`response content type "text/plain": want JSON for transport.test.HelloReply, and the body is not: `}, // Go sniffs text/plain
		{"empty body", "SayHello", "application/json", ``, `{}`, ""},
		{"empty for Empty", "Nothing", "", ``, `{}`, ""},
		{"text for Empty", "Nothing", "text/plain", `OK`, `{}`, ""},
		{"body over the limit", "SayHello", "application/json", `{"message":"` + strings.Repeat("m", restBodyLimit) + `"}`, "",
			"200 OK: the response body is larger than the limit of 33554432 bytes"},
		{"deep json", "SayHello", "application/json", strings.Repeat("[", 400_000) + strings.Repeat("]", 400_000), "",
			"decode application/json response into transport.test.HelloReply: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startRESTTestServer(t, replyWith(tc.contentType, tc.body))
			inv := newTestRESTInvoker(t, s.URL, nil)
			m := prototest.TransportMethod(t, tc.rpc)
			resp, err := inv.Invoke(context.Background(), m, dynamicpb.NewMessage(m.Input()))
			if tc.wantErr != "" {
				prefix := "rest call POST " + s.URL + "/" + tc.rpc + ": " + tc.wantErr
				if err == nil || !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("err = %v\nwant prefix %s", err, prefix)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := prototest.AsJSON(t, resp); got != tc.want {
				t.Errorf("response = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRESTStatusAndRetries(t *testing.T) {
	long := strings.Repeat("x", 600)
	for _, tc := range []struct {
		name      string
		status    []int // per call, the last repeats
		body      string
		retries   int
		wantCalls int64
		wantErr   string // after "rest call POST <url>/SayHello: "
	}{
		{"500 retried then fails", []int{500}, "boom\n", 2, 3, "500 Internal Server Error: boom"},
		{"503 then ok", []int{503, 200}, `{}`, 2, 2, ""},
		{"429 retried", []int{429, 429, 200}, `{}`, 3, 3, ""},
		{"404 not retried", []int{404}, "no such thing", 3, 1, "404 Not Found: no such thing"},
		{"400 not retried", []int{400}, "bad", 3, 1, "400 Bad Request: bad"},
		{"long body truncated", []int{502}, long, 0, 1, "502 Bad Gateway: " + long[:512] + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			s := startRESTTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := min(int(n.Add(1))-1, len(tc.status)-1)
				w.WriteHeader(tc.status[i])
				io.WriteString(w, tc.body)
			})
			inv := newTestRESTInvoker(t, s.URL, &svc.Options{RetryCount: tc.retries, RetryInterval: svc.Duration(5 * time.Millisecond)})
			m, req := prototest.RequestOf(t, "SayHello", `{}`)
			_, err := inv.Invoke(context.Background(), m, req)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if want := "rest call POST " + s.URL + "/SayHello: " + tc.wantErr; tc.wantErr != "" && (err == nil || err.Error() != want) {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			if got := s.calls.Load(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestRESTTimeoutAndDown(t *testing.T) {
	s := startRESTTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	inv := newTestRESTInvoker(t, s.URL, &svc.Options{Timeout: svc.Duration(200 * time.Millisecond), RetryCount: 1, RetryInterval: svc.Duration(time.Millisecond)})
	m, req := prototest.RequestOf(t, "SayHello", `{}`)
	start := time.Now()
	_, err := inv.Invoke(context.Background(), m, req)
	if want := "rest call POST " + s.URL + "/SayHello: timed out after 200ms"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if d := time.Since(start); d > 2*200*time.Millisecond+time.Second {
		t.Errorf("took %v", d)
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("calls = %d, want 2 (a timeout is retried)", got)
	}

	down := startRESTTestServer(t, nil)
	down.Close()
	inv = newTestRESTInvoker(t, down.URL, &svc.Options{RetryCount: 2, RetryInterval: svc.Duration(time.Millisecond)})
	_, err = inv.Invoke(context.Background(), m, req)
	if prefix := "rest call POST " + down.URL + "/SayHello: dial tcp"; err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("err = %v, want prefix %s", err, prefix)
	}

	// a cancelled caller stops retrying at once
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv = newTestRESTInvoker(t, s.URL, &svc.Options{RetryCount: 100, RetryInterval: svc.Duration(time.Hour)})
	if _, err = inv.Invoke(ctx, m, req); err == nil {
		t.Error("cancelled call: no error")
	}
}

// TestRESTInvokerAgainstHandler calls a svc.NewRESTHandler with the REST
// invoker: requests and replies cross unchanged, and an error reply reaches
// the caller with its status and JSON error. (svc's tests cover the
// transcoding itself, both ways.)
func TestRESTInvokerAgainstHandler(t *testing.T) {
	var mu sync.Mutex
	var got, reply proto.Message
	var fail error
	var methods []svc.RESTMethod
	ms := prototest.Transport(t).Services().ByName("Greeter").Methods()
	for i := range ms.Len() {
		m := ms.Get(i)
		methods = append(methods, svc.RESTMethod{
			Desc: m,
			New:  func() proto.Message { return dynamicpb.NewMessage(m.Input()) },
			Call: func(_ context.Context, req proto.Message) (proto.Message, error) {
				mu.Lock()
				defer mu.Unlock()
				got = req
				return reply, fail
			},
		})
	}
	h, err := svc.NewRESTHandler(methods...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	inv := newTestRESTInvoker(t, srv.URL, nil)
	for _, tc := range []struct{ rpc, req, reply, wantReply string }{
		{"SayHello", `{"name":"w","big":"1099511627776","shownAs":"D","nums":[1,2]}`, `{"message":"hi","count":"3","txt":"t"}`, ""},
		{"GetItem", `{"id":"a/b c","sub":{"key":"k?","level":2},"limit":5,"tags":["x","y z&"],"color":"RED","page":3}`, `{"name":"n"}`, ""},
		{"UpdateMessage", `{"messageId":"m 1","message":{"text":"t"},"revision":4}`, `{"text":"t","views":"1"}`, ""},
		{"Watch", `{"name":"x"}`, `{"name":"dropped","text":"watched"}`, `{"text":"watched"}`},
	} {
		m, req := prototest.RequestOf(t, tc.rpc, tc.req)
		want := dynamicpb.NewMessage(m.Output())
		if err := protojson.Unmarshal([]byte(cmp.Or(tc.wantReply, tc.reply)), want); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		reply = dynamicpb.NewMessage(m.Output())
		if err := protojson.Unmarshal([]byte(tc.reply), reply); err != nil {
			t.Fatal(err)
		}
		got = nil
		mu.Unlock()
		resp, err := inv.Invoke(context.Background(), m, req)
		if err != nil {
			t.Fatalf("%s: %v", tc.rpc, err)
		}
		mu.Lock()
		if got == nil || !proto.Equal(got, req) {
			t.Errorf("%s: implementation got %v\nwant %s", tc.rpc, got, prototest.AsJSON(t, req))
		}
		mu.Unlock()
		if !proto.Equal(resp, want) {
			t.Errorf("%s: invoker decoded %s\nwant %s", tc.rpc, prototest.AsJSON(t, resp), prototest.AsJSON(t, want))
		}
	}

	mu.Lock()
	reply, fail = nil, status.Error(codes.NotFound, "no such")
	mu.Unlock()
	m, req := prototest.RequestOf(t, "SayHello", `{}`)
	_, err = inv.Invoke(context.Background(), m, req)
	if want := "rest call POST " + srv.URL + `/SayHello: 404 Not Found: {"code":5,"message":"no such"}`; err == nil || err.Error() != want {
		t.Errorf("invoker: %v\nwant %s", err, want)
	}
}

// TestRESTInvokeSQL: a JSON reply maps to the keys the service sent, typed
// by the schema; other replies map as svc.ToSQL maps the message.
func TestRESTInvokeSQL(t *testing.T) {
	for _, tc := range []struct {
		name, rpc, contentType, body string
		want                         any
		wantErr                      string // after "rest call POST <url>/<rpc>: "
	}{
		{"one key of three", "SayHello", "application/json", `{"message":"m"}`, map[string]any{"message": "m"}, ""},
		{"json name, int64 as string", "SayHello", "application/json", `{"txt":"t","count":"7"}`,
			map[string]any{"reply_text": "t", "count": int64(7)}, ""},
		{"proto name, null", "SayHello", "application/json", `{"reply_text":"t","message":null}`,
			map[string]any{"reply_text": "t", "message": nil}, ""},
		{"text for StringValue", "Upper", "text/plain", "Hello World", "Hello World", ""},
		{"empty body", "SayHello", "application/json", ``, map[string]any{"message": "", "count": int64(0), "reply_text": ""}, ""},
		{"wrong type", "SayHello", "application/json", `{"count":"x"}`, nil,
			"decode application/json response into transport.test.HelloReply: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startRESTTestServer(t, replyWith(tc.contentType, tc.body))
			inv := newTestRESTInvoker(t, s.URL, nil)
			m := prototest.TransportMethod(t, tc.rpc)
			got, err := inv.InvokeSQL(context.Background(), m, dynamicpb.NewMessage(m.Input()))
			if tc.wantErr != "" {
				prefix := "rest call POST " + s.URL + "/" + tc.rpc + ": " + tc.wantErr
				if err == nil || !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("err = %v\nwant prefix %s", err, prefix)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}

	// response_body: the body is the one field, and only it is there.
	s := startRESTTestServer(t, replyWith("application/json", `"watched"`))
	m, req := prototest.RequestOf(t, "Watch", `{"name":"x"}`)
	got, err := newTestRESTInvoker(t, s.URL, nil).InvokeSQL(context.Background(), m, req)
	if want := map[string]any{"text": "watched"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Watch: got %#v, %v, want %#v", got, err, want)
	}
}
