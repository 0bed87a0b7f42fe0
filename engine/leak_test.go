package engine_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}

// Creating, running and deleting 200 rules (and their streams) and 50
// services gives back the goroutines and file descriptors they took.
func TestNoLeaksAfterManyRules(t *testing.T) {
	e := open(t, t.TempDir())
	defer e.Close()
	mustStream(t, e, `CREATE STREAM warm (n BIGINT) WITH (DATASOURCE="in/warm", TYPE="memory")`)
	mustRule(t, e, `{"id":"warm","sql":"SELECT n FROM warm","actions":[{"nop":{}}]}`)
	if err := e.DeleteRule("warm"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	goroutines, files := runtime.NumGoroutine(), openFiles(t)
	for i := range 200 {
		stream := fmt.Sprintf("s%d", i%20)
		if i < 20 {
			mustStream(t, e, fmt.Sprintf(`CREATE STREAM %s (n BIGINT) WITH (DATASOURCE="in/%s", TYPE="memory")`, stream, stream))
		}
		mustRule(t, e, fmt.Sprintf(`{"id":"r%d","sql":"SELECT n * 2 AS m FROM %s WHERE n > 0","actions":[{"nop":{}},{"memory":{"topic":"out/r%d"}}]}`, i, stream, i))
		publish(t, e, "in/"+stream, map[string]any{"n": int64(i + 1)})
	}
	for i := range 200 {
		if err := e.DeleteRule(fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if err := e.DropStream(fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		desc := fmt.Sprintf(`{"interfaces": {"x%d": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaless": true}}}`, i)
		if err := e.Services().Add(fmt.Sprintf("svc%d", i), []byte(desc), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		if err := e.Services().Delete(fmt.Sprintf("svc%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		g, f := runtime.NumGoroutine(), openFiles(t)
		if g <= goroutines+2 && f <= files+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after 200 rules: %d goroutines (before %d), %d open files (before %d)\n%s", g, goroutines, f, files, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
