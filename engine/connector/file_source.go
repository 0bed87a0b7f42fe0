package connector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSource("file", func() sdk.Source { return &fileSource{} })
}

// fileSource reads a JSON file once and ends. It is a PushSource: Subscribe
// starts a goroutine that ingests every row (pausing sendInterval between
// rows) and then calls EOF. A pull source would not fit: the engine polls
// pull sources on a timer, and a file is read exactly once.
//
// Rows are ingested as decoded maps whatever the stream FORMAT; integers stay
// int64 and other numbers become float64, nested values included.
type fileSource struct {
	name     string // the datasource as written, for messages
	dir      string // the folder of a relative datasource
	path     string
	lines    bool // one object per line, else a JSON array or object
	interval time.Duration
	eof      sdk.EOFIngest

	mu   sync.Mutex
	file *os.File
	stop chan struct{}
	done chan struct{}

	// start is where Rewind puts the reader; pos is where it is, read by
	// GetOffset from inside the reader's ingest.
	start int64
	pos   atomic.Int64
}

// The file source takes part in checkpoints (sdk.Rewindable): its offset
// is the byte offset after the line being ingested (lines) or the number of
// array elements read (a JSON array), and Rewind continues from there.
var _ sdk.Rewindable = (*fileSource)(nil)

// GetOffset is the position after the row being ingested.
func (s *fileSource) GetOffset() (any, error) { return s.pos.Load(), nil }

// Rewind makes the reader start after offset, an offset GetOffset gave.
func (s *fileSource) Rewind(offset any) error {
	n, ok := offset.(int64)
	if !ok || n < 0 {
		return fmt.Errorf("file source %q: offset %v: want a non-negative int64", s.name, offset)
	}
	s.start = n
	s.pos.Store(n)
	return nil
}

// fileSourceCloseWait bounds how long Close waits for the reader to notice,
// in case the engine's ingest is blocked and ignores the rule's context.
const fileSourceCloseWait = 5 * time.Second

func (s *fileSource) SetEOFIngest(eof sdk.EOFIngest) { s.eof = eof }

func (s *fileSource) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	dir := r.string("path", layout.Root(ctx.GetRootPath()).Data())
	s.name = r.required("datasource")
	fileType := r.oneOf("fileType", "", "json", "lines")
	s.interval = r.duration("sendInterval", 0)
	r.accept(CommonSourceProps...)
	r.strict(ctx, ekuiperSourceProps, []string{"actionAfterRead", "moveTo", "hasHeader", "columns", "ignoreStartLines", "ignoreEndLines", "delimiter", "parallel"})
	if r.err != nil {
		return fmt.Errorf("file source: %w", r.err)
	}
	// Refused here, when the rule is created, and checked again at Connect
	// in case a link was made in between.
	var err error
	if s.dir, s.path, err = fileSourcePaths(ctx, ctx.GetRootPath(), dir, s.name); err != nil {
		return err
	}
	switch fileType {
	case "lines":
		s.lines = true
	case "":
		ext := strings.ToLower(filepath.Ext(s.path))
		s.lines = ext == ".jsonl" || ext == ".ndjson"
	}
	return nil
}

// fileSourcePaths resolves the folder of a relative datasource and the
// file, under the engine's path policy.
func fileSourcePaths(ctx context.Context, root, dir, name string) (resolvedDir, path string, err error) {
	if !filepath.IsAbs(name) {
		if dir, err = resolveUnder(ctx, root, `file source "path"`, "", dir); err != nil {
			return "", "", err
		}
	}
	path, err = resolveUnder(ctx, root, `file source "datasource"`, dir, name)
	return dir, path, err
}

// FileSourcePath returns the file a file source with props (its "path" and
// "datasource") reads, or the error its Provision gives for a file the
// engine's path policy refuses. The engine checks CREATE STREAM with it.
// Properties of the wrong type are left to Provision.
func FileSourcePath(ctx context.Context, root string, props map[string]any) (string, error) {
	dir, _ := props["path"].(string)
	if dir == "" {
		dir = layout.Root(root).Data()
	}
	name, _ := props["datasource"].(string)
	if name == "" {
		return "", nil
	}
	_, path, err := fileSourcePaths(ctx, root, dir, name)
	return path, err
}

