package engine_test

import (
	"slices"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// PluginUsers names what a delete of a plugin would break; compiled-in
// names stand in for plugins here, as it goes by name alone.
func TestPluginUsers(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM a () WITH (DATASOURCE="a", TYPE="memory")`)
	mustStream(t, e, `CREATE STREAM b () WITH (DATASOURCE="b", TYPE="memory")`)
	mustStream(t, e, `CREATE STREAM c () WITH (DATASOURCE="c", TYPE="file")`)
	mustRule(t, e, `{"id": "r1", "sql": "SELECT abs(x) FROM a", "actions": [{"nop": {}}]}`)
	mustRule(t, e, `{"id": "r2", "sql": "SELECT * FROM c WHERE upper(y) = 'A'", "actions": [{"memory": {"topic": "o"}}, {"nop": {}}]}`)
	mustRule(t, e, `{"id": "r3", "sql": "SELECT * FROM c", "actions": [{"log": {}}]}`)
	for _, c := range []struct {
		kind sdk.Kind
		name string
		fns  []string
		want []string
	}{
		{sdk.KindSource, "memory", nil, []string{`stream "a"`, `stream "b"`, `rule "r1"`}},
		{sdk.KindSource, "file", nil, []string{`stream "c"`, `rule "r2"`, `rule "r3"`}},
		{sdk.KindSource, "mqtt", nil, nil},
		{sdk.KindSink, "nop", nil, []string{`rule "r1"`, `rule "r2"`}},
		{sdk.KindSink, "log", nil, []string{`rule "r3"`}},
		{sdk.KindFunction, "maths", []string{"abs", "upper"}, []string{`rule "r1"`, `rule "r2"`}},
		{sdk.KindFunction, "text", []string{"lower"}, nil},
	} {
		if got := e.PluginUsers(c.kind, c.name, c.fns); !slices.Equal(got, c.want) {
			t.Errorf("PluginUsers(%s, %q) = %q, want %q", c.kind, c.name, got, c.want)
		}
	}
}
