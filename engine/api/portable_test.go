package api_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/portable"
)

// portableExes are the greet example (version 1) and its testdata variant
// (version 2), built once with go build.
var portableExes = struct {
	once   sync.Once
	dir    string
	err    error
	v1, v2 string
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	if portableExes.dir != "" {
		os.RemoveAll(portableExes.dir)
	}
	os.Exit(code)
}

func buildGreets(t *testing.T) (v1, v2 string) {
	t.Helper()
	p := &portableExes
	p.once.Do(func() {
		p.dir, p.err = os.MkdirTemp("", "kgen-api-portable")
		if p.err != nil {
			return
		}
		for out, pkg := range map[*string]string{
			&p.v1: "github.com/kgen-dev/kgen/examples/portable/greet",
			&p.v2: "github.com/kgen-dev/kgen/engine/portable/testdata/greet2",
		} {
			*out = filepath.Join(p.dir, filepath.Base(pkg))
			if b, err := exec.Command("go", "build", "-o", *out, pkg).CombinedOutput(); err != nil {
				p.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.v1, p.v2
}

// greetZip packs exe as plugin greet of that version and returns the zip.
func greetZip(t *testing.T, exe, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "greet")
	os.MkdirAll(dir, 0o755)
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "greet"), data, 0o755)
	os.WriteFile(filepath.Join(dir, "greet.json"), fmt.Appendf(nil, `{"name":"greet","version":%q,"language":"go","executable":"greet","functions":["greet","seen","pid"]}`, version), 0o644)
	var buf bytes.Buffer
	if _, err := portable.Pack(&buf, dir, ""); err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(t.TempDir(), "greet.zip")
	if err := os.WriteFile(zip, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return zip
}

// The portable plugin routes: install, list, show with the process, a
// reinstall while a rule runs (the rule keeps version 1 until it
// restarts), and delete refused while a rule uses it.
func TestPortableRoutes(t *testing.T) {
	exe1, exe2 := buildGreets(t)
	s := newServer(t)
	v1, v2 := greetZip(t, exe1, "1.0.0"), greetZip(t, exe2, "2.0.0")
	s.check(t, []exchange{
		{"GET", "/plugins/portables", "", 200, "[]\n"},
		{"POST", "/plugins/portables", `{"name":"greet","file":"file://` + v1 + `"}`, 201, "portable plugin greet is created"},
		{"POST", "/plugins/portables", `{"name":"greet","file":"` + v2 + `"}`, 409, `install portable plugin "greet": portable plugin "greet" is already installed (version "1.0.0"); reinstall it to replace it`},
		{"GET", "/plugins/portables/nope", "", 404, `portable plugin "nope" is not installed`},
		{"POST", "/streams", `{"sql":"CREATE STREAM people (name STRING) WITH (DATASOURCE=\"in/people\", TYPE=\"memory\")"}`, 201, "Stream people is created."},
		{"POST", "/rules", `{"id":"r1","sql":"SELECT greet(name) AS g, pid() AS pid FROM people","actions":[{"memory":{"topic":"out/r1"}}]}`, 201, "Rule r1 was created successfully."},
	})
	ctx := context.Background()
	list, err := s.cl.Portables(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "greet" || list[0].Version != "1.0.0" || strings.Join(list[0].Functions, ",") != "greet,seen,pid" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	out, cancel := s.e.MemoryHub().Subscribe("out/r1", 4)
	defer cancel()
	greet := func() (string, int) {
		t.Helper()
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		defer pcancel()
		if err := s.e.MemoryHub().Publish(pctx, "in/people", map[string]any{"name": "ann"}); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-out:
			return fmt.Sprint(r["g"]), int(r["pid"].(int64))
		case <-time.After(20 * time.Second):
			t.Fatal("no row from r1")
		}
		return "", 0
	}
	g, pid1 := greet()
	st, err := s.cl.Portable(ctx, "greet")
	if g != "hello, ann" || err != nil || st.State != "running" || st.Pid != pid1 || st.CallSites != 2 {
		t.Fatalf("greeting %q; status %+v, %v", g, st, err)
	}

	s.check(t, []exchange{
		{"PUT", "/plugins/portables/greet", `{"name":"other","file":"` + v2 + `"}`, 400, `request body: "name" is "other", the path's "greet"`},
		{"PUT", "/plugins/portables/greet", `{"file":"` + v2 + `"}`, 200, `portable plugin greet is updated to version "2.0.0"; running rules keep the old version ("1.0.0", 2 call sites) until they restart`},
	})
	if g, pid := greet(); g != "hello, ann" || pid != pid1 {
		t.Fatalf("r1 after the reinstall: %q from %d, want v1's from %d", g, pid, pid1)
	}
	st, _ = s.cl.Portable(ctx, "greet")
	if st.Version != "2.0.0" || st.State != "idle" || len(st.Retired) != 1 || st.Retired[0].Version != "1.0.0" || st.Retired[0].Pid != pid1 {
		t.Fatalf("status after the reinstall = %+v", st)
	}
	s.check(t, []exchange{
		{"DELETE", "/plugins/portables/greet", "", 409, `delete portable plugin "greet": used by rule "r1"; delete or change them first, or delete with ?force=true (running rules keep the plugin's process until they stop)`},
		{"POST", "/rules/r1/restart", "", 200, "Rule r1 was restarted"},
	})
	g, pid2 := greet()
	if g != "hello again, ann" || pid2 == pid1 {
		t.Fatalf("r1 after its restart: %q from %d", g, pid2)
	}
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid1, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the v1 process %d still runs", pid1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.check(t, []exchange{
		{"DELETE", "/plugins/portables/greet?force=true", "", 200, `portable plugin greet is deleted; running rules keep it (2 call sites) until they stop`},
		{"GET", "/plugins/portables", "", 200, "[]\n"},
		{"DELETE", "/rules/r1", "", 200, "Rule r1 is dropped."},
		{"GET", "/plugins/portables/greet", "", 404, `portable plugin "greet" is not installed`},
		{"DELETE", "/plugins/portables/greet", "", 404, `portable plugin "greet" is not installed`},
	})
}

