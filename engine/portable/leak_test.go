package portable_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/internal/testutil"
)

// children lists the processes whose parent is this one, zombies too.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	self := os.Getpid()
	var pids []int
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", en.Name(), "stat"))
		if err != nil {
			continue // it ended meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces and
		// parentheses, so the fields are counted after the last ")".
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// leftUnder lists the files (not folders) under dir.
func leftUnder(dir string) []string {
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	return left
}

// packNamed packs plugin name, serving function name, and returns the
// zip's path. Its executable is a script that execs the one build of
// named with the plugin's name (the process is named's, with the
// script's pid), so 50 zips do not each pack and unpack 19 MB.
func packNamed(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec '%s' %s\n", bin["named"], name)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"name":%q,"version":"1.0.0","language":"go","executable":%q,"functions":[%q]}`, name, name, name)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), name+".zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := portable.Pack(f, dir, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return zipPath
}

// namedCycle installs the plugins named, runs one rule calling each one's
// function (which starts its process) and checks its row, then deletes
// the rules and the plugins.
func namedCycle(t *testing.T, e *engine.Engine, zips map[string]string, names []string) {
	t.Helper()
	m := e.Portable()
	for _, name := range names {
		if _, err := m.InstallFile(name, zips[name], portable.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	outs := make([]<-chan map[string]any, len(names))
	for i, name := range names {
		out, cancel := e.MemoryHub().Subscribe("out/"+name, 1)
		defer cancel()
		outs[i] = out
		if _, err := e.CreateRule(fmt.Appendf(nil, `{"id":%q,"sql":"SELECT %s(name) AS g FROM people","actions":[{"memory":{"topic":"out/%s"}}]}`, name, name, name)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(children(t)); got < len(names) {
		t.Errorf("%d plugins in rules, %d child processes", len(names), got)
	}
	publish(t, e, "in/people", map[string]any{"name": "ann"})
	for i, name := range names {
		if got, want := receive(t, outs[i], 1)[0]["g"], name+": ann"; got != want {
			t.Errorf("rule %s: g = %v, want %q", name, got, want)
		}
	}
	for _, name := range names {
		if err := e.DeleteRule(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		if n, err := m.Delete(name); err != nil || n != 0 {
			t.Fatalf("delete %s: %d call sites kept, err %v", name, n, err)
		}
	}
}

// Installing 50 portable plugins, running a rule on each one's function
// (so 50 plugin processes run), then deleting the rules and the plugins
// gives back the goroutines, file descriptors and child processes they
// took, and leaves no plugin folder or socket under the engine root.
// (Native .so plugins cannot be unloaded in Go; portable ones can.)
func TestNoLeaksAfterManyPortablePlugins(t *testing.T) {
	root := shortRoot(t)
	const plugins = 50
	names := []string{"warm"}
	for i := range plugins {
		names = append(names, fmt.Sprintf("p%02d", i))
	}
	start := time.Now()
	zips := map[string]string{}
	for _, name := range names {
		zips[name] = packNamed(t, name)
	}
	t.Logf("packed %d zips in %v", len(names), time.Since(start).Round(time.Millisecond))

	e := openEngine(t, root, "  initTimeout: 20s\n")
	if _, err := e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="in/people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	// One plugin first, so what the first one starts for good (the
	// health loop's timers, gRPC's and go-plugin's shared goroutines)
	// is in the baseline.
	namedCycle(t, e, zips, names[:1])
	waitFor(t, "the warm-up plugin to stop", func() bool { return len(children(t)) == 0 })
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	goroutines, files := runtime.NumGoroutine(), testutil.OpenFiles(t)

	start = time.Now()
	namedCycle(t, e, zips, names[1:])
	t.Logf("%d plugins installed, run and deleted in %v", plugins, time.Since(start).Round(time.Millisecond))

	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		g, f, kids := runtime.NumGoroutine(), testutil.OpenFiles(t), children(t)
		if g <= goroutines+2 && f <= files+2 && len(kids) == 0 {
			t.Logf("back to %d goroutines (baseline %d), %d open files (baseline %d), no child process in %v",
				g, goroutines, f, files, time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after %d plugins: %d goroutines (before %d), %d open files (before %d), child processes %v\n%s",
				plugins, g, goroutines, f, files, kids, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if left := leftUnder(portable.Dir(root)); len(left) > 0 {
		t.Errorf("plugin files left behind: %v", left)
	}
	entries, _ := os.ReadDir(portable.Dir(root))
	for _, en := range entries {
		if en.Name() != ".staging" {
			t.Errorf("plugin folder left behind: %s", en.Name())
		}
	}
	if left := leftUnder(portable.SocketDir(root)); len(left) > 0 {
		t.Errorf("sockets left behind: %v", left)
	}
}
