package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kgen-dev/kgen/engine/connector"
	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/schema"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/internal/suggest"
	"github.com/kgen-dev/kgen/sdk"
)

// StreamInfo describes a stream (the shape of GET /streams/{name}).
type StreamInfo struct {
	Name         string            `json:"Name"`
	StreamFields []StreamField     `json:"StreamFields"`
	Options      map[string]string `json:"Options"`
	Statement    string            `json:"Statement"`
}

// StreamField is one declared column.
type StreamField struct {
	Name      string `json:"Name"`
	FieldType string `json:"FieldType"`
}

// streamOptions are the WITH options kgen implements.
var streamOptions = []string{"DATASOURCE", "FORMAT", "TYPE", "CONF_KEY", "TIMESTAMP", "TIMESTAMP_FORMAT"}

// ekuiperStreamOptions are eKuiper's WITH options kgen accepts, so that its
// stream statements load, and ignores (logging them).
var ekuiperStreamOptions = []string{"KEY", "SHARED", "STRICT_VALIDATION", "RETAIN_SIZE", "SCHEMAID", "DELIMITER", "KIND"}

// checkStreamOptions refuses an unknown WITH option, naming the closest
// known one, and returns the eKuiper ones kgen ignores.
func checkStreamOptions(name string, opts map[string]string) (ignored []string, err error) {
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		switch {
		case slices.Contains(streamOptions, k):
		case slices.Contains(ekuiperStreamOptions, k):
			ignored = append(ignored, k)
		default:
			if hint := suggest.DidYouMean(k, streamOptions); hint != "" {
				return nil, fmt.Errorf("stream %q: WITH: unknown option %q%s", name, k, hint)
			}
			return nil, fmt.Errorf("stream %q: WITH: unknown option %q (known: %s; eKuiper's %s are accepted and ignored)",
				name, k, strings.Join(streamOptions, ", "), strings.Join(ekuiperStreamOptions, ", "))
		}
	}
	return ignored, nil
}

// parseStream parses CREATE STREAM and checks its options. strict refuses
// unknown options; stored streams are read without it, so that a stream
// saved before the check still loads (the unknown options are logged).
func (e *Engine) parseStream(text string, strict bool) (*rule.Stream, error) {
	cs, err := sql.ParseCreateStream(text)
	if err != nil {
		return nil, fmt.Errorf("create stream: %w", err)
	}
	if err := checkStreamName(cs.Name); err != nil {
		if strict {
			return nil, fmt.Errorf("create stream: %w", err)
		}
		e.logger.Warn("stored stream has a name kgen now refuses; rename it", "err", err)
	}
	if ignored, err := checkStreamOptions(cs.Name, cs.Options); err != nil {
		if strict {
			return nil, err
		}
		e.logger.Warn("stored stream has an unknown option; ignored", "stream", cs.Name, "err", err)
	} else if len(ignored) > 0 {
		e.logger.Warn("eKuiper stream options kgen does not implement are ignored", "stream", cs.Name, "options", ignored)
	}
	st := &rule.Stream{
		Name:    cs.Name,
		Schema:  cs.Schema,
		Type:    cs.Options["TYPE"],
		Format:  strings.ToLower(cs.Options["FORMAT"]),
		ConfKey: cs.Options["CONF_KEY"],
		Options: cs.Options,
	}
	if st.Type == "" {
		st.Type = "mqtt"
	}
	if st.Format == "" {
		st.Format = "json"
	}
	if _, err := schema.NewDecoder(st.Format, st.Schema); err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	if st.Format == "binary" && st.Schema != nil {
		return nil, fmt.Errorf("stream %q: FORMAT BINARY streams are schemaless: declare the columns as ()", st.Name)
	}
	if _, err := e.lookupSource(st.Type); err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	props, err := sourceProps(e.layout, st.Type, st.ConfKey)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", st.Name, err)
	}
	if st.Type == "file" && !e.plugins.Owns(sdk.KindSource, st.Type) {
		props["datasource"] = st.Options["DATASOURCE"]
		if _, err := connector.FileSourcePath(e.ctx, e.Root(), props); err != nil {
			err = fmt.Errorf("stream %q: %w", st.Name, err)
			if strict {
				return nil, err
			}
			// Stored before the check, or paths.allow changed: the stream
			// loads and its rules fail at start with this error.
			e.logger.Warn("stored stream names a file the path policy refuses", "stream", st.Name, "err", err)
		}
	}
	return st, nil
}

