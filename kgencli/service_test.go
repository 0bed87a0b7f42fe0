package kgencli

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A description file is sent with the protos of the schemas/ folder beside
// it (sub-folders too), or else with the protos beside it.
func TestServiceZipFromDescription(t *testing.T) {
	write := func(dir string, files map[string]string) {
		for p, body := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
			os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
		}
	}
	entries := func(data []byte) []string {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			out = append(out, f.Name+"="+string(b))
		}
		return out
	}
	a := t.TempDir()
	write(a, map[string]string{"d.json": "{}", "schemas/a.proto": "A", "schemas/common/b.proto": "B", "schemas/notes.txt": "x", "c.proto": "C"})
	data, err := serviceZip("svc", filepath.Join(a, "d.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entries(data), []string{"schemas/a.proto=A", "schemas/common/b.proto=B", "svc.json={}"}; !slices.Equal(got, want) {
		t.Errorf("with schemas/: %q, want %q", got, want)
	}
	b := t.TempDir()
	write(b, map[string]string{"svc.json": "{}", "x.proto": "X", "sub/y.proto": "Y"})
	data, err = serviceZip("svc", filepath.Join(b, "svc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entries(data), []string{"schemas/x.proto=X", "svc.json={}"}; !slices.Equal(got, want) {
		t.Errorf("without schemas/: %q, want %q", got, want)
	}
	// A zip is sent as it is.
	os.WriteFile(filepath.Join(b, "s.zip"), data, 0o644)
	if again, err := serviceZip("svc", filepath.Join(b, "s.zip")); err != nil || !bytes.Equal(again, data) {
		t.Errorf("zip file: %v", err)
	}
}
