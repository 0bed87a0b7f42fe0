package pluginzip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/ziptest"

	"github.com/kgen-dev/kgen/sdk"
)

// entry is one zip entry for a test zip.
type entry struct {
	name string
	body string
	mode fs.FileMode // 0 means a regular file
}

func mkzip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var zs []ziptest.Entry
	for _, e := range entries {
		zs = append(zs, ziptest.Entry{Name: e.name, Body: e.body, Mode: e.mode})
	}
	return ziptest.Zip(t, zs...)
}

// lyingZip has one entry whose header claims declared bytes while it
// decompresses to actual bytes.
func lyingZip(t testing.TB, name string, declared uint64, actual int) []byte {
	t.Helper()
	return ziptest.Zip(t, ziptest.Entry{Name: name, Body: string(make([]byte, actual)), Declared: declared})
}

// newRoot makes an engine root with the folders the engine creates.
func newRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	for _, k := range sdk.Kinds {
		os.MkdirAll(filepath.Join(root, "plugins", k.Dir()), 0o755)
		os.MkdirAll(filepath.Join(root, "etc", k.Dir()), 0o755)
	}
	return root
}

// tree lists every path under root with its content, for before/after
// comparisons.
func tree(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		line := filepath.ToSlash(rel)
		if d.IsDir() {
			line += "/"
		} else {
			data, _ := os.ReadFile(p)
			line += "=" + string(data)
		}
		out = append(out, line)
		return nil
	})
	return out
}

var sourceZip = []entry{
	{name: "Random@v1.2.0.so", body: "ELF"},
	{name: "random.json", body: `{"about":{}}`},
	{name: "random.yaml", body: "default:\n  interval: 1000\n"},
	{name: "etc/", mode: fs.ModeDir | 0o755},
	{name: "etc/words.txt", body: "a b c"},
	{name: "etc/model/weights.bin", body: "0101"},
	{name: "README.md", body: "scratch"},
}

