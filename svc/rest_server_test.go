package svc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// greeterRESTMethods serves every rpc of the test Greeter with dynamic
// messages through call.
func greeterRESTMethods(t testing.TB, call func(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error)) []RESTMethod {
	t.Helper()
	ms := prototest.Transport(t).Services().ByName("Greeter").Methods()
	var out []RESTMethod
	for i := range ms.Len() {
		m := ms.Get(i)
		out = append(out, RESTMethod{
			Desc: m,
			New:  func() proto.Message { return dynamicpb.NewMessage(m.Input()) },
			Call: func(ctx context.Context, req proto.Message) (proto.Message, error) { return call(ctx, m, req) },
		})
	}
	return out
}

func startRESTServer(t *testing.T, methods ...RESTMethod) *httptest.Server {
	t.Helper()
	h, err := NewRESTHandler(methods...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// messageOf builds a message of md from protobuf JSON.
func messageOf(t testing.TB, md protoreflect.MessageDescriptor, js string) proto.Message {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatalf("%s %s: %v", md.FullName(), js, err)
	}
	return m
}

// restRecorder is the implementation behind a round-trip server: it keeps
// the last request and answers reply.
type restRecorder struct {
	mu    sync.Mutex
	got   proto.Message
	reply proto.Message
	err   error
}

func (r *restRecorder) call(_ context.Context, _ protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = req
	return r.reply, r.err
}

func (r *restRecorder) set(reply proto.Message, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.reply, r.err = nil, reply, err
}

func (r *restRecorder) last() proto.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// restTestClient calls rpcs over HTTP as the engine's REST transport
// does, with NewHTTPCall and HTTPCall.DecodeResponse (without its retries,
// headers and timeouts).
type restTestClient struct{ base string }

func (c restTestClient) Invoke(ctx context.Context, m protoreflect.MethodDescriptor, req proto.Message) (proto.Message, error) {
	call, err := NewHTTPCall(m, req)
	if err != nil {
		return nil, err
	}
	target := c.base + call.Path
	if call.Query != "" {
		target += "?" + call.Query
	}
	var body io.Reader
	if call.Body != nil {
		body = bytes.NewReader(call.Body)
	}
	r, err := http.NewRequestWithContext(ctx, call.Method, target, body)
	if err != nil {
		return nil, err
	}
	if call.Body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("%s %s: %s: %s", call.Method, target, res.Status, bytes.TrimSpace(data))
	}
	out := dynamicpb.NewMessage(m.Output())
	if err := call.DecodeResponse(res.Header.Get("Content-Type"), data, out); err != nil {
		return nil, err
	}
	return out, nil
}

