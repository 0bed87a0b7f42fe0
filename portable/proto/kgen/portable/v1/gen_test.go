package portablev1_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/kgen-dev/kgen/gen/proto"
)

// TestGenerated regenerates portable.pb.go from portable.proto with
// protoc-gen-go run as a library (through gen/proto) and compares it with
// the checked-in file; KGEN_UPDATE=1 rewrites it.
func TestGenerated(t *testing.T) {
	files, err := proto.Messages("portable.proto")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := files["portable.pb.go"]
	if !ok {
		t.Fatalf("no portable.pb.go generated; got %d files", len(files))
	}
	if os.Getenv("KGEN_UPDATE") != "" {
		if err := os.WriteFile("portable.pb.go", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("portable.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("portable.pb.go is stale; regenerate with KGEN_UPDATE=1 go test ./portable/proto/...")
	}
}