// A bad zip is refused naming the zip and the entry; so is a function name
// the engine resolves before portable plugins.
func TestPortableInstallRefused(t *testing.T) {
	exe1, _ := buildGreets(t)
	s := newServer(t)
	noExec := writeZip(t, "greet.json", `{"name":"greet","version":"1","language":"go","executable":"greet","functions":["greet"]}`, "greet", "#!/bin/sh\n")
	builtin := filepath.Join(t.TempDir(), "abs")
	os.MkdirAll(builtin, 0o755)
	data, _ := os.ReadFile(exe1)
	os.WriteFile(filepath.Join(builtin, "abs"), data, 0o755)
	os.WriteFile(filepath.Join(builtin, "abs.json"), []byte(`{"name":"abs","version":"1","language":"go","executable":"abs","functions":["abs"]}`), 0o644)
	var buf bytes.Buffer
	if _, err := portable.Pack(&buf, builtin, ""); err != nil {
		t.Fatal(err)
	}
	absZip := filepath.Join(t.TempDir(), "abs.zip")
	os.WriteFile(absZip, buf.Bytes(), 0o644)
	s.check(t, []exchange{
		{"POST", "/plugins/portables", `{"name":"greet","file":"` + noExec + `"}`, 400, `install portable plugin "greet": ` + noExec + `: zip entry "greet": the executable is not executable (mode -rw-rw-rw-); pack it with its x bits (kgen pack -portable does)`},
		{"POST", "/plugins/portables", `{"name":"hello","file":"` + noExec + `"}`, 400, `install portable plugin "hello": ` + noExec + `: zip has no hello.json (the manifest of plugin "hello") at its root; it has greet.json: is the plugin name right?`},
		{"POST", "/plugins/portables", `{"name":"abs","file":"` + absZip + `"}`, 400, `install portable plugin "abs": function "abs" is a SQL built-in; a plugin function cannot replace it`},
		{"POST", "/plugins/portables", `{"name":"greet","file":"greet.zip"}`, 400, `install portable plugin "greet": file "greet.zip": want an absolute path or a file:// URL (the engine's working folder is not the client's)`},
		{"POST", "/plugins/portables", `{"file":"/x.zip"}`, 400, `request body: "name" is required (want {"name": "greet", "file": "file:///path/greet.zip"})`},
		{"GET", "/plugins/portables", "", 200, "[]\n"},
	})
}
