package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A damaged definitions store (truncated, scribbled over, emptied) does
// not brick the engine: it is moved aside, the engine says so and starts
// from the last good copy, with its streams and rules.
func TestDamagedDefinitionsStore(t *testing.T) {
	for name, damage := range map[string]func(path string) error{
		"truncated": func(path string) error {
			fi, err := os.Stat(path)
			if err != nil {
				return err
			}
			return os.Truncate(path, fi.Size()/3)
		},
		"scribbled": func(path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i := range data {
				data[i] ^= 0x5a
			}
			return os.WriteFile(path, data, 0o600)
		},
		"emptied": func(path string) error { return os.Truncate(path, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			e := open(t, root)
			mustStream(t, e, `CREATE STREAM d (n BIGINT) WITH (DATASOURCE="in/d", TYPE="memory", FORMAT="json")`)
			mustRule(t, e, `{"id":"d","sql":"SELECT n FROM d","actions":[{"nop":{}}]}`)
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "data", "kgen.db")
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			e = open(t, root)
			defer e.Close()
			dmg := e.StoreDamage()
			if dmg == nil || !strings.Contains(dmg.Error(), "the definitions store was damaged") || !strings.Contains(dmg.Error(), "starts from the last good copy") {
				t.Fatalf("StoreDamage() = %v", dmg)
			}
			if matches, _ := filepath.Glob(path + ".damaged-*"); len(matches) != 1 {
				t.Fatalf("damaged file kept as %v", matches)
			}
			if _, err := e.Rule("d"); err != nil {
				t.Fatalf("rule d after the restore: %v", err)
			}
			if st, err := e.RuleStatus("d"); err != nil || st.Status != "running" {
				t.Fatalf("rule d: %+v, %v", st, err)
			}
		})
	}
	// Without a good copy the engine starts with nothing, and says so.
	root := t.TempDir()
	e := open(t, root)
	mustStream(t, e, `CREATE STREAM d (n BIGINT) WITH (DATASOURCE="in/d", TYPE="memory", FORMAT="json")`)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "data", "kgen.db")
	os.Remove(path + ".good")
	if err := os.WriteFile(path, []byte(strings.Repeat("scribble", 4096)), 0o600); err != nil {
		t.Fatal(err)
	}
	e = open(t, root)
	defer e.Close()
	if dmg := e.StoreDamage(); dmg == nil || !strings.Contains(dmg.Error(), "no good copy: the engine starts with no streams and rules") {
		t.Fatalf("StoreDamage() = %v", dmg)
	}
}
