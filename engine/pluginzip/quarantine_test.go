package pluginzip

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

func TestQuarantineListDelete(t *testing.T) {
	root := newRoot(t)
	// An installed plugin, with its manifest, metadata and configuration.
	if _, err := InstallBytes(root, sdk.KindSource, "random", mkzip(t,
		entry{name: "Random@v1.0.0.so", body: "so"},
		entry{name: "random.json", body: "{}"},
		entry{name: "random.yaml", body: "default: {}\n"},
		entry{name: "etc/words.txt", body: "a b"},
	), Options{}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	so := filepath.Join(root, "plugins/sources/Random@v1.0.0.so")
	dir, err := Quarantine(root, sdk.KindSource, "random", so, "it panicked", now)
	if err != nil || dir != "plugins/.quarantine/sources/random-20261206T180000Z" {
		t.Fatalf("Quarantine = %q, %v", dir, err)
	}
	// The same second again gets a folder of its own.
	os.WriteFile(so, []byte("so again"), 0o644)
	dir2, err := Quarantine(root, sdk.KindSource, "random", so, "again", now)
	if err != nil || dir2 != "plugins/.quarantine/sources/random-20261206T180000Z-2" {
		t.Fatalf("second Quarantine = %q, %v", dir2, err)
	}
	got := tree(t, root)
	for _, want := range []string{
		"plugins/.quarantine/sources/random-20261206T180000Z/plugins/sources/Random@v1.0.0.so=so",
		"plugins/.quarantine/sources/random-20261206T180000Z/plugins/sources/.random.installed.json=*",
		"plugins/.quarantine/sources/random-20261206T180000Z/etc/sources/random.json={}",
		"plugins/.quarantine/sources/random-20261206T180000Z/reason.txt=it panicked\n",
		"plugins/.quarantine/sources/random-20261206T180000Z-2/plugins/sources/Random@v1.0.0.so=so again",
		// The configuration stays.
		"etc/sources/random.yaml=default: {}\n",
		"etc/sources/random/words.txt=a b",
	} {
		if !slices.ContainsFunc(got, func(p string) bool {
			prefix, ok := strings.CutSuffix(want, "*")
			return p == want || ok && strings.HasPrefix(p, prefix)
		}) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
	if _, _, ok, _ := Find(root, sdk.KindSource, "random"); ok {
		t.Error("the quarantined plugin is still installed")
	}
	qs, err := ListQuarantined(root, sdk.KindSource)
	if err != nil || len(qs) != 2 || qs[0].Name != "random" || qs[0].Dir != dir || qs[0].Reason != "it panicked" || qs[0].File != so || qs[1].Dir != dir2 {
		t.Errorf("ListQuarantined = %+v, %v", qs, err)
	}
	del, err := Delete(root, sdk.KindSource, "random")
	if err != nil || !slices.Equal(del.Removed, []string{dir, dir2}) {
		t.Errorf("Delete = %+v, %v", del, err)
	}
	if qs, _ := ListQuarantined(root, sdk.KindSource); len(qs) != 0 {
		t.Errorf("after Delete: %+v", qs)
	}
	if _, err := Delete(root, sdk.KindSource, "random"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Delete: %v", err)
	}
}