// Connect opens the file, so that a missing file fails the rule at start.
func (s *fileSource) Connect(ctx sdk.Context) error {
	if _, _, err := fileSourcePaths(ctx, ctx.GetRootPath(), s.dir, s.name); err != nil {
		return err
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("file source %q: %w", s.name, err)
	}
	s.mu.Lock()
	s.file = f
	s.mu.Unlock()
	return nil
}

func (s *fileSource) Subscribe(ctx sdk.Context, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return fmt.Errorf("file source %q: not connected", s.name)
	}
	if s.stop != nil {
		return fmt.Errorf("file source %q: already subscribed", s.name)
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	r := &fileReader{
		ctx: ctx, name: s.name, interval: s.interval, stop: s.stop,
		ingest: ingest, ingestErr: ingestErr, start: s.start, pos: &s.pos,
	}
	go func(f *os.File) {
		defer close(s.done)
		defer f.Close()
		var err error
		if s.lines {
			err = r.readLines(f)
		} else {
			err = r.readJSON(f)
		}
		switch {
		case errors.Is(err, errStopped):
			return // the rule stopped: the data did not end
		case err != nil:
			ingestErr(ctx, err)
		}
		if s.eof != nil {
			s.eof(ctx, fmt.Sprintf("file %q: %d rows", s.name, r.rows))
		}
	}(s.file)
	return nil
}

func (s *fileSource) Close(ctx sdk.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil { // never subscribed: nobody else closes the file
		if s.file != nil {
			s.file.Close()
			s.file = nil
		}
		return nil
	}
	select {
	case <-s.stop:
		return nil
	default:
		close(s.stop)
	}
	t := time.NewTimer(fileSourceCloseWait)
	defer t.Stop()
	select {
	case <-s.done:
	case <-ctx.Done():
	case <-t.C:
		ctx.GetLogger().Warn("file source: reader still busy after close", "file", s.name)
	}
	return nil
}

// errStopped ends a reader whose source was closed (or whose context ended)
// before its data did.
var errStopped = errors.New("stopped")

// fileReader is one pass over a file.
type fileReader struct {
	ctx       sdk.Context
	name      string
	interval  time.Duration
	stop      <-chan struct{}
	ingest    sdk.Ingest
	ingestErr sdk.ErrorIngest
	rows      int
	timer     *time.Timer
	// start is the offset to continue after; pos is set before each
	// ingest to the offset after its row.
	start int64
	pos   *atomic.Int64
}

// emit ingests one row, after waiting interval since the previous one.
func (r *fileReader) emit(row map[string]any, pos int64) error {
	if r.rows > 0 && r.interval > 0 {
		if r.timer == nil {
			r.timer = time.NewTimer(r.interval)
		} else {
			r.timer.Reset(r.interval)
		}
		select {
		case <-r.timer.C:
		case <-r.stop:
			return errStopped
		case <-r.ctx.Done():
			return errStopped
		}
	} else {
		select {
		case <-r.stop:
			return errStopped
		case <-r.ctx.Done():
			return errStopped
		default:
		}
	}
	r.pos.Store(pos)
	r.ingest(r.ctx, row, nil, time.Time{})
	r.rows++
	return nil
}

