package gobuild

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/clock"
)

// Status lines go to terminals only; the terminal test is injected.
func TestStatusWriter(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	yes := func(*os.File) bool { return true }
	no := func(*os.File) bool { return false }
	var buf bytes.Buffer
	cases := []struct {
		name   string
		w      io.Writer
		term   string
		isTerm func(*os.File) bool
		want   bool
	}{
		{"terminal", f, "xterm", yes, true},
		{"terminal, no TERM", f, "", yes, true},
		{"dumb terminal", f, "dumb", yes, false},
		{"file or pipe", f, "xterm", no, false},
		{"buffer", &buf, "xterm", yes, false},
	}
	for _, c := range cases {
		if got := statusWriter(c.w, c.term, c.isTerm) != nil; got != c.want {
			t.Errorf("%s: status shown %v, want %v", c.name, got, c.want)
		}
	}
	// A regular file and a pipe are no terminals.
	if isCharDevice(f) {
		t.Error("a regular file counts as a terminal")
	}
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer pw.Close()
	if StatusWriter(pw) != nil {
		t.Error("a pipe gets status lines")
	}
}

func TestStatusLine(t *testing.T) {
	var buf bytes.Buffer
	c := clock.NewFake(time.Unix(0, 0))
	stop := newStatusLine(&buf, "building the engine for .", c, time.Second).begin()
	c.Add(500 * time.Millisecond)
	if buf.Len() != 0 {
		t.Fatalf("status before the first second: %q", buf.String())
	}
	c.Add(500 * time.Millisecond)
	c.Add(9 * time.Second)
	stop()
	stop() // twice is harmless
	c.Add(time.Minute)
	want := "\rbuilding the engine for . (1s)" + "\rbuilding the engine for . (2s)" + "\rbuilding the engine for . (3s)" +
		"\rbuilding the engine for . (4s)" + "\rbuilding the engine for . (5s)" + "\rbuilding the engine for . (6s)" +
		"\rbuilding the engine for . (7s)" + "\rbuilding the engine for . (8s)" + "\rbuilding the engine for . (9s)" +
		"\rbuilding the engine for . (10s)" + "\r                               \r"
	if got := buf.String(); got != want {
		t.Errorf("status:\n%q\nwant\n%q", got, want)
	}
	if c.Pending() != 0 {
		t.Errorf("%d timers left after stop", c.Pending())
	}

	// No writer, no line; a quick build erases nothing.
	newStatusLine(nil, "x", c, time.Second).begin()()
	buf.Reset()
	stop = newStatusLine(&buf, "x", c, time.Second).begin()
	stop()
	if buf.Len() != 0 || c.Pending() != 0 {
		t.Errorf("quick build: wrote %q, %d timers left", buf.String(), c.Pending())
	}
}
