package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/layout"
)

// Options configure a run.
type Options struct {
	// Timeout stops the run after this long if rules are still running, and
	// makes it fail naming them. Zero means no limit.
	Timeout time.Duration
	// Until, when above zero, ends the run once the rules have output this
	// many rows, whether or not their sources end: rows past it are not
	// printed, and the run succeeds.
	Until int
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
}

// ErrTimeout is returned (wrapped) when Options.Timeout passes before every
// rule has finished.
var ErrTimeout = errors.New("timed out")

// Run runs the project in dir in-process, with the extensions registered in
// this binary, and prints every output row to out (see the package
// documentation for the format). It returns when every rule has finished,
// when opts.Until rows were output, when ctx ends (returning ctx's error) or
// when opts.Timeout passes. The engine root is a temporary folder, removed
// afterwards; the project's etc/ folder, if any, is copied into it first.
//
// Run fails, naming the file, when a stream or rule cannot be created or a
// rule cannot start, and when a rule fails while running.
func Run(ctx context.Context, dir string, out io.Writer, opts Options) (err error) {
	var root string
	defer func() {
		if err != nil {
			err = fmt.Errorf("run %q: %w", dir, inProject(err, root, dir))
		}
	}()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	p, err := loadProject(abs)
	if err != nil {
		return err
	}
	if opts.Until < 0 {
		return fmt.Errorf("until %d rows: want a number above zero, or zero for no limit", opts.Until)
	}
	root, err = os.MkdirTemp("", "kgen-run-")
	if err != nil {
		return fmt.Errorf("engine root: %w", err)
	}
	defer os.RemoveAll(root)
	if err := copyEtc(abs, root); err != nil {
		return err
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	waitCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pr := &printer{w: out, prefix: len(p.rules) > 1, limit: opts.Until, full: func() { cancel(errUntil) }}
	broker := p.needsBroker()
	e, err := engine.Open(engine.Options{
		Root:       root,
		Logger:     logger,
		Broker:     broker,
		BrokerAddr: "127.0.0.1:0",
		OnOutput:   pr.print,
		NoRestore:  true,
		// The project's files are the user's own: its input/ folder, and
		// anything its etc/sources/file.yaml names, may be read.
		AllowPaths: []string{abs},
	})
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	defer func() {
		if cerr := e.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close engine: %w", cerr)
		}
	}()
	if broker {
		logger.Info("embedded MQTT broker", "url", e.BrokerURL())
	}
	if err := setFileFolder(e, abs); err != nil {
		return err
	}
	for _, st := range p.streams {
		if _, err := e.CreateStream(st.sql); err != nil {
			return fmt.Errorf("%s: %w", st.where, err)
		}
	}
	files := map[string]string{} // rule id → file
	var ids []string
	for _, r := range p.rules {
		def, err := e.CreateRule(r.json)
		if err != nil {
			return fmt.Errorf("%s: %w", r.file, err)
		}
		ids = append(ids, def.ID)
		files[def.ID] = r.file
		if st, err := e.RuleStatus(def.ID); err == nil && st.Status == "failed" {
			return fmt.Errorf("%s: rule %q: start: %s", r.file, def.ID, st.Message)
		}
	}

	if opts.Timeout > 0 {
		var stop context.CancelFunc
		waitCtx, stop = context.WithTimeout(waitCtx, opts.Timeout)
		defer stop()
	}
	e.WaitRules(waitCtx.Done())

	var running, failed []string
	for _, id := range ids {
		st, err := e.RuleStatus(id)
		switch {
		case err != nil:
			failed = append(failed, fmt.Sprintf("%s: %v", files[id], err))
		case st.Status == "failed":
			failed = append(failed, fmt.Sprintf("%s: rule %q failed: %s", files[id], id, st.Message))
		case st.Status == "running":
			running = append(running, id)
		}
	}
	switch {
	case len(failed) > 0:
		return errors.New(strings.Join(failed, "; "))
	case pr.failed() != nil:
		return fmt.Errorf("print output: %w", pr.failed())
	case len(running) == 0, pr.isFull():
		// Rules still running at -until stop when the engine closes.
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w after %v: rule(s) still running: %s", ErrTimeout, opts.Timeout, strings.Join(running, ", "))
}

// errUntil ends the wait for rules when Options.Until rows were printed.
var errUntil = errors.New("printed the rows asked for")

// projectError is an error whose text names the project's etc/ files
// instead of their copies in the throwaway engine root.
type projectError struct {
	err error
	msg string
}

func (e *projectError) Error() string { return e.msg }
func (e *projectError) Unwrap() error { return e.err }

// inProject returns err with the paths of the engine root's etc/ folder
// in its text replaced by those of the project's.
func inProject(err error, root, project string) error {
	if root == "" {
		return err
	}
	etc := layout.Root(root).Etc()
	msg := strings.ReplaceAll(err.Error(), etc, filepath.Join(project, "etc"))
	if msg == err.Error() {
		return err
	}
	return &projectError{err, msg}
}

// printer writes output rows as JSON lines; rules call it concurrently.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix bool
	limit  int    // rows to print; 0: all
	full   func() // called once, when limit rows were printed
	n      int    // rows printed
	err    error  // the first write or encode error
}

func (p *printer) isFull() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit > 0 && p.n >= p.limit
}

