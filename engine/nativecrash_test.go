package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
	"github.com/kgen-dev/kgen/sdk"
)

// crashSink is a sink plugin whose init writes to an unmapped address: a
// fatal error ("unexpected fault address", "fatal error: fault") that no
// recover catches, as a fault in a plugin's C code would be.
const crashSink = `package main

import (
	"unsafe"

	"github.com/kgen-dev/kgen/sdk"
)

func init() { *(*int)(unsafe.Pointer(uintptr(0xdeadbeef000))) = 1 }

func Crash() sdk.Sink { return nil }

func main() {}
`

// A native plugin that crashes the engine process while it is opened does
// not crash it again: the next start quarantines it, restores the rules
// that were running, and reports the plugin.
func TestEngineStartsAfterAPluginCrashedIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go plugin")
	}
	root := t.TempDir()
	setup := childSetup{
		Streams: []string{`CREATE STREAM s () WITH (DATASOURCE="in", TYPE="memory")`},
		Rules:   []json.RawMessage{json.RawMessage(`{"id":"keep","sql":"SELECT * FROM s","actions":[{"nop":{}}]}`)},
	}
	startChild(t, root, setup).kill()

	so := filepath.Join(root, "plugins", "sinks", "Crash.so")
	testutil.BuildPlugin(t, fmt.Sprintf("kgenfixture/crash%d", time.Now().UnixNano()), crashSink, so)

	// The start that opens it dies.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(setup)
	crash := exec.Command(exe, "-test.run=^$")
	crash.Env = append(os.Environ(), "KGEN_TEST_CHILD_ROOT="+root, "KGEN_TEST_CHILD_SETUP="+string(data),
		"KGEN_TEST_CHILD_READY="+filepath.Join(t.TempDir(), "ready"))
	logs := &syncbuf.Buffer{}
	crash.Stdout, crash.Stderr = logs, logs
	if err := crash.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- crash.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		crash.Process.Kill()
		t.Fatalf("the engine did not crash on the plugin:\n%s", logs)
	}
	if err == nil || !strings.Contains(logs.String(), "fatal error: fault") {
		t.Fatalf("engine exit: %v, want fatal error: fault:\n%s", err, logs)
	}
	if _, err := os.Stat(filepath.Join(root, "plugins", ".opening.json")); err != nil {
		t.Fatalf("no marker of the open that crashed: %v", err)
	}

	// The next start quarantines it and brings the rule back (the child
	// is ready once rule keep runs).
	c := startChild(t, root, setup)
	if !strings.Contains(c.logs.String(), "plugin quarantined") {
		t.Errorf("no quarantine in the log:\n%s", c.logs)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.exit
	if _, err := os.Stat(so); err == nil {
		t.Error("Crash.so is still in plugins/sinks")
	}

	// It stays reported on later starts, until deleted.
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := fmt.Sprint(e.Rules()); got != "[{keep running}]" {
		t.Errorf("rules = %s", got)
	}
	infos := e.Plugins().List(sdk.KindSink)
	if len(infos) != 1 || infos[0].Name != "crash" || !strings.HasPrefix(infos[0].Quarantined, "plugins/.quarantine/sinks/crash-") ||
		!strings.Contains(infos[0].Err, "the engine ended while opening it: its init crashed the process") {
		t.Fatalf("sink plugins = %+v", infos)
	}
	reason, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(infos[0].Quarantined), "reason.txt"))
	if err != nil || !strings.Contains(string(reason), "the engine ended while opening it") {
		t.Errorf("reason.txt = %q, %v", reason, err)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(infos[0].Quarantined), "plugins", "sinks", "Crash.so")); err != nil {
		t.Errorf("the quarantined file: %v", err)
	}
}
