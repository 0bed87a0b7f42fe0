package pluginmeta

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

func TestEncodeReadNames(t *testing.T) {
	data, err := Encode(Functions{Generated: "x", Name: "echo", Functions: []Function{
		{Name: "echo", Example: "echo(a < b)"}, {Name: "shout"}, {Name: "echo"}, {Name: ""},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"example": "echo(a < b)"`) || !strings.HasSuffix(string(data), "}\n") {
		t.Fatalf("encoded:\n%s", data)
	}
	got, err := ReadNames(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Names{Name: "echo", Functions: []string{"echo", "shout"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadNames = %+v, want %+v", got, want)
	}
	if _, err := ReadNames([]byte(`{"functions": 3}`)); err == nil {
		t.Fatal("ReadNames of a bad file: no error")
	}
}

func TestMerge(t *testing.T) {
	a, _ := Encode(Functions{Generated: "gen", About: About{Trial: true}, Name: "a", Functions: []Function{{Name: "a", Example: "a()"}}})
	b, _ := Encode(Functions{Name: "b", Functions: []Function{{Name: "b"}}})
	data, err := Merge("ab", []string{"a", "b", "c", "d"}, [][]byte{a, b, nil, []byte("{")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadNames(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Names{Name: "ab", Functions: []string{"a", "b", "c", "d"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged names = %+v, want %+v", got, want)
	}
	for _, want := range []string{`"generated": "gen"`, `"trial": true`, `"example": "a()"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("merged file lacks %s:\n%s", want, data)
		}
	}
}

func TestKindOf(t *testing.T) {
	fn, _ := Encode(Functions{Name: "f", Functions: []Function{{Name: "f"}}})
	src, _ := Encode(Source{Properties: map[string][]Field{"default": {{Name: "interval"}}}})
	sink, _ := Encode(Sink{Properties: []Field{{Name: "path"}}})
	for _, c := range []struct {
		data string
		kind sdk.Kind
		ok   bool
	}{
		{string(fn), sdk.KindFunction, true},
		{string(src), sdk.KindSource, true},
		{string(sink), sdk.KindSink, true},
		{`{"about": {}}`, 0, false},
		{`[1]`, 0, false},
	} {
		if kind, ok := KindOf([]byte(c.data)); kind != c.kind || ok != c.ok {
			t.Errorf("KindOf(%s) = %v, %v; want %v, %v", c.data, kind, ok, c.kind, c.ok)
		}
	}
}
