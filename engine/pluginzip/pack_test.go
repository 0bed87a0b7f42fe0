package pluginzip

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackInstall(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"random.json":               "{}",
		"random.yaml":               "default: {}\n",
		"etc/words.txt":             "a b",
		"etc/deep/x.bin":            "x",
		"install.sh":                "true\n",
		"random.go":                 "package random",
		"plugins/sources/Random.so": "ELF",
	})
	spec := PackSpec{Kind: sdk.KindSource, Name: "random", SO: filepath.Join(dir, "plugins/sources/Random.so"), Dir: dir}
	var a, b bytes.Buffer
	names, err := Pack(&a, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Random.so", "etc/deep/x.bin", "etc/words.txt", "install.sh", "random.json", "random.yaml"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	// Deterministic: same bytes again, whatever the files' times.
	os.Chtimes(filepath.Join(dir, "random.json"), time0, time0)
	if _, err := Pack(&b, spec); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("packing twice gave different bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(modTime) {
			t.Errorf("%s modified %v", f.Name, f.Modified)
		}
	}
	root := newRoot(t)
	inst, err := InstallBytes(root, sdk.KindSource, "random", a.Bytes(), Options{AllowScripts: true})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/sources/random/deep/x.bin")); string(data) != "x" {
		t.Errorf("etc file = %q (installed %q)", data, inst.Files)
	}
}

var time0 = modTime.AddDate(30, 0, 0)

func TestPackRefuses(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Random2.so": "", "Random.so": "", "random.json": "{}"})
	for _, tc := range []struct {
		spec PackSpec
		want string
	}{
		{PackSpec{Kind: sdk.KindSink, Name: "random", SO: filepath.Join(dir, "Random2.so"), Dir: dir},
			`pack sinks plugin "random": plugin file ` + filepath.Join(dir, "Random2.so") + `: want random.so, Random.so or Random@<version>.so`},
		{PackSpec{Kind: sdk.KindSource, Name: "random", SO: filepath.Join(dir, "Random.so"), Dir: dir},
			`pack sources plugin "random": ` + filepath.Join(dir, "random.yaml") + ` does not exist: a source plugin needs its configuration (run kgen gen)`},
	} {
		if _, err := Pack(&bytes.Buffer{}, tc.spec); err == nil || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "etc-link"))
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.Symlink("/etc/passwd", filepath.Join(dir, "etc", "passwd"))
	_, err := Pack(&bytes.Buffer{}, PackSpec{Kind: sdk.KindSink, Name: "random", SO: filepath.Join(dir, "Random.so"), Dir: dir})
	if want := `pack sinks plugin "random": ` + filepath.Join(dir, "etc", "passwd") + `: only files and folders can be packed, not L---------`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
