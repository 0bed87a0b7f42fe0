package gobuild

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/internal/clock"
)

// StatusWriter returns w when it is a terminal, for the status line a long
// go build shows there (see statusLine), and nil otherwise: a pipe, a
// file, a test's buffer or TERM=dumb get no lines rewritten with "\r", so
// scripts and logs stay as they were.
func StatusWriter(w io.Writer) io.Writer {
	return statusWriter(w, os.Getenv("TERM"), isCharDevice)
}

// statusWriter is StatusWriter with the environment injected: term is
// $TERM, isTerminal tells whether an open file is a terminal.
func statusWriter(w io.Writer, term string, isTerminal func(*os.File) bool) io.Writer {
	f, ok := w.(*os.File)
	if !ok || term == "dumb" || !isTerminal(f) {
		return nil
	}
	return w
}

// isCharDevice reports whether f is a character device: a terminal, or
// /dev/null, where a status line is lost harmlessly.
func isCharDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// statusInterval is how often the status line is rewritten.
const statusInterval = time.Second

// statusLine shows, on w, that a build is alive: "<what> (3s)", rewritten
// in place every interval from the first interval on (a build quicker than
// that prints nothing), and erased by stop. A nil w shows nothing.
type statusLine struct {
	w        io.Writer
	what     string
	clock    clock.Clock
	interval time.Duration

	mu      sync.Mutex
	start   time.Time
	timer   clock.Timer
	width   int // of the last line written, to erase it
	stopped bool
}

// startStatus starts a status line for what on w (nil: none) and returns
// the function that erases it.
func startStatus(w io.Writer, what string) (stop func()) {
	return newStatusLine(w, what, clock.Real, statusInterval).begin()
}

func newStatusLine(w io.Writer, what string, c clock.Clock, interval time.Duration) *statusLine {
	return &statusLine{w: w, what: what, clock: c, interval: interval}
}

func (s *statusLine) begin() (stop func()) {
	if s.w == nil {
		return func() {}
	}
	s.mu.Lock()
	s.start = s.clock.Now()
	s.timer = s.clock.AfterFunc(s.interval, s.tick)
	s.mu.Unlock()
	return s.stop
}

func (s *statusLine) tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	elapsed := s.clock.Now().Sub(s.start).Round(time.Second)
	line := fmt.Sprintf("%s (%v)", s.what, elapsed)
	pad := max(s.width-len(line), 0)
	fmt.Fprintf(s.w, "\r%s%*s", line, pad, "")
	s.width = len(line)
	s.timer = s.clock.AfterFunc(s.interval, s.tick)
}

func (s *statusLine) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.timer.Stop()
	if s.width > 0 {
		fmt.Fprintf(s.w, "\r%*s\r", s.width, "")
	}
}
