package confine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/internal/confine"
	"github.com/kgen-dev/kgen/internal/testutil"
)

func TestResolve(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	outside := filepath.Join(tmp, "outside")
	allowed := filepath.Join(tmp, "allowed")
	testutil.WriteTree(t, tmp, map[string]string{
		"root/data/in.json":     "[]",
		"root/etc/kgen.yaml":    "",
		"outside/secret":        "s",
		"allowed/logs/app.json": "[]",
	})
	for _, l := range [][2]string{
		{filepath.Join(outside, "secret"), "root/data/file-link"},  // a file link leading out
		{outside, "root/data/dir-link"},                            // a folder link leading out
		{filepath.Join(outside, "new"), "root/data/dangling-link"}, // a link to a file not made yet
		{allowed, "root/data/allowed-link"},                        // a link into an allowed folder
		{"../etc", "root/data/etc-link"},                           // a relative link to the engine's settings
	} {
		dst := filepath.Join(tmp, l[1])
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l[0], dst); err != nil {
			t.Fatal(err)
		}
	}
	p, err := confine.New(root, []string{allowed})
	if err != nil {
		t.Fatal(err)
	}
	outErr := func(path string) string {
		return `file sink "path": "` + path + `" is outside the engine root ` + root + ` and the paths in etc/kgen.yaml paths.allow`
	}
	ownErr := func(path, dir string) string {
		return `file sink "path": "` + path + `" is in the engine's own ` + dir + `, which definitions may not use unless etc/kgen.yaml paths.allow lists it`
	}
	for _, c := range []struct {
		name, base, path string
		want, err        string
	}{
		{"inside root", "", filepath.Join(root, "data/in.json"), filepath.Join(root, "data/in.json"), ""},
		{"relative", "", "out/rows.jsonl", filepath.Join(root, "out/rows.jsonl"), ""},
		{"relative to a base", filepath.Join(root, "data"), "in.json", filepath.Join(root, "data/in.json"), ""},
		{"relative base", "data", "in.json", filepath.Join(root, "data/in.json"), ""},
		{"dot-dot inside", "", "data/../out/x", filepath.Join(root, "out/x"), ""},
		{"dot-dot escape", "", "../outside/secret", "", outErr("../outside/secret")},
		{"dot-dot escape from base", filepath.Join(root, "data"), "../../x", "", outErr("../../x")},
		{"absolute outside", "", "/etc/passwd", "", outErr("/etc/passwd")},
		{"absolute new file outside", "", filepath.Join(outside, "new/x"), "", outErr(filepath.Join(outside, "new/x"))},
		{"absolute in an allowed folder", "", filepath.Join(allowed, "logs/app.json"), filepath.Join(allowed, "logs/app.json"), ""},
		{"new file in an allowed folder", "", filepath.Join(allowed, "n/x"), filepath.Join(allowed, "n/x"), ""},
		{"file symlink leading out", "", "data/file-link", "", outErr("data/file-link")},
		{"folder symlink leading out", "", "data/dir-link/secret", "", outErr("data/dir-link/secret")},
		{"folder symlink leading out, new file", "", "data/dir-link/x/y", "", outErr("data/dir-link/x/y")},
		{"dangling symlink leading out", "", "data/dangling-link", "", outErr("data/dangling-link")},
		{"symlink to an allowed folder", "", "data/allowed-link/logs/app.json", filepath.Join(root, "data/allowed-link/logs/app.json"), ""},
		{"engine settings", "", "etc/kgen.yaml", "", ownErr("etc/kgen.yaml", "etc")},
		{"engine settings by a symlink", "", "data/etc-link/kgen.yaml", "", ownErr("data/etc-link/kgen.yaml", "etc")},
		{"engine store", "", "data/kgen.db", "", ownErr("data/kgen.db", "data/kgen.db")},
		{"service descriptions", "", "data/services/x.json", "", ownErr("data/services/x.json", "data/services")},
		{"plugins", "", "plugins/sinks/X.so", "", ownErr("plugins/sinks/X.so", "plugins")},
		{"the root itself", "", root, root, ""},
		{"NUL", "", "a\x00b", "", `file sink "path": "a\x00b" contains a NUL byte`},
		{"empty", "", "", "", `file sink "path": empty path`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.Resolve(`file sink "path"`, c.base, c.path)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("got %q, %v; want error %s", got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %s", got, err, c.want)
			}
		})
	}
}

// An allowed folder that holds the root does not open the engine's own
// files; one inside them does.
func TestReservedAndAllow(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	shared := filepath.Join(root, "etc", "shared")
	p, err := confine.New(root, []string{tmp, shared})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"etc/kgen.yaml":           `x: "etc/kgen.yaml" is in the engine's own etc, which definitions may not use unless etc/kgen.yaml paths.allow lists it`,
		filepath.Join(tmp, "y"):   "",
		"etc/shared/certs/ca.pem": "",
		"data/kgen.db":            `x: "data/kgen.db" is in the engine's own data/kgen.db, which definitions may not use unless etc/kgen.yaml paths.allow lists it`,
		"data/kgen.db.bak":        `x: "data/kgen.db.bak" is in the engine's own data/kgen.db, which definitions may not use unless etc/kgen.yaml paths.allow lists it`,
		"data/kgen.dbx/../out":    "",
		"log/kgen.log":            `x: "log/kgen.log" is in the engine's own log, which definitions may not use unless etc/kgen.yaml paths.allow lists it`,
	} {
		_, err := p.Resolve("x", "", path)
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && got != want) {
			t.Errorf("%s: got %v, want %q", path, err, want)
		}
	}
}

func TestNew(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		allow []string
		err   string
	}{
		{[]string{"/var/log/app", "rel"}, `paths.allow[1]: "rel": want an absolute folder path`},
		{[]string{""}, `paths.allow[0]: "": want an absolute folder path`},
	} {
		if _, err := confine.New(root, c.allow); err == nil || err.Error() != c.err {
			t.Errorf("New(%q) = %v, want %s", c.allow, err, c.err)
		}
	}
	if _, err := confine.New("rel", nil); err == nil {
		t.Error("a relative root was accepted")
	}
}

func TestLinkLoop(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("b", filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	p, err := confine.New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Resolve("x", "", "a"); err == nil {
		t.Fatal("a link loop resolved")
	}
}

func TestFrom(t *testing.T) {
	root := t.TempDir()
	p, err := confine.New(root, []string{"/opt"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := confine.From(confine.With(context.Background(), p), "/elsewhere"); got != p {
		t.Error("From did not return the carried policy")
	}
	got, err := confine.From(context.Background(), root)
	if err != nil || got.Root() != root {
		t.Fatalf("From without a policy: %v, %v", got, err)
	}
	if _, err := got.Resolve("x", "", "/opt/y"); err == nil {
		t.Error("the default policy allows /opt")
	}
}
