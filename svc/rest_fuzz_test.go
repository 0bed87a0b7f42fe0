package svc

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// FuzzRESTResponse decodes arbitrary bodies and content types into the
// outputs of the test proto's rpcs and maps them to SQL: errors are fine,
// panics are not.
func FuzzRESTResponse(f *testing.F) {
	svc := prototest.Transport(f).Services().ByName("Greeter")
	methods := svc.Methods()
	for _, seed := range []struct {
		ct, body string
	}{
		{"application/json", `{"message":"m","count":"1","txt":"t"}`},
		{"application/json; charset=utf-8", `{"reply_text":1}`},
		{"application/json", `{"s":"a","sub":{"key":"k"},"ids":["1"],"word":null,"note":"n","color":null,"subs":[{"level":2},{}],"counts":{"a":1}}`},
		{"text/plain", "42"},
		{"text/plain", "true"},
		{"", "<a/>"},
		{"application/problem+json", `"x"`},
		{";;=", "\x00\xff"},
	} {
		for i := 0; i < methods.Len(); i++ {
			f.Add(seed.ct, []byte(seed.body), uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte, which uint8) {
		m := methods.Get(int(which) % methods.Len())
		out := dynamicpb.NewMessage(m.Output())
		responseField := ""
		if rule := httpRuleOf(m); rule != nil {
			responseField = rule.GetResponseBody()
		}
		_, _ = (&HTTPCall{ResponseBody: responseField}).ResponseToSQL(contentType, body, out)
	})
}

// FuzzRESTTranscode builds requests for every rpc from arbitrary field
// text: errors are fine, panics and unescaped paths are not.
func FuzzRESTTranscode(f *testing.F) {
	methods := prototest.Transport(f).Services().ByName("Greeter").Methods()
	f.Add("messages/a b", "k", uint8(5))
	f.Add("shelves/1", "x/y", uint8(7))
	f.Add("", "", uint8(6))
	f.Fuzz(func(t *testing.T, s1, s2 string, which uint8) {
		m := methods.Get(int(which) % methods.Len())
		req := dynamicpb.NewMessage(m.Input())
		fields := m.Input().Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() {
				v := s1
				if i%2 == 1 {
					v = s2
				}
				if !utf8.ValidString(v) {
					return
				}
				req.Set(fd, protoreflect.ValueOfString(v))
			}
		}
		call, err := NewHTTPCall(m, req)
		if err != nil {
			return
		}
		u, err := url.Parse("http://h" + call.Path)
		if err != nil {
			t.Fatalf("path %q does not parse: %v", call.Path, err)
		}
		if u.Host != "h" || strings.ContainsAny(call.Path, " ?#") {
			t.Fatalf("path %q escapes its segment", call.Path)
		}
	})
}