func TestInstallSource(t *testing.T) {
	root := newRoot(t)
	var loaded []string
	inst, err := InstallBytes(root, sdk.KindSource, "random", mkzip(t, sourceZip...), Options{
		Load: func(kind sdk.Kind, path string) error {
			loaded = append(loaded, kind.String()+" "+path)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"etc/sources/random", "etc/sources/random.json", "etc/sources/random.yaml", "plugins/sources/Random@v1.2.0.so"}
	if !slices.Equal(inst.Files, wantFiles) || inst.Version != "v1.2.0" || inst.Name != "random" {
		t.Errorf("Installed = %+v, want files %q, version v1.2.0", inst, wantFiles)
	}
	if want := []string{"source " + filepath.Join(root, "plugins/sources/Random@v1.2.0.so")}; !slices.Equal(loaded, want) {
		t.Errorf("loaded %q, want %q", loaded, want)
	}
	got := tree(t, root)
	for _, want := range []string{
		"plugins/sources/Random@v1.2.0.so=ELF",
		`etc/sources/random.json={"about":{}}`,
		"etc/sources/random.yaml=default:\n  interval: 1000\n",
		"etc/sources/random/words.txt=a b c",
		"etc/sources/random/model/weights.bin=0101",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, p := range got {
		if strings.Contains(p, "README") || strings.Contains(p, ".install-") {
			t.Errorf("left behind: %q", p)
		}
	}
	file, version, ok, err := Find(root, sdk.KindSource, "random")
	if file != "Random@v1.2.0.so" || version != "v1.2.0" || !ok || err != nil {
		t.Errorf("Find = %q, %q, %v, %v", file, version, ok, err)
	}

	// Installing again is refused, naming the installed version.
	_, err = InstallBytes(root, sdk.KindSource, "random", mkzip(t, sourceZip...), Options{})
	wantErr := `install sources plugin "random": plugin "random" is already installed (v1.2.0); delete it first`
	if err == nil || err.Error() != wantErr || !errors.Is(err, fs.ErrExist) {
		t.Errorf("reinstall: %v\nwant %s", err, wantErr)
	}

	deleted, err := Delete(root, sdk.KindSource, "random")
	if err != nil {
		t.Fatal(err)
	}
	wantRemoved := []string{"etc/sources/random.json", "etc/sources/random.yaml", "etc/sources/random/model/weights.bin", "etc/sources/random/words.txt", "plugins/sources/Random@v1.2.0.so"}
	if !slices.Equal(deleted.Removed, wantRemoved) || len(deleted.Kept) > 0 {
		t.Errorf("deleted %+v, want removed %q", deleted, wantRemoved)
	}
	if got, want := tree(t, root), tree(t, newRoot(t)); !slices.Equal(got, want) {
		t.Errorf("after delete:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err = Delete(root, sdk.KindSource, "random")
	if wantErr := `sources plugin "random" is not installed`; err == nil || err.Error() != wantErr || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second delete: %v, want %s", err, wantErr)
	}
}

// The configuration a user changed or added stays through a delete, and
// the next install keeps it.
func TestDeleteKeepsUserConfig(t *testing.T) {
	root := newRoot(t)
	if _, err := InstallBytes(root, sdk.KindSource, "random", mkzip(t, sourceZip...), Options{}); err != nil {
		t.Fatal(err)
	}
	userYAML := "default:\n  interval: 1000\nfast:\n  interval: 10\n"
	os.WriteFile(filepath.Join(root, "etc/sources/random.yaml"), []byte(userYAML), 0o644)
	os.WriteFile(filepath.Join(root, "etc/sources/random/mine.txt"), []byte("mine"), 0o644)
	deleted, err := Delete(root, sdk.KindSource, "random")
	if err != nil {
		t.Fatal(err)
	}
	want := &Deleted{
		Removed: []string{"etc/sources/random.json", "etc/sources/random/model/weights.bin", "etc/sources/random/words.txt", "plugins/sources/Random@v1.2.0.so"},
		Kept:    []string{"etc/sources/random.yaml", "etc/sources/random/mine.txt"},
	}
	if !slices.Equal(deleted.Removed, want.Removed) || !slices.Equal(deleted.Kept, want.Kept) {
		t.Errorf("deleted %+v\nwant %+v", deleted, want)
	}
	got := tree(t, root)
	for _, gone := range []string{"etc/sources/random/model/", "etc/sources/random.json={\"about\":{}}", "plugins/sources/.random.installed.json"} {
		if slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, gone) }) {
			t.Errorf("%s left behind:\n%s", gone, strings.Join(got, "\n"))
		}
	}

	inst, err := InstallBytes(root, sdk.KindSource, "random", mkzip(t, sourceZip...), Options{})
	if err != nil {
		t.Fatalf("install after delete: %v", err)
	}
	wantFiles := []string{"etc/sources/random.json", "etc/sources/random/model/weights.bin", "etc/sources/random/words.txt", "plugins/sources/Random@v1.2.0.so"}
	if !slices.Equal(inst.Files, wantFiles) || !slices.Equal(inst.Kept, []string{"etc/sources/random.yaml"}) {
		t.Errorf("Installed = %+v, want files %q, kept the yaml", inst, wantFiles)
	}
	got = tree(t, root)
	for _, line := range []string{"etc/sources/random.yaml=" + userYAML, "etc/sources/random/mine.txt=mine", "etc/sources/random/words.txt=a b c"} {
		if !slices.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, strings.Join(got, "\n"))
		}
	}
	// The user's yaml was not written by this install either: the next
	// delete keeps it.
	deleted, err = Delete(root, sdk.KindSource, "random")
	if err != nil || !slices.Equal(deleted.Kept, want.Kept) {
		t.Errorf("second delete = %+v, %v; want kept %q", deleted, err, want.Kept)
	}
}

