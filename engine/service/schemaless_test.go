package service

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/svc"
)

func TestSchemalessBodies(t *testing.T) {
	s := startRESTTestServer(t, replyWith("application/json", `{"ok":true}`))
	inv, err := NewSchemalessInvoker(&svc.Interface{Address: s.URL + "/api", Protocol: svc.ProtocolREST, Schemaless: true})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	for _, tc := range []struct {
		method, path string
		args         []any
		wantMethod   string
		wantURI      string
		wantBody     string
		wantCT       string
	}{
		{"get", "/items?q=1", nil, "GET", "/api/items?q=1", "", ""},
		{"post", "items", []any{map[string]any{"a": 1}}, "POST", "/api/items", `{"a":1}`, "application/json"},
		{"Put", "/items/1", []any{"x", 2.5, nil}, "PUT", "/api/items/1", `["x",2.5,null]`, "application/json"},
		{"delete", "/items/1", []any{int64(7)}, "DELETE", "/api/items/1", `7`, "application/json"},
	} {
		got, err := inv.Call(context.Background(), tc.method, tc.path, tc.args)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		if want := map[string]any{"ok": true}; !reflect.DeepEqual(got, want) {
			t.Errorf("result = %#v", got)
		}
		seen := s.last(t)
		if seen.method != tc.wantMethod || seen.uri != tc.wantURI || seen.body != tc.wantBody || seen.contentType != tc.wantCT {
			t.Errorf("%s %s %v: server saw %s %s %q (%s), want %s %s %q (%s)", tc.method, tc.path, tc.args,
				seen.method, seen.uri, seen.body, seen.contentType, tc.wantMethod, tc.wantURI, tc.wantBody, tc.wantCT)
		}
	}
}

func TestSchemalessResponses(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		want                    any
		wantErr                 string
	}{
		{"json numbers", "application/json", `{"i":1,"f":1.5,"big":9007199254740993,"a":[1,"s",{"x":-2}],"e":1e3}`,
			map[string]any{"i": int64(1), "f": 1.5, "big": int64(9007199254740993), "a": []any{int64(1), "s", map[string]any{"x": int64(-2)}}, "e": 1000.0}, ""},
		{"json scalar", "application/json", `42`, int64(42), ""},
		{"text", "text/plain", "hello world", "hello world", ""},
		{"text json", "text/plain", `[1,2]`, []any{int64(1), int64(2)}, ""},
		{"text two values", "text/plain", `1 2`, "1 2", ""},
		{"empty", "application/json", ``, nil, ""},
		{"garbage json", "application/json", `{"a":`, nil, "decode application/json response: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startRESTTestServer(t, replyWith(tc.contentType, tc.body))
			inv, err := NewSchemalessInvoker(&svc.Interface{Address: s.URL, Protocol: svc.ProtocolREST, Schemaless: true})
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			got, err := inv.Call(context.Background(), "GET", "/x", nil)
			if tc.wantErr != "" {
				if want := "rest call GET " + s.URL + "/x: " + tc.wantErr; err == nil || err.Error() != want {
					t.Fatalf("err = %v, want %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestSchemalessErrors(t *testing.T) {
	s := startRESTTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	})
	inv, err := NewSchemalessInvoker(&svc.Interface{Address: s.URL, Protocol: svc.ProtocolREST,
		Options: &svc.Options{RetryCount: 1, RetryInterval: svc.Duration(time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	defer inv.Close()
	_, err = inv.Call(context.Background(), "post", "/x", []any{1})
	if want := "rest call POST " + s.URL + "/x: 503 Service Unavailable: nope"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
	if s.calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", s.calls.Load())
	}
	if _, err = inv.Call(context.Background(), " ", "/x", nil); err == nil || !strings.Contains(err.Error(), "empty method") {
		t.Errorf("empty method: %v", err)
	}
	if _, err = inv.Call(context.Background(), "post", "/x", []any{make(chan int)}); err == nil || !strings.Contains(err.Error(), "encode body") {
		t.Errorf("unencodable arg: %v", err)
	}
}

// FuzzSchemalessJSON decodes arbitrary bodies as schemaless responses:
// errors are fine, panics are not.
func FuzzSchemalessJSON(f *testing.F) {
	for _, seed := range []string{`{"message":"m","count":"1","txt":"t"}`, `{"reply_text":1}`, "42", "true", "<a/>", `"x"`, "\x00\xff", `[1, 2.5, {"a": 1e400}]`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = decodeSchemalessJSON(body)
	})
}