// readLines reads one JSON object per line. A bad line is reported and
// skipped; blank lines are ignored.
func (r *fileReader) readLines(f io.Reader) error {
	pos := r.start
	if pos > 0 {
		seeker, ok := f.(io.Seeker)
		if !ok {
			return fmt.Errorf("file source %q: cannot continue at offset %d", r.name, pos)
		}
		if _, err := seeker.Seek(pos, io.SeekStart); err != nil {
			return fmt.Errorf("file source %q: continue at offset %d: %w", r.name, pos, err)
		}
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, size, readErr := readLine(br, maxRowBytes)
		if readErr != nil && readErr != io.EOF {
			return fmt.Errorf("file source %q: line %d: %w", r.name, n, readErr)
		}
		pos += size
		if line == nil && size > 0 {
			r.ingestErr(r.ctx, fmt.Errorf("file source %q: line %d: %d bytes, more than the limit of %d bytes for a row", r.name, n, size, maxRowBytes))
		} else if line = bytes.TrimSpace(line); len(line) > 0 {
			row, err := decodeObject(line)
			if err != nil {
				r.ingestErr(r.ctx, fmt.Errorf("file source %q: line %d: %w", r.name, n, err))
			} else if err := r.emit(row, pos); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			return nil
		}
	}
}

// readJSON reads a JSON array of objects, or a single object, streaming the
// array so that a big file is never held in memory at once. An element that
// is not an object is reported and skipped; a syntax error ends the file.
func (r *fileReader) readJSON(f io.Reader) error {
	br := bufio.NewReaderSize(f, 64<<10)
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return nil // an empty file has no rows
	}
	if err != nil {
		return fmt.Errorf("file source %q: %w", r.name, err)
	}
	// Each value may take maxRowBytes past what the decoder had read when
	// it began (encoding/json holds a whole value in memory to decode it).
	bounded := &boundedReader{r: br, limit: maxRowBytes}
	dec := json.NewDecoder(bounded)
	dec.UseNumber()
	if first != '[' {
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("file source %q: %w", r.name, err)
		}
		row, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("file source %q: want a JSON array of objects or an object, got %s", r.name, jsonKind(v))
		}
		if r.start > 0 {
			return nil // read before
		}
		return r.emit(convertNumbers(row).(map[string]any), 1)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("file source %q: %w", r.name, err)
	}
	for i := 1; dec.More(); i++ {
		var v any
		bounded.limit = bounded.n + maxRowBytes
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("file source %q: element %d: %w", r.name, i, err)
		}
		if int64(i) <= r.start {
			continue // read before
		}
		row, ok := v.(map[string]any)
		if !ok {
			r.ingestErr(r.ctx, fmt.Errorf("file source %q: element %d: want an object, got %s", r.name, i, jsonKind(v)))
			continue
		}
		if err := r.emit(convertNumbers(row).(map[string]any), int64(i)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("file source %q: %w", r.name, err)
	}
	return nil
}

// maxRowBytes is the longest row the file source reads: a longer line is
// skipped and reported, a longer element of a JSON array ends the file.
// It is the embedded broker's largest message (16 MiB).
const maxRowBytes = 16 << 20

// readLine reads up to and including the next newline, or to the end, and
// returns the line and its size in bytes. A line of more than limit bytes
// is read past and returned as nil, with its size.
func readLine(br *bufio.Reader, limit int64) ([]byte, int64, error) {
	var line []byte
	var size int64
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if size <= limit {
			line = append(line, chunk...)
		} else {
			line = nil
		}
		if err != bufio.ErrBufferFull {
			if size > limit {
				return nil, size, err
			}
			return line, size, err
		}
	}
}

// boundedReader fails a read once more than limit bytes were read.
type boundedReader struct {
	r        io.Reader
	n, limit int64
}

var errRowTooLong = fmt.Errorf("more than the limit of %d bytes for a row", maxRowBytes)

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, errRowTooLong
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// decodeObject decodes one JSON object with nothing after it; data has no
// surrounding space.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if off := dec.InputOffset(); off != int64(len(data)) {
		return nil, fmt.Errorf("unexpected data after the object at offset %d", off)
	}
	row, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, got %s", jsonKind(v))
	}
	return convertNumbers(row).(map[string]any), nil
}

// convertNumbers replaces every json.Number in v, in place, by an int64 when
// it is written as an integer that fits, else by a float64. "1.0" stays a
// float: the writer of the data chose a float.
func convertNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64() // the decoder checked the syntax; out of range gives ±Inf
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = convertNumbers(e)
		}
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
