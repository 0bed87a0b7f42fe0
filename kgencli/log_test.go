package kgencli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The log file is rotated at its size and keeps its backups: a log that
// gets three times its size leaves the file and at most maxBackups old
// ones, none larger than the size.
func TestLogFileRotates(t *testing.T) {
	root := t.TempDir()
	l, err := openLog(root)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.setLimits(1, 2)
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	for range 3 * 1024 {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) <= 3 {
			for _, e := range entries {
				info, _ := e.Info()
				if info.Size() > 1<<20 {
					t.Errorf("%s: %d bytes, more than the 1 MiB size", e.Name(), info.Size())
				}
			}
			if len(entries) < 2 {
				t.Errorf("log folder holds %d files; want kgen.log and rotated ones", len(entries))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log folder holds %d files; want at most 3", len(entries))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
