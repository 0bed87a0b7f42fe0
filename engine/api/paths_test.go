package api_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Files outside the engine root are refused through the REST API with 400
// and the message that names the path and the setting, and nothing is
// written.
func TestConfinedPaths(t *testing.T) {
	s := newServer(t)
	root := s.e.Root()
	outside := filepath.Join(t.TempDir(), "rows.jsonl")
	outsideErr := func(what, path string) string {
		return what + `: "` + path + `" is outside the engine root ` + root + ` and the paths in etc/kgen.yaml paths.allow`
	}
	sink := func(path string) string {
		return `{"id": "out", "sql": "SELECT * FROM demo", "actions": [{"file": {"path": ` + quote(path) + `}}]}`
	}
	s.check(t, []exchange{
		{"POST", "/streams", `{"sql": ` + quote(demoSQL) + `}`, 201, "Stream demo is created."},
		{"POST", "/rules", sink(outside), 400, `rule "out": actions[0] (file): ` + outsideErr(`file sink "path"`, outside)},
		{"POST", "/rules", sink("../x.jsonl"), 400, `rule "out": actions[0] (file): ` + outsideErr(`file sink "path"`, "../x.jsonl")},
		{"POST", "/rules/validate", sink(outside), 422, `rule "out": actions[0] (file): ` + outsideErr(`file sink "path"`, outside)},
		{"POST", "/streams", `{"sql": "CREATE STREAM f () WITH (TYPE=\"file\", DATASOURCE=\"/etc/passwd\")"}`, 400,
			`stream "f": ` + outsideErr(`file source "datasource"`, "/etc/passwd")},
		{"POST", "/streams", `{"sql": "CREATE STREAM ` + "`a/b`" + ` () WITH (TYPE=\"memory\", DATASOURCE=\"t\")"}`, 400,
			`create stream: stream name "a/b": contains '/' or '\'; a stream name is an identifier`},
		{"GET", "/rules", "", 200, "[]\n"},
		{"GET", "/streams", "", 200, "[\n  \"demo\"\n]\n"},
	})
	if _, err := os.Stat(outside); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s: %v, want it never created", outside, err)
	}
}
