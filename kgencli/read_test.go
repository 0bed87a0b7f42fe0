package kgencli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A definition file that is a device, a FIFO or too large is refused
// before the CLI reads it or reaches an engine; stdin is bounded too.
func TestReadFileRefusesWhatNeverEnds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), maxDefinition+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "/dev/zero: not a regular file (Dc---------)",
		fifo:        fifo + ": not a regular file (p---------)",
		dir:         dir + ": not a regular file (d---------)",
		big:         big + ": 8388609 bytes, more than the limit of 8388608",
	} {
		var stdout, stderr bytes.Buffer
		err := Run(context.Background(), []string{"rule", "create", path}, nil, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rule create %s: err = %v, want %s", path, err, want)
		}
	}
	if _, err := readLimited(strings.NewReader(strings.Repeat("x", 11)), "stdin", 10); err == nil || err.Error() != "stdin: more than the limit of 10 bytes" {
		t.Errorf("readLimited: err = %v", err)
	}
}
