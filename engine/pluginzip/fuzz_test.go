package pluginzip

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// FuzzInstallZip installs arbitrary bytes as a source plugin zip: it must
// never panic, never write outside <root>/plugins and <root>/etc (nor
// outside the root at all), and leave the root exactly as it was when it
// fails.
func FuzzInstallZip(f *testing.F) {
	f.Add(mkzip(f, sourceZip...))
	f.Add(mkzip(f, entry{name: "Random.so", body: "fail"}, entry{name: "random.yaml"}, entry{name: "etc/x", body: "x"}))
	f.Add(mkzip(f, entry{name: "Random.so"}, entry{name: "random.yaml"}, entry{name: "../x", body: "evil"}))
	f.Add(mkzip(f, entry{name: "Random.so"}, entry{name: "random.yaml"}, entry{name: "etc/../../x", body: "evil"}))
	f.Add(mkzip(f, entry{name: "Random.so"}, entry{name: "random.yaml"}, entry{name: "/etc/x", body: "evil"}))
	f.Add(mkzip(f, entry{name: "Random.so"}, entry{name: "random.yaml"}, entry{name: "etc/l", body: "../../../..", mode: fs.ModeSymlink | 0o777}, entry{name: "etc/l/x", body: "evil"}))
	f.Add(mkzip(f, entry{name: "Random.so"}, entry{name: "random.yaml"}, entry{name: "install.sh", body: "touch ../../x"}))
	f.Add(lyingZip(f, "Random.so", 1<<62, 10))
	f.Add(lyingZip(f, "Random.so", 10, 1<<16))
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		for _, d := range []string{"plugins/sources", "etc/sources", "data"} {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		os.WriteFile(filepath.Join(root, "data", "kgen.db"), []byte("db"), 0o644)
		before := tree(t, root)
		_, err := InstallBytes(root, sdk.KindSource, "random", data, Options{
			Load: func(_ sdk.Kind, path string) error {
				if b, _ := os.ReadFile(path); strings.HasPrefix(string(b), "fail") {
					return errors.New("refused")
				}
				return nil
			},
			// Never run fuzzed shell scripts.
			AllowScripts: true,
			RunScript:    func(context.Context, string, []string, []string, *slog.Logger) error { return nil },
			Limits:       Limits{MaxEntries: 50, MaxFileSize: 1 << 16, MaxTotalSize: 1 << 17},
		})
		if entries, _ := os.ReadDir(parent); len(entries) != 1 || entries[0].Name() != "root" {
			t.Fatalf("wrote outside the root: %v", entries)
		}
		after := tree(t, root)
		if err != nil {
			if !slices.Equal(before, after) {
				t.Fatalf("failed install (%v) changed the root:\n%s", err, strings.Join(after, "\n"))
			}
			return
		}
		for _, p := range after {
			if slices.Contains(before, p) {
				continue
			}
			if !strings.HasPrefix(p, "plugins/sources/") && !strings.HasPrefix(p, "etc/sources/") {
				t.Fatalf("wrote %q outside plugins/ and etc/", p)
			}
			if strings.Contains(p, ".install-") {
				t.Fatalf("staging folder left behind: %q", p)
			}
		}
	})
}
