package sql

import (
	"reflect"
	"testing"
)

func TestMeta(t *testing.T) {
	prog, err := Compile(mustSelect(t, "SELECT *, meta(topic) AS t, meta(demo.topic) AS t2, meta(props.k) AS k, meta(*) AS m FROM demo"), Env{})
	if err != nil {
		t.Fatal(err)
	}
	if !prog.UsesMeta() {
		t.Fatal("UsesMeta = false")
	}
	meta := map[string]any{"topic": "a/b", "props": map[string]any{"k": "v"}}
	got, err := prog.Project(map[string]any{"x": int64(1), MetaKey: meta})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"x": int64(1), "t": "a/b", "t2": "a/b", "k": "v", "m": meta}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Project = %v, want %v (a star leaves the metadata out)", got, want)
	}
	if plain, _ := Compile(mustSelect(t, "SELECT * FROM demo"), Env{}); plain.UsesMeta() {
		t.Fatal("UsesMeta of a SELECT without meta() = true")
	}
}
