package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSink("file", func() sdk.Sink { return &fileSink{} })
}

// fileSinkFlushSize is the buffered size that triggers a write before the
// next periodic flush.
const fileSinkFlushSize = 64 << 10

// fileSink writes rows to a file as JSON lines (appending) or as one JSON
// array (the file is truncated and becomes valid JSON on Close).
//
// Rows are buffered and written at least every checkInterval, when 64 KiB are
// pending, and on Close. The buffer only ever holds whole rows and is written
// with one call, so a reader (or a crash) never sees half a row.
type fileSink struct {
	name     string // the path as written, for messages
	path     string
	jsonMode bool
	interval time.Duration

	mu     sync.Mutex
	file   *os.File
	buf    []byte
	rows   int
	err    error // the first write error; later calls report it
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

func (s *fileSink) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	s.path = r.required("path")
	s.jsonMode = r.oneOf("fileType", "lines", "lines", "json") == "json"
	s.interval = r.duration("checkInterval", time.Second)
	r.strict(ctx, CommonSinkProps, []string{"hasHeader", "rollingInterval", "rollingCount", "rollingNamePattern", "rollingHook", "rollingHookProps"})
	if r.err == nil && s.interval == 0 {
		r.err = fmt.Errorf("property %q: want a positive duration, got %s", "checkInterval", describe(props["checkInterval"]))
	}
	if r.err != nil {
		return fmt.Errorf("file sink: %w", r.err)
	}
	s.name = s.path
	// Refused here, when the rule is created, and checked again at Connect
	// in case a link was made in between.
	path, err := resolvePath(ctx, `file sink "path"`, "", s.path)
	if err != nil {
		return err
	}
	s.path = path
	return nil
}

func (s *fileSink) Connect(ctx sdk.Context) error {
	if _, err := resolvePath(ctx, `file sink "path"`, "", s.name); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if s.jsonMode {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC // an array cannot be appended to
	}
	f, err := os.OpenFile(s.path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.file = f
	if s.jsonMode {
		s.buf = append(s.buf, '[')
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.flushLoop(s.stop, s.done)
	return nil
}

func (s *fileSink) flushLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.mu.Lock()
			s.flushLocked()
			s.mu.Unlock()
		case <-stop:
			return
		}
	}
}

func (s *fileSink) Collect(ctx sdk.Context, row map[string]any) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("file sink: encode row: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLocked(b)
}

// CollectList writes each row as a line, or as an element of the array.
func (s *fileSink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	encoded := make([][]byte, len(rows))
	for i, row := range rows {
		b, err := json.Marshal(row)
		if err != nil {
			return fmt.Errorf("file sink: encode row %d: %w", i+1, err)
		}
		encoded[i] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range encoded {
		if err := s.appendLocked(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *fileSink) appendLocked(row []byte) error {
	switch {
	case s.closed:
		return errors.New("file sink: closed")
	case s.file == nil:
		return errors.New("file sink: not connected")
	case s.err != nil:
		return s.err
	}
	if s.jsonMode {
		if s.rows > 0 {
			s.buf = append(s.buf, ',')
		}
		s.buf = append(s.buf, '\n')
		s.buf = append(s.buf, row...)
	} else {
		s.buf = append(s.buf, row...)
		s.buf = append(s.buf, '\n')
	}
	s.rows++
	if len(s.buf) >= fileSinkFlushSize {
		s.flushLocked()
	}
	return s.err
}

func (s *fileSink) flushLocked() {
	if len(s.buf) == 0 || s.err != nil || s.file == nil {
		return
	}
	if _, err := s.file.Write(s.buf); err != nil {
		s.err = fmt.Errorf("file sink: %w", err)
	}
	s.buf = s.buf[:0]
}

// Close writes what is buffered (and the closing "]" of an array) and closes
// the file.
func (s *fileSink) Close(ctx sdk.Context) error {
	s.mu.Lock()
	if s.closed || s.file == nil {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	if s.jsonMode {
		s.buf = append(s.buf, "\n]\n"...)
	}
	s.flushLocked()
	err := s.err
	if cerr := s.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("file sink: %w", cerr)
	}
	done := s.done
	s.mu.Unlock()
	<-done // the flush loop only waits for s.mu, which is free now
	return err
}