// TestRESTServerRoundTrip sends requests transcoded by NewHTTPCall to a
// NewRESTHandler: the implementation must get the request that was sent,
// and HTTPCall.DecodeResponse must decode what it answered.
func TestRESTServerRoundTrip(t *testing.T) {
	rec := &restRecorder{}
	srv := startRESTServer(t, greeterRESTMethods(t, rec.call)...)
	inv := restTestClient{srv.URL}
	for _, tc := range []struct {
		name, rpc, req, reply string
		// wantReply is what the client decodes when it is not reply
		// (response_body writes one field).
		wantReply string
	}{
		{name: "default POST", rpc: "SayHello",
			req:   `{"name":"w","big":"1099511627776","shownAs":"D","nums":[1,2]}`,
			reply: `{"message":"hi","count":"3","txt":"t"}`},
		{name: "default POST empty", rpc: "SayHello", req: `{}`, reply: `{}`},
		{name: "wrapper in and out", rpc: "Upper", req: `"abc"`, reply: `"ABC"`},
		{name: "Empty in", rpc: "Count", req: `{}`, reply: `"42"`},
		{name: "Empty in and out", rpc: "Nothing", req: `{}`, reply: `{}`},

		{name: "prefix template, space", rpc: "GetMessage", req: `{"name":"messages/a b"}`,
			reply: `{"name":"n","writtenBy":"w","views":"7"}`},
		{name: "prefix template, escapes", rpc: "GetMessage", req: `{"name":"messages/ü?#%"}`, reply: `{}`},
		{name: "prefix template, reserved", rpc: "GetMessage", req: `{"name":"messages/a+b=c&d;e,f:g@h$!'()*"}`, reply: `{}`},
		{name: "path vars and query", rpc: "GetItem",
			req:   `{"id":"a/b c","sub":{"key":"k?","level":2},"limit":5,"tags":["x","y z&"],"filter":{"key":"f"},"flag":true,"color":"RED","page":3}`,
			reply: `{"name":"n"}`},
		{name: "unicode and percent in path vars", rpc: "GetItem",
			req:   `{"id":"日本/%25 ü","sub":{"key":"🙂%2F/"},"tags":["%","/"," ","ü"]}`,
			reply: `{}`},
		{name: "wrapper query at zero", rpc: "GetItem", req: `{"id":"i","sub":{"key":"k"},"page":0}`, reply: `{}`},
		{name: "body star", rpc: "CreateMessage",
			req:   `{"parent":"shelves/1","message":{"name":"n","text":"t","author_name":"me"},"requestId":"r"}`,
			reply: `{"name":"shelves/1/messages/n"}`},
		{name: "body star, empty message", rpc: "CreateMessage", req: `{"parent":"shelves/x y","message":{}}`, reply: `{}`},
		{name: "body field and query", rpc: "UpdateMessage",
			req:   `{"messageId":"m 1","message":{"text":"t"},"revision":4}`,
			reply: `{"text":"t","views":"1"}`},
		{name: "body field unset", rpc: "UpdateMessage", req: `{"messageId":"m"}`, reply: `{}`},
		{name: "double star", rpc: "DeleteMessage", req: `{"name":"messages/a/b c"}`, reply: `{}`},
		{name: "double star, no segment", rpc: "DeleteMessage", req: `{"name":"messages"}`, reply: `{}`},
		{name: "double star, empty segments", rpc: "DeleteMessage", req: `{"name":"messages//x/"}`, reply: `{}`},
		{name: "custom verb and response_body", rpc: "Watch", req: `{"name":"x"}`,
			reply: `{"name":"dropped","text":"watched"}`, wantReply: `{"text":"watched"}`},
		{name: "verb inside the value", rpc: "Watch", req: `{"name":"a:watch"}`,
			reply: `{}`, wantReply: `{}`},

		{name: "every kind", rpc: "QueryKinds",
			req: `{"s":"a/b","i64":"-5","b":"/+8=","color":"RED","i32":-3,"u32":7,"u64":"18446744073709551615",` +
				`"f":1.5,"d":-0.1,"flag":true,"ids":["1","-2"],"colors":["RED","COLOR_UNSPECIFIED"],"blobs":["AA==","/w==",""],` +
				`"ratios":[0.5,1e300],"at":"2024-05-06T07:08:09.123456789Z","wait":"-1.5s","note":"n o","raw":"AQI=",` +
				`"on":false,"maybe":0,"sub":{"level":3},"word":"w","sf32":-9}`,
			reply: `{"s":"s","b":"AQ==","counts":{"a":1},"subs":[{"key":"x"}],"at":"1970-01-01T00:00:00Z","note":"","number":0}`},
		{name: "special floats and the other oneof", rpc: "QueryKinds",
			req:   `{"s":"s","i64":"0","b":"AA==","color":"COLOR_UNSPECIFIED","f":"-Infinity","d":"NaN","number":0,"ratios":["Infinity"]}`,
			reply: `{"f":"NaN","d":"-Infinity"}`},
		{name: "body star with a nested path var", rpc: "PutKinds",
			req: `{"sub":{"key":"keys/k 1","level":2},"counts":{"a":1,"b":-2},"subs":[{"key":"x"},{}],` +
				`"b":"AQ==","at":"2000-01-01T00:00:00Z","note":"","maybe":0,"number":5}`,
			reply: `{"sub":{"key":"keys/k 1"}}`},
		{name: "body star, path var only", rpc: "PutKinds", req: `{"sub":{"key":"keys/a"}}`, reply: `{}`},
		{name: "repeated body field, verb", rpc: "TagKinds",
			req:   `{"s":"x:y","ids":["1","2"],"flag":true,"sub":{"key":"k"},"blobs":["_-8="]}`,
			reply: `{"ids":["3"]}`},
		{name: "repeated body field unset", rpc: "TagKinds", req: `{"s":"x"}`, reply: `{}`},
		{name: "response_body message", rpc: "Describe", req: `{"name":"a/b/c d"}`,
			reply: `{"s":"dropped","sub":{"key":"k","level":1}}`, wantReply: `{"sub":{"key":"k","level":1}}`},
		{name: "response_body unset message", rpc: "Describe", req: `{"name":""}`,
			reply: `{"s":"dropped"}`, wantReply: `{}`},
		{name: "first of additional bindings", rpc: "Find", req: `{"name":"f g"}`, reply: `{"name":"found"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, req := prototest.RequestOf(t, tc.rpc, tc.req)
			reply := messageOf(t, m.Output(), tc.reply)
			want := reply
			if tc.wantReply != "" {
				want = messageOf(t, m.Output(), tc.wantReply)
			}
			rec.set(reply, nil)
			resp, err := inv.Invoke(context.Background(), m, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.last(); got == nil || !proto.Equal(got, req) {
				t.Errorf("implementation got %v\nwant %s", got, prototest.AsJSON(t, req))
			}
			if !proto.Equal(resp, want) {
				t.Errorf("client decoded %s\nwant %s", prototest.AsJSON(t, resp), prototest.AsJSON(t, want))
			}
		})
	}
}

// TestRESTServerCompiledMessages serves generated message types: New and
// the reply need not be dynamic.
func TestRESTServerCompiledMessages(t *testing.T) {
	methods := []RESTMethod{
		{
			Desc: prototest.TransportMethod(t, "Upper"),
			New:  func() proto.Message { return &wrapperspb.StringValue{} },
			Call: func(_ context.Context, req proto.Message) (proto.Message, error) {
				return wrapperspb.String(strings.ToUpper(req.(*wrapperspb.StringValue).GetValue())), nil
			},
		},
		{
			Desc: prototest.TransportMethod(t, "Count"),
			New:  func() proto.Message { return &emptypb.Empty{} },
			Call: func(context.Context, proto.Message) (proto.Message, error) { return wrapperspb.Int64(42), nil },
		},
	}
	srv := startRESTServer(t, methods...)
	inv := restTestClient{srv.URL}
	m, req := prototest.RequestOf(t, "Upper", `"héllo"`)
	resp, err := inv.Invoke(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := prototest.AsJSON(t, resp); got != `"HÉLLO"` {
		t.Errorf("Upper = %s", got)
	}
	m, req = prototest.RequestOf(t, "Count", `{}`)
	if resp, err = inv.Invoke(context.Background(), m, req); err != nil {
		t.Fatal(err)
	}
	if got := prototest.AsJSON(t, resp); got != `"42"` {
		t.Errorf("Count = %s", got)
	}
}

// restDo sends one raw request and returns status, Allow header and body.
func restDo(t *testing.T, method, target, body string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	return res.StatusCode, res.Header.Get("Allow"), string(b)
}

// TestRESTServerAdditionalBindings reaches one rpc through each of its
// bindings; NewHTTPCall only ever uses the first.
func TestRESTServerAdditionalBindings(t *testing.T) {
	rec := &restRecorder{}
	srv := startRESTServer(t, greeterRESTMethods(t, rec.call)...)
	m := prototest.TransportMethod(t, "Find")
	for _, tc := range []struct {
		method, path, body string
		want               string // the request the implementation gets
	}{
		{"GET", "/v1/find/a%2Fb%20c", "", `{"name":"a/b c"}`},
		{"POST", "/v1/find", `{"name":"x y"}`, `{"name":"x y"}`},
		{"POST", "/v1/find?name=ignored", `{}`, `{}`},
		{"GET", "/v2/things/a/b%20c:find", "", `{"name":"things/a/b c"}`},
		{"GET", "/v2/things:find", "", `{"name":"things"}`},
	} {
		rec.set(messageOf(t, m.Output(), `{"text":"t"}`), nil)
		status, _, body := restDo(t, tc.method, srv.URL+tc.path, tc.body)
		if status != 200 || prototest.CompactJSON(t, body) != `{"name":"","text":"t","views":"0","writtenBy":""}` {
			t.Errorf("%s %s = %d %s", tc.method, tc.path, status, body)
		}
		if got, want := rec.last(), messageOf(t, m.Input(), tc.want); got == nil || !proto.Equal(got, want) {
			t.Errorf("%s %s: implementation got %v, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestRESTServerLenientInput takes what NewHTTPCall does not send but
// grpc-gateway clients do: proto names, enum numbers, standard base64,
// RFC 3339 timestamps; it ignores unknown and path-bound parameters.
func TestRESTServerLenientInput(t *testing.T) {
	rec := &restRecorder{}
	srv := startRESTServer(t, greeterRESTMethods(t, rec.call)...)
	for _, tc := range []struct {
		rpc, method, path, body string
		want                    string
	}{
		{"GetItem", "GET", "/v1/items/i/keys/k?id=other&sub.key=other&sub.level=2&nope=1&labels%5Ba%5D=b&page=7", "",
			`{"id":"i","sub":{"key":"k","level":2},"page":7}`},
		{"QueryKinds", "GET", "/v1/kinds/s/1/%2F%2B8%3D/1?colors=1&colors=RED&blobs=AQ&at=2024-01-02T03:04:05Z&wait=2s&flag=1&sf32=-1", "",
			`{"s":"s","i64":"1","b":"/+8=","color":"RED","colors":["RED","RED"],"blobs":["AQ=="],"at":"2024-01-02T03:04:05Z","wait":"2s","flag":true,"sf32":-1}`},
		{"SayHello", "POST", "/SayHello", `{"display_name":"p","unknown":{"x":[1]}}`, `{"shownAs":"p"}`},
		{"SayHello", "POST", "/SayHello", ``, `{}`},
		{"UpdateMessage", "PATCH", "/v1/messages/m?message.text=ignored", ` { } `, `{"messageId":"m"}`},
		{"CreateMessage", "POST", "/v1/shelves/1/messages?requestId=ignored", `{"parent":"shelves/2","requestId":"r"}`,
			`{"parent":"shelves/1","requestId":"r"}`},
	} {
		m := prototest.TransportMethod(t, tc.rpc)
		rec.set(dynamicpb.NewMessage(m.Output()), nil)
		if status, _, body := restDo(t, tc.method, srv.URL+tc.path, tc.body); status != 200 {
			t.Errorf("%s %s = %d %s", tc.method, tc.path, status, body)
			continue
		}
		if got, want := rec.last(), messageOf(t, m.Input(), tc.want); got == nil || !proto.Equal(got, want) {
			t.Errorf("%s %s: implementation got %v\nwant %s", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestRESTServerRequestErrors(t *testing.T) {
	rec := &restRecorder{}
	srv := startRESTServer(t, greeterRESTMethods(t, rec.call)...)
	for _, tc := range []struct {
		method, path, body string
		wantStatus         int
		wantAllow          string
		wantBody           string
	}{
		{"GET", "/nope", "", 404, "", `{"code":5,"message":"no rpc serves GET \"/nope\""}`},
		{"GET", "/x%20y/", "", 404, "", `{"code":5,"message":"no rpc serves GET \"/x%20y/\""}`},
		{"GET", "/v1/shelves/", "", 404, "", `{"code":5,"message":"no rpc serves GET \"/v1/shelves/\""}`},
		{"GET", "/v1/messages/", "", 405, "DELETE", `{"code":12,"message":"method GET not allowed for \"/v1/messages/\", want DELETE"}`},
		{"GET", "/v1/x:unwatch", "", 404, "", `{"code":5,"message":"no rpc serves GET \"/v1/x:unwatch\""}`},
		{"GET", "/SayHello", "", 405, "POST", `{"code":12,"message":"method GET not allowed for \"/SayHello\", want POST"}`},
		{"PUT", "/v1/messages/a", "", 405, "DELETE, GET, PATCH",
			`{"code":12,"message":"method PUT not allowed for \"/v1/messages/a\", want DELETE or GET or PATCH"}`},
		{"GET", "/v1/x:watch", "", 405, "SEARCH", `{"code":12,"message":"method GET not allowed for \"/v1/x:watch\", want SEARCH"}`},

		{"GET", "/v1/items/a/keys/b?limit=x", "", 400, "",
			`{"code":3,"message":"query parameter \"limit\": want a 32-bit integer, got \"x\""}`},
		{"GET", "/v1/items/a/keys/b?limit=1&limit=2", "", 400, "",
			`{"code":3,"message":"query parameter \"limit\": want one value, got 2"}`},
		{"GET", "/v1/items/a/keys/b?labels=x", "", 400, "",
			`{"code":3,"message":"query parameter \"labels\": want a scalar field, got map"}`},
		{"GET", "/v1/items/a/keys/b?filter=x", "", 400, "",
			`{"code":3,"message":"query parameter \"filter\": want a scalar field, got message transport.test.Sub"}`},
		{"GET", "/v1/items/a/keys/b?color=BLUE", "", 400, "",
			`{"code":3,"message":"query parameter \"color\": want a value of enum transport.test.Color, got \"BLUE\""}`},
		{"GET", "/v1/items/a/keys/b?flag=yes", "", 400, "",
			`{"code":3,"message":"query parameter \"flag\": want true or false, got \"yes\""}`},
		{"GET", "/v1/items/a/keys/b?page=1.5", "", 400, "",
			`{"code":3,"message":"query parameter \"page\": want a 32-bit integer, got \"1.5\""}`},
		{"GET", "/v1/items/a/keys/b?a=%zz", "", 400, "",
			`{"code":3,"message":"query: invalid URL escape \"%zz\""}`},
		{"GET", "/v1/items/%FF/keys/b", "", 400, "",
			`{"code":3,"message":"path variable \"id\": want UTF-8 text, got \"\\xff\""}`},
		{"GET", "/v1/kinds/s/x/AA/RED", "", 400, "",
			`{"code":3,"message":"path variable \"i64\": want a 64-bit integer, got \"x\""}`},
		{"GET", "/v1/kinds/s/1/!!/RED", "", 400, "",
			`{"code":3,"message":"path variable \"b\": want base64, got \"!!\""}`},
		{"GET", "/v1/kinds/s/1/AA/RED?u32=-1", "", 400, "",
			`{"code":3,"message":"query parameter \"u32\": want an unsigned 32-bit integer, got \"-1\""}`},
		{"GET", "/v1/kinds/s/1/AA/RED?f=1e40", "", 400, "",
			`{"code":3,"message":"query parameter \"f\": want a 32-bit number, got \"1e40\""}`},
		{"GET", "/v1/kinds/s/1/AA/RED?word=a&number=1", "", 400, "",
			`{"code":3,"message":"query parameter \"word\": oneof choice already has number set"}`},
		{"GET", "/v1/kinds/s/1/AA/RED?at=yesterday", "", 400, "",
			`{"code":3,"message":"query parameter \"at\": want a google.protobuf.Timestamp in JSON form, got \"yesterday\""}`},
		{"GET", "/v1/kinds/s/1/AA/RED?subs=x", "", 400, "",
			`{"code":3,"message":"query parameter \"subs\": want a scalar field, got repeated message transport.test.Sub"}`},
		{"GET", "/v1/kinds/s/1/AA/RED?subs.key=x", "", 400, "",
			`{"code":3,"message":"query parameter \"subs.key\": field \"subs\" is repeated message transport.test.Sub, not a singular message"}`},
		{"GET", "/v1/kinds/s/1/AA/RED?i32.x=1", "", 400, "",
			`{"code":3,"message":"query parameter \"i32.x\": field \"i32\" is int32, not a singular message"}`},
		{"POST", "/SayHello", `{"name":5}`, 400, "",
			`{"code":3,"message":"body: (line 1:9): invalid value for string field name: 5"}`},
		{"POST", "/SayHello", `{"name":`, 400, "",
			`{"code":3,"message":"body: unexpected EOF"}`},
		{"PATCH", "/v1/messages/m", `{"views":"x"}`, 400, "",
			`{"code":3,"message":"body field \"message\": (line 1:10): invalid value for int64 field views: \"x\""}`},
		{"POST", "/v1/kinds/s:tag", `["1",`, 400, "",
			`{"code":3,"message":"body field \"ids\": not one JSON value"}`},
		{"POST", "/v1/kinds/s:tag", `["x"]`, 400, "",
			`{"code":3,"message":"body field \"ids\": (line 1:9): invalid value for int64 field ids: \"x\""}`},
		{"PUT", "/v1/kinds/keys/k", `{"word":"w"}`, 200, "", `{}`},
	} {
		rec.set(nil, nil)
		status, allow, body := restDo(t, tc.method, srv.URL+tc.path, tc.body)
		if status != tc.wantStatus || allow != tc.wantAllow || body != tc.wantBody {
			t.Errorf("%s %s %s\n got %d [%s] %s\nwant %d [%s] %s", tc.method, tc.path, tc.body,
				status, allow, body, tc.wantStatus, tc.wantAllow, tc.wantBody)
		}
		if tc.wantStatus != 200 && rec.last() != nil {
			t.Errorf("%s %s: a bad request was served", tc.method, tc.path)
		}
	}
}

func TestRESTServerBodyLimit(t *testing.T) {
	rec := &restRecorder{}
	srv := startRESTServer(t, greeterRESTMethods(t, rec.call)...)
	big := `{"name":"` + strings.Repeat("x", restRequestLimit) + `"}`
	status, _, body := restDo(t, "POST", srv.URL+"/SayHello", big)
	if want := `{"code":8,"message":"request body over 16777216 bytes"}`; status != 413 || body != want {
		t.Errorf("got %d %s, want 413 %s", status, body, want)
	}
	rec.set(nil, nil)
	justFits := `{"name":"` + strings.Repeat("x", restRequestLimit-len(`{"name":""}`)) + `"}`
	if status, _, body := restDo(t, "POST", srv.URL+"/SayHello", justFits); status != 200 {
		t.Errorf("a body of the limit: %d %.100s", status, body)
	}
}

func TestRESTServerCallErrors(t *testing.T) {
	var next func() (proto.Message, error)
	var mu sync.Mutex
	srv := startRESTServer(t, greeterRESTMethods(t, func(context.Context, protoreflect.MethodDescriptor, proto.Message) (proto.Message, error) {
		mu.Lock()
		f := next
		mu.Unlock()
		return f()
	})...)
	fail := func(err error) func() (proto.Message, error) {
		return func() (proto.Message, error) { return nil, err }
	}
	for _, tc := range []struct {
		name       string
		call       func() (proto.Message, error)
		wantStatus int
		wantBody   string
	}{
		{"NotFound", fail(status.Error(codes.NotFound, "no such")), 404, `{"code":5,"message":"no such"}`},
		{"InvalidArgument", fail(status.Error(codes.InvalidArgument, "bad")), 400, `{"code":3,"message":"bad"}`},
		{"FailedPrecondition", fail(status.Error(codes.FailedPrecondition, "not yet")), 400, `{"code":9,"message":"not yet"}`},
		{"OutOfRange", fail(status.Error(codes.OutOfRange, "far")), 400, `{"code":11,"message":"far"}`},
		{"Unauthenticated", fail(status.Error(codes.Unauthenticated, "who")), 401, `{"code":16,"message":"who"}`},
		{"PermissionDenied", fail(status.Error(codes.PermissionDenied, "no")), 403, `{"code":7,"message":"no"}`},
		{"AlreadyExists", fail(status.Error(codes.AlreadyExists, "dup")), 409, `{"code":6,"message":"dup"}`},
		{"Aborted", fail(status.Error(codes.Aborted, "again")), 409, `{"code":10,"message":"again"}`},
		{"ResourceExhausted", fail(status.Error(codes.ResourceExhausted, "slow down")), 429, `{"code":8,"message":"slow down"}`},
		{"Canceled", fail(status.Error(codes.Canceled, "gone")), 499, `{"code":1,"message":"gone"}`},
		{"Unknown", fail(status.Error(codes.Unknown, "?")), 500, `{"code":2,"message":"?"}`},
		{"Internal", fail(status.Error(codes.Internal, "oops")), 500, `{"code":13,"message":"oops"}`},
		{"DataLoss", fail(status.Error(codes.DataLoss, "lost")), 500, `{"code":15,"message":"lost"}`},
		{"Unimplemented", fail(status.Error(codes.Unimplemented, "later")), 501, `{"code":12,"message":"later"}`},
		{"Unavailable", fail(status.Error(codes.Unavailable, "down")), 503, `{"code":14,"message":"down"}`},
		{"DeadlineExceeded", fail(status.Error(codes.DeadlineExceeded, "late")), 504, `{"code":4,"message":"late"}`},
		{"code out of range", fail(status.Error(codes.Code(99), "odd")), 500, `{"code":99,"message":"odd"}`},
		{"wrapped status", fail(fmt.Errorf("lookup: %w", status.Error(codes.NotFound, "x"))), 404,
			`{"code":5,"message":"lookup: rpc error: code = NotFound desc = x"}`},
		{"plain error", fail(errors.New("plain <&>")), 500, `{"code":2,"message":"plain \u003c\u0026\u003e"}`},
		{"context deadline", fail(fmt.Errorf("db: %w", context.DeadlineExceeded)), 504, `{"code":4,"message":"db: context deadline exceeded"}`},
		{"panic", func() (proto.Message, error) { panic("boom") }, 500,
			`{"code":13,"message":"rpc \"transport.test.Greeter.SayHello\" panicked: boom"}`},
		{"wrong reply type", func() (proto.Message, error) { return &emptypb.Empty{}, nil }, 500,
			`{"code":13,"message":"rpc \"transport.test.Greeter.SayHello\": encode response: got a google.protobuf.Empty, want transport.test.HelloReply"}`},
		{"nil reply", func() (proto.Message, error) { return nil, nil }, 200, `{}`},
		{"after a panic", func() (proto.Message, error) {
			return messageOf(t, prototest.TransportMethod(t, "SayHello").Output(), `{"message":"ok"}`), nil
		}, 200, `{"message":"ok","count":"0","txt":""}`},
	} {
		mu.Lock()
		next = tc.call
		mu.Unlock()
		status, _, body := restDo(t, "POST", srv.URL+"/SayHello", `{}`)
		if status != tc.wantStatus || (body != tc.wantBody && prototest.CompactJSON(t, body) != tc.wantBody) {
			t.Errorf("%s: got %d %s\nwant %d %s", tc.name, status, body, tc.wantStatus, tc.wantBody)
		}
	}
}

// TestRESTServerContext passes the request's context to Call.
func TestRESTServerContext(t *testing.T) {
	type key struct{}
	h, err := NewRESTHandler(greeterRESTMethods(t, func(ctx context.Context, m protoreflect.MethodDescriptor, _ proto.Message) (proto.Message, error) {
		v, _ := ctx.Value(key{}).(string)
		return messageOf(t, m.Output(), fmt.Sprintf(`{"message":%q}`, v)), nil
	})...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), key{}, "from server")
	}
	srv.Start()
	t.Cleanup(srv.Close)
	if status, _, body := restDo(t, "POST", srv.URL+"/SayHello", `{}`); status != 200 || prototest.CompactJSON(t, body) != `{"message":"from server","count":"0","txt":""}` {
		t.Errorf("got %d %s", status, body)
	}
}

// TestRESTServerPrecedence serves the most specific of overlapping routes.
func TestRESTServerPrecedence(t *testing.T) {
	methods := restTestRPCs(t, `
		rpc Literal(Req) returns (Resp) { option (google.api.http) = {get: "/v1/things/special"}; }
		rpc One(Req) returns (Resp) { option (google.api.http) = {get: "/v1/things/{name}"}; }
		rpc Verb(Req) returns (Resp) { option (google.api.http) = {get: "/v1/things/{name}:do"}; }
		rpc Rest(Req) returns (Resp) { option (google.api.http) = {get: "/v1/{name=things/**}"}; }
		rpc Wild(Req) returns (Resp) { option (google.api.http) = {get: "/v1/*/{name}/x"}; }
		rpc Root(Req) returns (Resp) { option (google.api.http) = {get: "/"}; }
	`)
	srv := startRESTServer(t, methods...)
	for _, tc := range []struct{ path, want string }{
		{"/v1/things/special", `{"rpc":"Literal","name":""}`},
		{"/v1/things/other", `{"rpc":"One","name":"other"}`},
		{"/v1/things/a:do", `{"rpc":"Verb","name":"a"}`},
		{"/v1/things/a:undo", `{"rpc":"One","name":"a:undo"}`},
		{"/v1/things/a/b", `{"rpc":"Rest","name":"things/a/b"}`},
		{"/v1/things", `{"rpc":"Rest","name":"things"}`},
		{"/v1/things/a/x", `{"rpc":"Rest","name":"things/a/x"}`},
		{"/v1/stuff/a/x", `{"rpc":"Wild","name":"a"}`},
		{"/", `{"rpc":"Root","name":""}`},
	} {
		if status, _, body := restDo(t, "GET", srv.URL+tc.path, ""); status != 200 || prototest.CompactJSON(t, body) != tc.want {
			t.Errorf("GET %s = %d %s, want %s", tc.path, status, body, tc.want)
		}
	}
}

// restTestRPCs compiles a service S of the given rpcs over Req and Resp
// and serves each by answering its own name and the request's name.
func restTestRPCs(t *testing.T, rpcs string) []RESTMethod {
	t.Helper()
	src := `syntax = "proto3";
package bad;
import "google/api/annotations.proto";
message Sub { string key = 1; }
message Req {
  string name = 1;
  string id = 2;
  Sub sub = 3;
  repeated string tags = 4;
  map<string, string> labels = 5;
}
message Resp { string rpc = 1; string name = 2; }
service S {` + rpcs + `}
`
	fd, err := prototest.Compile("", map[string]string{"bad.proto": src}, "bad.proto")
	if err != nil {
		t.Fatal(err)
	}
	ms := fd.Services().Get(0).Methods()
	var out []RESTMethod
	for i := range ms.Len() {
		m := ms.Get(i)
		out = append(out, RESTMethod{
			Desc: m,
			New:  func() proto.Message { return dynamicpb.NewMessage(m.Input()) },
			Call: func(_ context.Context, req proto.Message) (proto.Message, error) {
				resp := dynamicpb.NewMessage(m.Output())
				resp.Set(m.Output().Fields().ByName("rpc"), protoreflect.ValueOfString(string(m.Name())))
				resp.Set(m.Output().Fields().ByName("name"), req.ProtoReflect().Get(m.Input().Fields().ByName("name")))
				return resp, nil
			},
		})
	}
	return out
}

func TestNewRESTHandlerErrors(t *testing.T) {
	rule := func(r string) string {
		return `rpc A(Req) returns (Resp) { option (google.api.http) = {` + r + `}; }`
	}
	for _, tc := range []struct {
		rpcs, want string
	}{
		{rule(`get: "/v1/{name}"`) + `rpc B(Req) returns (Resp) { option (google.api.http) = {get: "/v1/{id}"}; }`,
			`rest handler: rpc "bad.S.B": GET "/v1/{id}" is already served by rpc "bad.S.A" as GET "/v1/{name}"`},
		{rule(`get: "/v1/{name=things/*}"`) + `rpc B(Req) returns (Resp) { option (google.api.http) = {get: "/v1/things/{id}"}; }`,
			`rest handler: rpc "bad.S.B": GET "/v1/things/{id}" is already served by rpc "bad.S.A" as GET "/v1/{name=things/*}"`},
		{`rpc A(Req) returns (Resp); rpc B(Req) returns (Resp) { option (google.api.http) = {post: "/A" body: "*"}; }`,
			`rest handler: rpc "bad.S.B": POST "/A" is already served by rpc "bad.S.A" as POST "/A"`},
		{rule(`get: "/v1/{name}" additional_bindings {get: "/v1/{id}"}`),
			`rest handler: rpc "bad.S.A": GET "/v1/{id}" is already served by rpc "bad.S.A" as GET "/v1/{name}"`},
		{rule(`get: "/v1/{name"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name": unclosed {`},
		{rule(`get: "/v1/name}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/name}": unmatched }`},
		{rule(`get: "/v1/{a={b}}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{a={b}}": nested {`},
		{rule(`get: "/v1/x{name}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/x{name}": variable in "x{name}": want a whole segment`},
		{rule(`get: "/v1/{name}x"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name}x": variable in "{name}x": want a whole segment`},
		{rule(`get: "/v1/{}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{}": variable "{}": want a field path like a.b`},
		{rule(`get: "/v1/{sub..key}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{sub..key}": variable "{sub..key}": want a field path like a.b`},
		{rule(`get: "/v1/{name=a//b}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name=a//b}": variable "{name=a//b}": empty segment`},
		{rule(`get: "/v1//x"`), `rest handler: rpc "bad.S.A": http rule path "/v1//x": empty segment`},
		{rule(`get: "/v1/"`), `rest handler: rpc "bad.S.A": http rule path "/v1/": empty segment`},
		{rule(`get: "/v1/{name=**}/x"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name=**}/x": "**" must end the path`},
		{rule(`get: "/v1/{name}:"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name}:": empty verb after ":"`},
		{rule(`get: "/v1/{nope}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{nope}": field "nope" not found in bad.Req`},
		{rule(`get: "/v1/{sub}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{sub}": variable "sub": want a singular scalar field, got message bad.Sub`},
		{rule(`get: "/v1/{tags}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{tags}": variable "tags": want a singular scalar field, got repeated string`},
		{rule(`get: "/v1/{labels}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{labels}": variable "labels": want a singular scalar field, got map`},
		{rule(`get: "/v1/{tags.x}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{tags.x}": field "tags.x": "tags" is not a message`},
		{rule(`get: "/v1/{name}/{name}"`), `rest handler: rpc "bad.S.A": http rule path "/v1/{name}/{name}": field "name" bound twice`},
		{rule(`post: "/v1" body: "nope"`), `rest handler: rpc "bad.S.A": http rule body "nope": field "nope" not found in bad.Req`},
		{rule(`post: "/v1" body: "sub.key"`), `rest handler: rpc "bad.S.A": http rule body "sub.key": want a top-level field`},
		{rule(`get: "/v1" response_body: "nope"`), `rest handler: rpc "bad.S.A": http rule response_body "nope": want a top-level field of bad.Resp`},
		{rule(`custom: {kind: "" path: "/v1"}`), `rest handler: rpc "bad.S.A": http rule: want a method and a path`},
		{rule(`body: "*"`), `rest handler: rpc "bad.S.A": http rule: want a method and a path`},
		{rule(`get: "/v1" additional_bindings {get: "/v2/{nope}"}`),
			`rest handler: rpc "bad.S.A": additional_bindings[0]: http rule path "/v2/{nope}": field "nope" not found in bad.Req`},
		{`rpc A(stream Req) returns (Resp);`, `rest handler: rpc "bad.S.A": a streaming rpc has no REST form`},
	} {
		_, err := NewRESTHandler(restTestRPCs(t, tc.rpcs)...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got %v\nwant %s", tc.rpcs, err, tc.want)
		}
	}

	m := restTestRPCs(t, rule(`get: "/v1"`))[0]
	for _, tc := range []struct {
		method RESTMethod
		want   string
	}{
		{RESTMethod{New: m.New, Call: m.Call}, `rest handler: methods[1]: nil Desc`},
		{RESTMethod{Desc: m.Desc, Call: m.Call}, `rest handler: rpc "bad.S.A": nil New`},
		{RESTMethod{Desc: m.Desc, New: m.New}, `rest handler: rpc "bad.S.A": nil Call`},
		{RESTMethod{Desc: m.Desc, New: func() proto.Message { return nil }, Call: m.Call}, `rest handler: rpc "bad.S.A": New returned nil`},
		{RESTMethod{Desc: m.Desc, New: func() proto.Message { return (*emptypb.Empty)(nil) }, Call: m.Call}, `rest handler: rpc "bad.S.A": New returned nil`},
		{RESTMethod{Desc: m.Desc, New: func() proto.Message { return &emptypb.Empty{} }, Call: m.Call},
			`rest handler: rpc "bad.S.A": New returns google.protobuf.Empty, want bad.Req`},
	} {
		ok := restTestRPCs(t, `rpc Fine(Req) returns (Resp);`)[0]
		_, err := NewRESTHandler(ok, tc.method)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v\nwant %s", err, tc.want)
		}
	}
}

func TestPathTemplateParse(t *testing.T) {
	for _, tc := range []struct {
		text, segs, verb string
		vars             string // field=pattern[start:end] ...
	}{
		{"/", "", "", ""},
		{"/v1/{name}", "v1/*", "", "name=*[1:2]"},
		{"v1/{name}", "v1/*", "", "name=*[1:2]"},
		{"/v1/{name=shelves/*/books/**}", "v1/shelves/*/books/**", "", "name=shelves/*/books/**[1:5]"},
		{"/v1/{a.b}/x/{c=*}:do:it", "v1/*/x/*", "do:it", "a.b=*[1:2] c=*[3:4]"},
		{"/v1/{name=a:b}", "v1/a:b", "", "name=a:b[1:2]"},
		{"/v1/*/**:v", "v1/*/**", "v", ""},
		{"/a:b/c", "a:b/c", "", ""},
	} {
		tmpl, err := parsePathTemplate(tc.text)
		if err != nil {
			t.Errorf("%s: %v", tc.text, err)
			continue
		}
		var vars []string
		for _, v := range tmpl.vars {
			vars = append(vars, fmt.Sprintf("%s=%s[%d:%d]", v.field, v.pattern, v.start, v.end))
		}
		if segs := strings.Join(tmpl.segs, "/"); segs != tc.segs || tmpl.verb != tc.verb || strings.Join(vars, " ") != tc.vars {
			t.Errorf("%s: segs %q verb %q vars %q", tc.text, segs, tmpl.verb, vars)
		}
	}
}

func TestPathTemplateMatch(t *testing.T) {
	for _, tc := range []struct {
		tmpl, path string
		want       string // the variables, "|"-joined; "-" for no match
	}{
		{"/v1/{name}", "/v1/a%2Fb", "a%2Fb"},
		{"/v1/{name}", "/v1/", "-"},
		{"/v1/{name}", "/v1/a/b", "-"},
		{"/v1/{name=messages/*}", "/v1/messages/x", "messages/x"},
		{"/v1/{name=messages/*}", "/v1/message/x", "-"},
		{"/v1/{name=messages/*}", "/v1/%6Dessages/x", "%6Dessages/x"},
		{"/v1/{name=messages/**}", "/v1/messages", "messages"},
		{"/v1/{name=messages/**}", "/v1/messages/a//b/", "messages/a//b/"},
		{"/v1/{name=**}", "/v1", ""},
		{"/v1/{name=**}:v", "/v1/:v", ""},
		{"/v1/{name=**}:v", "/v1/a/b:v", "a/b"},
		{"/v1/{name}:v", "/v1/a:v", "a"},
		{"/v1/{name}:v", "/v1/a:v:v", "a:v"},
		{"/v1/{name}:v", "/v1/:v", "-"},
		{"/v1/{name}:v", "/v1/av", "-"},
		{"/v1/{name}:v", "/v1/a", "-"},
		{"/v1/{a}/{b.c}", "/v1/x/y", "x|y"},
		{"/v1/*/{a}", "/v1/x/y", "y"},
		{"/v1/*/{a}", "/v1//y", "-"},
		{"/", "/", ""},
		{"/", "/x", "-"},
	} {
		tmpl, err := parsePathTemplate(tc.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		segs := strings.Split(tc.path[1:], "/")
		vals, ok := tmpl.match(segs)
		got := strings.Join(vals, "|")
		if !ok {
			got = "-"
		}
		if got != tc.want {
			t.Errorf("%s on %s = %q, want %q", tc.tmpl, tc.path, got, tc.want)
		}
		if strings.Join(segs, "/") != tc.path[1:] {
			t.Errorf("%s on %s: segments changed to %q", tc.tmpl, tc.path, segs)
		}
	}
}

func TestRESTServerMatchAllocs(t *testing.T) {
	h, err := NewRESTHandler(greeterRESTMethods(t, nil)...)
	if err != nil {
		t.Fatal(err)
	}
	segs := strings.Split("v1/items/a%2Fb/keys/k", "/")
	allocs := testing.AllocsPerRun(100, func() {
		if rt, _ := h.(*restHandler).find("GET", segs); rt == nil {
			t.Fatal("no route")
		}
	})
	if allocs > 1 { // the values slice
		t.Errorf("find allocates %v times", allocs)
	}
}
