package aiservice_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/gen/proto"
)

// The committed generated files are what kgen gen server and kgen gen
// service (see generate.go) make of aiservice.proto today.
func TestGeneratedFilesAreFresh(t *testing.T) {
	for dir, opts := range map[string]proto.Options{
		".":       {Kind: proto.KindServer, Proto: "aiservice.proto"},
		"service": {Kind: proto.KindService, Proto: "aiservice.proto"},
	} {
		files, err := proto.Generate(opts)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is stale (%v): run go generate ./examples/aiservice", filepath.Join(dir, name), err)
			}
		}
	}
}