func (p *printer) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *printer) print(rule string, row map[string]any) {
	var buf bytes.Buffer
	if p.prefix {
		buf.WriteString(rule)
		buf.WriteString(": ")
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encErr := enc.Encode(row)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil || p.limit > 0 && p.n >= p.limit {
		return
	}
	if encErr != nil {
		p.err = fmt.Errorf("rule %q: encode row: %w", rule, encErr)
		return
	}
	if _, p.err = p.w.Write(buf.Bytes()); p.err != nil {
		return
	}
	if p.n++; p.n == p.limit {
		p.full()
	}
}

// copyEtc copies the project's etc/ folder, if it has one, to the engine
// root: its kgen.yaml, source properties (sources/<type>.yaml) and plugin
// files are used as they are in an engine root. The engine adds the
// defaults of what it lacks.
func copyEtc(project, root string) error {
	src := filepath.Join(project, "etc")
	info, err := os.Stat(src)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("etc: %w", err)
	case !info.IsDir():
		return errors.New("etc: not a folder")
	}
	if err := os.CopyFS(layout.Root(root).Etc(), os.DirFS(src)); err != nil {
		return fmt.Errorf("copy etc: %w", err)
	}
	return nil
}

// setFileFolder resolves the folders of the file source's conf keys: a
// relative path is relative to the project folder, and the default key
// without one reads the project's input/ folder. The engine's other
// defaults, and the project's etc/sources/file.yaml, are kept.
func setFileFolder(e *engine.Engine, project string) error {
	path := layout.Root(e.Root()).SourceConf("file")
	keys := map[string]map[string]any{}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("file source conf: %w", err)
	}
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("file source conf: %s: %w", path, err)
	}
	if keys["default"] == nil {
		keys["default"] = map[string]any{}
	}
	if _, ok := keys["default"]["path"]; !ok {
		keys["default"]["path"] = "input"
	}
	for name, props := range keys {
		v, set := props["path"]
		if !set {
			continue
		}
		dir, ok := v.(string)
		if !ok {
			return fmt.Errorf("file source conf: etc/sources/file.yaml: key %q: path: want a folder name, got %v", name, v)
		}
		if !filepath.IsAbs(dir) {
			props["path"] = filepath.Join(project, dir)
		}
	}
	out, err := yaml.Marshal(keys)
	if err != nil {
		return fmt.Errorf("file source conf: %w", err)
	}
	if err := atomicfile.Write(path, out); err != nil {
		return fmt.Errorf("file source conf: %w", err)
	}
	return nil
}

// project is what a project folder defines.
type project struct {
	streams []statement
	rules   []ruleFile
}

type statement struct {
	where string // "streams/a.sql" or "streams/a.sql:3" when the file has several
	sql   string
}

type ruleFile struct {
	file string // "rules/r1.json"
	json []byte
}

func loadProject(dir string) (*project, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, errors.New("not a folder")
	}
	p := &project{}
	sqlFiles, err := filepath.Glob(filepath.Join(dir, "streams", "*.sql"))
	if err != nil {
		return nil, err
	}
	slices.Sort(sqlFiles)
	for _, f := range sqlFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel := relSlash(dir, f)
		stmts := splitStatements(string(data))
		for _, s := range stmts {
			where := rel
			if len(stmts) > 1 {
				where = fmt.Sprintf("%s:%d", rel, s.line)
			}
			p.streams = append(p.streams, statement{where: where, sql: s.text})
		}
	}
	ruleFiles, err := filepath.Glob(filepath.Join(dir, "rules", "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(ruleFiles)
	for _, f := range ruleFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p.rules = append(p.rules, ruleFile{file: relSlash(dir, f), json: data})
	}
	if len(p.rules) == 0 {
		return nil, errors.New("no rules: put rule JSON files in rules/")
	}
	return p, nil
}

func relSlash(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// needsBroker reports whether a stream reads MQTT, the default TYPE.
// Statements that do not parse are left for the engine to report.
func (p *project) needsBroker() bool {
	for _, s := range p.streams {
		cs, err := sql.ParseCreateStream(s.sql)
		if err != nil {
			continue
		}
		if t := cs.Options["TYPE"]; t == "" || strings.EqualFold(t, "mqtt") {
			return true
		}
	}
	return false
}

type sqlText struct {
	text string
	line int // 1-based line the statement starts on
}

// splitStatements splits SQL text at the semicolons that are outside
// quotes and comments, dropping empty statements.
func splitStatements(text string) []sqlText {
	var out []sqlText
	start, line, startLine := 0, 1, 1
	var quote byte
	flush := func(end int) {
		// Drop leading blank space and comment lines, counting their lines so
		// that the reported line is the statement's first.
		s, l := text[start:end], startLine
		for {
			t := strings.TrimLeft(s, " \t\r\n")
			l += strings.Count(s[:len(s)-len(t)], "\n")
			s = t
			if !strings.HasPrefix(s, "--") {
				break
			}
			_, rest, ok := strings.Cut(s, "\n")
			if !ok {
				return // only comments
			}
			s, l = rest, l+1
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, sqlText{text: s, line: l})
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' {
			line++
		}
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(text) {
				if text[i+1] == '\n' {
					line++
				}
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			for i < len(text) && text[i] != '\n' {
				i++
			}
			if i < len(text) {
				line++
			}
		case c == ';':
			flush(i)
			start, startLine = i+1, line
		}
	}
	flush(len(text))
	return out
}