// A plugin installed without a manifest loses its .so and metadata only.
func TestDeleteWithoutManifest(t *testing.T) {
	root := newRoot(t)
	for p, body := range map[string]string{
		"plugins/sources/Random.so":   "ELF",
		"etc/sources/random.json":     "{}",
		"etc/sources/random.yaml":     "default: {}\n",
		"etc/sources/random/data.txt": "x",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(body), 0o644)
	}
	deleted, err := Delete(root, sdk.KindSource, "random")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"etc/sources/random.json", "plugins/sources/Random.so"}; !slices.Equal(deleted.Removed, want) {
		t.Errorf("removed %q, want %q", deleted.Removed, want)
	}
	if want := []string{"etc/sources/random", "etc/sources/random.yaml"}; !slices.Equal(deleted.Kept, want) {
		t.Errorf("kept %q, want %q", deleted.Kept, want)
	}
}

func TestInstallFunctionMinimal(t *testing.T) {
	root := newRoot(t)
	inst, err := InstallBytes(root, sdk.KindFunction, "echo", mkzip(t, entry{name: "echo.so", body: "x"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"plugins/functions/echo.so"}; !slices.Equal(inst.Files, want) || inst.Version != "" {
		t.Errorf("Installed = %+v", inst)
	}
	_, err = InstallBytes(root, sdk.KindFunction, "echo", mkzip(t, entry{name: "Echo@v2.so", body: "x"}), Options{})
	if want := `install functions plugin "echo": plugin "echo" is already installed (echo.so); delete it first`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestInstallRollsBackWhenLoadFails(t *testing.T) {
	root := newRoot(t)
	before := tree(t, root)
	_, err := InstallBytes(root, sdk.KindSource, "random", mkzip(t, sourceZip...), Options{
		Load: func(sdk.Kind, string) error {
			return errors.New("plugin was built with a different version of package sdk")
		},
	})
	want := `install sources plugin "random": load: plugin was built with a different version of package sdk`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if after := tree(t, root); !slices.Equal(before, after) {
		t.Errorf("tree changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// honestBomb has n entries that each decompress to size zero bytes, and
// say so in their headers.
func honestBomb(t testing.TB, n int, size int) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	body := make([]byte, 1<<20)
	for range size >> 20 {
		fw.Write(body)
	}
	fw.Close()
	sum := crc32.NewIEEE()
	for range size >> 20 {
		sum.Write(body)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		name := "File.so"
		if i > 0 {
			name = "etc/zeros" + strconv.Itoa(i)
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: sum.Sum32(),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(size)}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	zw.Close()
	return buf.Bytes()
}

// The plugin half of the attack corpus: each hostile zip is refused with
// its exact reason, and the whole temporary folder, the engine root and a
// folder beside it, is as it was.
func TestAttackCorpusPluginZips(t *testing.T) {
	big := strings.Repeat("z", 2000)
	small := Limits{MaxEntries: 5, MaxFileSize: 1000, MaxTotalSize: 1500}
	valid := mkzip(t, entry{name: "File.so"}, entry{name: "etc/x"})
	deep := strings.Repeat("d/", 33) + "x"
	long := strings.Repeat("n", 256)
	cases := []struct {
		name   string
		kind   sdk.Kind
		plugin string
		zip    []byte
		opts   Options
		want   string
	}{
		{"not a zip", sdk.KindSink, "file", []byte("PK but not really"), Options{},
			`install sinks plugin "file": open zip: zip: not a valid zip file`},
		{"bad name", sdk.KindSink, "File", mkzip(t, entry{name: "File.so"}), Options{},
			`install sinks plugin "File": invalid plugin name "File": must start with a lower-case letter (camelCase)`},
		{"zip slip", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "../x", body: "evil"}), Options{},
			`install sinks plugin "file": zip entry "../x": ".." is not allowed`},
		{"nested zip slip", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/a/../../../x"}), Options{},
			`install sinks plugin "file": zip entry "etc/a/../../../x": ".." is not allowed`},
		{"absolute", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "/etc/x"}), Options{},
			`install sinks plugin "file": zip entry "/etc/x": absolute paths are not allowed`},
		{"windows absolute", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: `C:\x`}), Options{},
			`install sinks plugin "file": zip entry "C:\\x": absolute paths are not allowed`},
		{"backslash", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: `etc\x`}), Options{},
			`install sinks plugin "file": zip entry "etc\\x": backslashes are not allowed`},
		{"dot path", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/./x"}), Options{},
			`install sinks plugin "file": zip entry "etc/./x": invalid path`},
		{"symlink", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/passwd", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}), Options{},
			`install sinks plugin "file": zip entry "etc/passwd": symbolic links are not allowed`},
		{"device", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "fifo", mode: fs.ModeNamedPipe | 0o644}), Options{},
			`install sinks plugin "file": zip entry "fifo": only files and folders are allowed, not p---------`},
		{"etc file", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc"}), Options{},
			`install sinks plugin "file": zip entry "etc": etc must be a folder`},
		{"wrong so name", sdk.KindSink, "zipWrongname", mkzip(t, entry{name: "Random2.so"}), Options{},
			`install sinks plugin "zipWrongname": zip entry "Random2.so": want zipWrongname.so, ZipWrongname.so or ZipWrongname@<version>.so for plugin "zipWrongname"`},
		{"bad version", sdk.KindSink, "file", mkzip(t, entry{name: "File@latest.so"}), Options{},
			`install sinks plugin "file": zip entry "File@latest.so": want file.so, File.so or File@<version>.so for plugin "file"`},
		{"two so", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "file@v1.so"}), Options{},
			`install sinks plugin "file": zip holds two plugin files, "File.so" and "file@v1.so"`},
		{"no so", sdk.KindFunction, "echo", mkzip(t, entry{name: "echo.json"}), Options{},
			`install functions plugin "echo": zip has no plugin file: want echo.so, Echo.so or Echo@<version>.so at its root`},
		{"so in a folder", sdk.KindFunction, "echo", mkzip(t, entry{name: "build/Echo.so"}), Options{},
			`install functions plugin "echo": zip has no plugin file: want echo.so, Echo.so or Echo@<version>.so at its root`},
		{"source without yaml", sdk.KindSource, "zipMissConf", mkzip(t, entry{name: "ZipMissConf.so"}), Options{},
			`install sources plugin "zipMissConf": zip has no zipMissConf.yaml: a source plugin needs its configuration`},
		{"shell paras without script", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}), Options{ShellParas: []string{"a", "b c"}},
			`install sinks plugin "file": shell parameters ["a" "b c"] given, but the zip has no install.sh`},
		{"too many entries", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "a"}, entry{name: "b"}, entry{name: "c"}, entry{name: "d"}, entry{name: "e"}), Options{Limits: small},
			`install sinks plugin "file": zip has 6 entries, more than the limit of 5`},
		{"file too large", sdk.KindSink, "file", mkzip(t, entry{name: "File.so", body: big}), Options{Limits: small},
			`install sinks plugin "file": zip entry "File.so": larger than the limit of 1000 bytes`},
		{"total too large", sdk.KindSink, "file", mkzip(t, entry{name: "File.so", body: big[:900]}, entry{name: "etc/x", body: big[:900]}), Options{Limits: small},
			`install sinks plugin "file": zip contents are larger than the limit of 1500 bytes`},
		{"huge declared size", sdk.KindSink, "file", lyingZip(t, "File.so", 1<<62, 10), Options{},
			`install sinks plugin "file": zip entry "File.so": larger than the limit of 104857600 bytes`},
		{"bomb under a small header", sdk.KindSink, "file", lyingZip(t, "File.so", 10, 1<<20), Options{Limits: small},
			`install sinks plugin "file": zip entry "File.so": zip: not a valid zip file`},
		{"duplicate entry", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/x"}, entry{name: "etc/x"}), Options{},
			`install sinks plugin "file": zip entry "etc/x": duplicate entry`},
		{"script off", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "install.sh", body: "touch $KGEN_ROOT/ran\n"}), Options{},
			`install sinks plugin "file": the zip has an install.sh, and install scripts are off: running it would run the zip's code as the engine's user; ` +
				`to allow it, set plugins.allowInstallScripts: true in etc/kgen.yaml and restart the engine, or remove install.sh from the zip`},
		{"script fails", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "install.sh", body: "echo installing $1\necho no libfoo >&2\nexit 3\n"}), Options{AllowScripts: true, ShellParas: []string{"fast"}},
			"install sinks plugin \"file\": install.sh: exit status 3: installing fast\nno libfoo"},
		{"script removes the so", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "install.sh", body: "rm File.so\n"}), Options{AllowScripts: true},
			`install sinks plugin "file": install.sh removed File.so (install.sh had run: the files of this install were removed, but changes the script made outside its folder are not undone)`},
		{"script times out", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "install.sh", body: "sleep 10\n"}), Options{AllowScripts: true, ScriptTimeout: 100e6},
			`install sinks plugin "file": install.sh: did not finish within 100ms (plugins.installScriptTimeout)`},
		{"drive letter", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "c:etc/x"}), Options{},
			`install sinks plugin "file": zip entry "c:etc/x": absolute paths are not allowed`},
		{"backslash slip", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: `..\..\x`}), Options{},
			`install sinks plugin "file": zip entry "..\\..\\x": backslashes are not allowed`},
		{"symlink folder, then a file through it", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/d", body: "../../../outside", mode: fs.ModeSymlink | 0o777}, entry{name: "etc/d/planted", body: "x"}), Options{},
			`install sinks plugin "file": zip entry "etc/d": symbolic links are not allowed`},
		{"the .so a symlink", sdk.KindSink, "file", mkzip(t, entry{name: "File.so", body: "/usr/lib/x86_64-linux-gnu/libc.so.6", mode: fs.ModeSymlink | 0o777}), Options{},
			`install sinks plugin "file": zip entry "File.so": symbolic links are not allowed`},
		{"setuid", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/tool", mode: fs.ModeSetuid | 0o755}), Options{},
			`install sinks plugin "file": zip entry "etc/tool": setuid, setgid and sticky bits are not allowed (mode urwxr-xr-x)`},
		{"setgid folder", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/", mode: fs.ModeDir | fs.ModeSetgid | 0o755}), Options{},
			`install sinks plugin "file": zip entry "etc/": setuid, setgid and sticky bits are not allowed (mode dgrwxr-xr-x)`},
		{"honest bomb", sdk.KindSink, "file", honestBomb(t, 3, 100<<20), Options{},
			`install sinks plugin "file": zip contents are larger than the limit of 209715200 bytes`},
		{"lying bomb at the default limits", sdk.KindSink, "file", lyingZip(t, "File.so", 1000, 150<<20), Options{},
			`install sinks plugin "file": zip entry "File.so": zip: not a valid zip file`},
		{"duplicate .so", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "File.so", body: "other"}), Options{},
			`install sinks plugin "file": zip entry "File.so": duplicate entry`},
		{"duplicate in case only", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/Config.yaml"}, entry{name: "etc/config.yaml"}), Options{},
			`install sinks plugin "file": zip entry "etc/config.yaml": "etc/config.yaml" differs only in case from "etc/Config.yaml"`},
		{"folders in case only", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/a/x"}, entry{name: "ETC/a/y"}), Options{},
			`install sinks plugin "file": zip entry "ETC/a/y": "ETC/a" differs only in case from "etc/a"`},
		{"a file, then a folder of its name", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/a"}, entry{name: "etc/a/b"}), Options{},
			`install sinks plugin "file": zip entry "etc/a/b": "etc/a" is both a file (entry "etc/a") and a folder`},
		{"a folder, then a file of its name", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/a/", mode: fs.ModeDir | 0o755}, entry{name: "etc/a"}), Options{},
			`install sinks plugin "file": zip entry "etc/a": "etc/a" is both a file and a folder (entry "etc/a/")`},
		{"NUL in a name", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/a\x00/../../x"}), Options{},
			`install sinks plugin "file": zip entry "etc/a\x00/../../x": a name must not hold a NUL byte`},
		{"a very long name", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "etc/" + long}), Options{},
			`install sinks plugin "file": zip entry "etc/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn": a file or folder name of 256 bytes, more than the limit of 255`},
		{"deep folders", sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: deep}), Options{},
			`install sinks plugin "file": zip entry "d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/x": nested 34 deep, more than the limit of 32`},
		{"truncated zip", sdk.KindSink, "file", valid[:len(valid)-10], Options{},
			`install sinks plugin "file": open zip: zip: not a valid zip file`},
		{"empty zip", sdk.KindSink, "file", nil, Options{},
			`install sinks plugin "file": open zip: zip: not a valid zip file`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			root := filepath.Join(top, "root")
			os.MkdirAll(filepath.Join(top, "outside"), 0o755)
			os.WriteFile(filepath.Join(top, "outside", "keep.txt"), []byte("mine"), 0o644)
			for _, k := range sdk.Kinds {
				os.MkdirAll(filepath.Join(root, "plugins", k.Dir()), 0o755)
				os.MkdirAll(filepath.Join(root, "etc", k.Dir()), 0o755)
			}
			before := ziptest.Snapshot(t, top)
			_, err := InstallBytes(root, tc.kind, tc.plugin, tc.zip, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
			if after := ziptest.Snapshot(t, top); !slices.Equal(before, after) {
				t.Errorf("tree changed:\n%s", strings.Join(after, "\n"))
			}
		})
	}
}