// checkStreamName refuses a stream name that could not be a file or URL
// path segment: empty, NUL or other control characters, '/', '\' or "..".
// Names are otherwise kept as written and compared exactly (see
// docs/sql.md).
func checkStreamName(name string) error {
	bad := ""
	switch {
	case name == "":
		return errors.New("stream name: empty")
	case strings.Contains(name, ".."):
		bad = `".."`
	case strings.ContainsAny(name, `/\`):
		bad = `'/' or '\'`
	default:
		for _, r := range name {
			if unicode.IsControl(r) || r == utf8.RuneError {
				bad = "a control character or invalid UTF-8"
				break
			}
		}
	}
	if bad != "" {
		return fmt.Errorf("stream name %q: contains %s; a stream name is an identifier", name, bad)
	}
	return nil
}

// CreateStream creates a stream from a CREATE STREAM statement.
func (e *Engine) CreateStream(text string) (*StreamInfo, error) {
	st, err := e.parseStream(text, true)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.streams[st.Name]; ok {
		return nil, fmt.Errorf("stream %q: %w", st.Name, ErrExists)
	}
	if err := e.kv.Put(bucketStreams, st.Name, []byte(text)); err != nil {
		return nil, fmt.Errorf("stream %q: save: %w", st.Name, err)
	}
	e.streams[st.Name] = &streamEntry{sql: text, stream: st}
	return describe(e.streams[st.Name]), nil
}

// ReplaceStream replaces the definition of an existing stream. Running
// rules keep the old one until they are restarted.
func (e *Engine) ReplaceStream(name, text string) (*StreamInfo, error) {
	st, err := e.parseStream(text, true)
	if err != nil {
		return nil, err
	}
	if st.Name != name {
		return nil, fmt.Errorf("stream %q: the statement creates stream %q", name, st.Name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.streams[name]; !ok {
		return nil, fmt.Errorf("stream %q: %w", name, ErrNotFound)
	}
	if err := e.kv.Put(bucketStreams, name, []byte(text)); err != nil {
		return nil, fmt.Errorf("stream %q: save: %w", name, err)
	}
	e.streams[name] = &streamEntry{sql: text, stream: st}
	return describe(e.streams[name]), nil
}

// Streams returns the sorted stream names.
func (e *Engine) Streams() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.streams))
	for n := range e.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DescribeStream returns a stream's definition.
func (e *Engine) DescribeStream(name string) (*StreamInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.streams[name]
	if !ok {
		return nil, fmt.Errorf("stream %q: %w", name, ErrNotFound)
	}
	return describe(s), nil
}

// DropStream deletes a stream. A stream that rules read is refused, naming
// the rules.
func (e *Engine) DropStream(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.streams[name]; !ok {
		return fmt.Errorf("stream %q: %w", name, ErrNotFound)
	}
	var users []string
	for id, r := range e.rules {
		if sel, err := sql.ParseSelect(r.def.SQL); err == nil && slices.Contains(sel.Streams(), name) {
			users = append(users, id)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return fmt.Errorf("stream %q is used by rule(s) %s: delete them first", name, strings.Join(users, ", "))
	}
	if err := e.kv.Delete(bucketStreams, name); err != nil {
		return fmt.Errorf("stream %q: %w", name, err)
	}
	delete(e.streams, name)
	return nil
}

func (e *Engine) lookupStream(name string) (*rule.Stream, error) {
	// Called while planning, with e.mu held by the caller.
	s, ok := e.streams[name]
	if !ok {
		return nil, fmt.Errorf("stream %q: %w", name, ErrNotFound)
	}
	return s.stream, nil
}

func describe(s *streamEntry) *StreamInfo {
	info := &StreamInfo{Name: s.stream.Name, Options: s.stream.Options, Statement: s.sql, StreamFields: []StreamField{}}
	for _, f := range s.stream.Schema {
		info.StreamFields = append(info.StreamFields, StreamField{Name: f.Name, FieldType: f.Type.String()})
	}
	return info
}

// SourceTypes, SinkTypes and Functions list what rules can use.
func SourceTypes() []string { return sdk.Registered(sdk.KindSource) }
func SinkTypes() []string   { return sdk.Registered(sdk.KindSink) }