func TestInstallRefusesToOverwrite(t *testing.T) {
	root := newRoot(t)
	// A leftover metadata file from an earlier, hand-made install.
	os.WriteFile(filepath.Join(root, "etc/sinks/file.json"), []byte("{}"), 0o644)
	before := tree(t, root)
	_, err := InstallBytes(root, sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "file.json", body: "{}"}), Options{})
	want := `install sinks plugin "file": etc/sinks/file.json already exists; remove it first`
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrExist) {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if after := tree(t, root); !slices.Equal(before, after) {
		t.Errorf("tree changed:\n%s", strings.Join(after, "\n"))
	}
}

func TestInstallScript(t *testing.T) {
	root := newRoot(t)
	var logs bytes.Buffer
	z := mkzip(t,
		entry{name: "File.so", body: "so"},
		entry{name: "lib/libfoo.txt", body: "foo"},
		// The script sees the zip's files and may add to etc/.
		entry{name: "install.sh", body: "cat lib/libfoo.txt > etc/from-script.txt\necho \"$@\" >> etc/from-script.txt\necho done\n"},
		entry{name: "etc/", mode: fs.ModeDir | 0o755},
	)
	_, err := InstallBytes(root, sdk.KindSink, "file", z, Options{
		AllowScripts: true,
		ShellParas:   []string{"a", "b"},
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "etc/sinks/file/from-script.txt"))
	if string(data) != "fooa b\n" || err != nil {
		t.Errorf("script output file = %q, %v", data, err)
	}
	if !strings.Contains(logs.String(), `output="done\n"`) {
		t.Errorf("log lacks the script output:\n%s", logs.String())
	}
	for _, p := range tree(t, root) {
		if strings.Contains(p, "lib") || strings.Contains(p, "install.sh") {
			t.Errorf("left behind: %q", p)
		}
	}
}

func TestInstallScriptHook(t *testing.T) {
	root := newRoot(t)
	var got []string
	_, err := InstallBytes(root, sdk.KindSink, "file", mkzip(t, entry{name: "File.so"}, entry{name: "install.sh"}), Options{
		AllowScripts: true,
		RunScript: func(ctx context.Context, dir string, args, env []string, _ *slog.Logger) error {
			got = args
			return nil
		},
		ShellParas: []string{"x"},
	})
	if err != nil || !slices.Equal(got, []string{"x"}) {
		t.Errorf("err %v, args %q", err, got)
	}
}

// install.sh runs with nothing of the engine's environment but PATH, HOME
// (its own folder, also its working folder) and KGEN_ROOT.
func TestInstallScriptEnvironment(t *testing.T) {
	t.Setenv("KGEN_SECRET_TOKEN", "do-not-leak")
	root := newRoot(t)
	z := mkzip(t,
		entry{name: "File.so", body: "so"},
		entry{name: "etc/", mode: fs.ModeDir | 0o755},
		entry{name: "install.sh", body: "env | sort > etc/env.txt\npwd > etc/pwd.txt\n"},
	)
	if _, err := InstallBytes(root, sdk.KindSink, "file", z, Options{AllowScripts: true}); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(filepath.Join(root, "etc/sinks/file/env.txt"))
	pwd, _ := os.ReadFile(filepath.Join(root, "etc/sinks/file/pwd.txt"))
	dir := strings.TrimSpace(string(pwd))
	if filepath.Dir(dir) != filepath.Join(root, "plugins") || !strings.HasPrefix(filepath.Base(dir), ".install-file-") {
		t.Errorf("install.sh ran in %q, want the plugin's extraction folder under %s/plugins", dir, root)
	}
	// dash adds PWD itself.
	want := []string{"HOME=" + dir, "KGEN_ROOT=" + root, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "PWD=" + dir}
	if got := strings.Split(strings.TrimSpace(string(env)), "\n"); !slices.Equal(got, want) {
		t.Errorf("install.sh environment:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A script that times out is killed with everything it started.
func TestInstallScriptTimeoutKillsItsProcesses(t *testing.T) {
	root := newRoot(t)
	pidFile := filepath.Join(root, "sleeper.pid")
	z := mkzip(t, entry{name: "File.so"}, entry{name: "install.sh", body: "sleep 300 &\necho $! > $KGEN_ROOT/sleeper.pid\nwait\n"})
	_, err := InstallBytes(root, sdk.KindSink, "file", z, Options{AllowScripts: true, ScriptTimeout: time.Second})
	if want := `install sinks plugin "file": install.sh: did not finish within 1s (plugins.installScriptTimeout)`; err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the script's background process %d outlived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// When the install fails after install.sh ran, the install's files are
// rolled back and the error says that what the script did elsewhere stays.
func TestInstallFailsAfterScript(t *testing.T) {
	root := newRoot(t)
	before := tree(t, root)
	z := mkzip(t,
		entry{name: "File.so", body: "so"},
		entry{name: "file.json", body: "{}"},
		entry{name: "etc/", mode: fs.ModeDir | 0o755},
		entry{name: "install.sh", body: "echo generated > etc/generated.txt\necho outside > $KGEN_ROOT/outside.txt\n"},
	)
	_, err := InstallBytes(root, sdk.KindSink, "file", z, Options{
		AllowScripts: true,
		Load:         func(sdk.Kind, string) error { return errors.New("refused by the loader") },
	})
	want := `install sinks plugin "file": load: refused by the loader (install.sh had run: the files of this install were removed, but changes the script made outside its folder are not undone)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	after := slices.DeleteFunc(tree(t, root), func(p string) bool { return strings.HasPrefix(p, "outside.txt=") })
	if !slices.Equal(before, after) {
		t.Errorf("tree changed:\n%s", strings.Join(after, "\n"))
	}
	if _, err := os.Stat(filepath.Join(root, "outside.txt")); err != nil {
		t.Errorf("the script's own side effect: %v (expected to stay, as documented)", err)
	}
}
