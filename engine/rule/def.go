package rule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/internal/jsonpos"
	"github.com/kgen-dev/kgen/internal/suggest"
)

// Def is a rule as users write it (eKuiper's rule JSON):
//
//	{"id": "r1", "sql": "SELECT ...", "actions": [{"log": {}}], "options": {}}
type Def struct {
	ID      string            `json:"id"`
	SQL     string            `json:"sql"`
	Actions []Action          `json:"actions"`
	Options RuleOptions       `json:"options"`
	Extra   map[string]string `json:"-"`
	// Triggered is eKuiper's "triggered": false creates the rule without
	// starting it. nil when not written (start it).
	Triggered *bool `json:"-"`
}

// Ignored names the eKuiper keys the rule carries that kgen accepts but does
// not implement ("options.sendError", "tags"), sorted, for the engine to log.
func (d *Def) Ignored() []string {
	var out []string
	for k := range d.Extra {
		if k == "tags" {
			out = append(out, k)
		} else {
			out = append(out, "options."+k)
		}
	}
	sort.Strings(out)
	return out
}

// Action is one sink of a rule: its type and the properties handed to its
// Provision.
type Action struct {
	Type  string
	Props map[string]any
}

// MarshalJSON writes the action in the rule JSON shape {"<type>": {props}}.
func (a Action) MarshalJSON() ([]byte, error) {
	props := a.Props
	if props == nil {
		props = map[string]any{}
	}
	return json.Marshal(map[string]any{a.Type: props})
}

// RuleOptions are the rule's "options".
type RuleOptions struct {
	// BufferLength bounds each sink's queue (default 1024, at most
	// 1048576). A full queue slows the rule down to the source
	// (backpressure).
	BufferLength int `json:"bufferLength,omitempty"`
	// BufferFullPolicy is "block" (default: nothing is lost, the source is
	// slowed down) or "drop" (the row is dropped and counted in the sink's
	// metrics).
	BufferFullPolicy string `json:"bufferFullPolicy,omitempty"`
	// Concurrency is how many rows the rule evaluates at once (default 1):
	// with more, calls to slow functions such as external services
	// overlap, and the output keeps the order of the input. The rule's
	// functions must then be safe for concurrent calls (built-in and
	// external functions are).
	Concurrency int `json:"concurrency,omitempty"`
	// FunctionBatchSize bounds how many rows a rule without a window hands
	// a batching function (a portable plugin's) in one call (default 64;
	// 1 calls it row by row). A call gets the rows that queued while the
	// previous one ran, so a lone row never waits for a batch to fill.
	FunctionBatchSize int `json:"functionBatchSize,omitempty"`
	// IsEventTime makes windows run on the stream's TIMESTAMP field rather
	// than on arrival time.
	IsEventTime bool `json:"isEventTime,omitempty"`
	// LateTolerance is how far behind the newest event time a row may be
	// and still count (event time only; default 1s, as eKuiper). Later rows
	// are counted in the rule status as late, never merged.
	LateTolerance Duration `json:"lateTolerance,omitempty"`
	// MaxWindowRows bounds the rows a window holds at once (default
	// 100000); a row beyond it is an exception of the rule, not memory.
	// With JOIN it also bounds the rows a window's rows join into; a
	// window that would join into more is an exception and not emitted.
	MaxWindowRows int `json:"maxWindowRows,omitempty"`
	// MaxGroups bounds the groups of one window result (default 10000).
	MaxGroups int `json:"maxGroups,omitempty"`
	// Qos is the processing guarantee: 0 at most once (default), 1 at
	// least once, 2 exactly once where the sources can rewind. At 1 and 2
	// the rule takes checkpoints (see checkpoint.go).
	Qos int `json:"qos,omitempty"`
	// CheckpointInterval is how often a rule at qos 1 or 2 takes a
	// checkpoint (default 1s).
	CheckpointInterval Duration `json:"checkpointInterval,omitempty"`
}

// Duration is a rule option that is a duration: eKuiper's integer
// milliseconds, or a Go duration string ("1.5s").
type Duration time.Duration

// MarshalJSON writes whole milliseconds as eKuiper does, else a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	if time.Duration(d)%time.Millisecond == 0 {
		return json.Marshal(time.Duration(d).Milliseconds())
	}
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads integer milliseconds or a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms int64
	if err := json.Unmarshal(b, &ms); err == nil {
		*d = Duration(time.Duration(ms) * time.Millisecond)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want integer milliseconds or a duration string")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

const (
	defaultLateTolerance = Duration(time.Second)
	defaultMaxWindowRows = 100000
	defaultMaxGroups     = 10000
	defaultCheckpoint    = Duration(time.Second)
	maxConcurrency       = 256
	defaultFunctionBatch = 64
	maxFunctionBatch     = 4096
	defaultBufferLength  = 1024
	// maxBufferLength bounds a sink queue: its slots are allocated when
	// the rule starts.
	maxBufferLength = 1 << 20
	policyBlock     = "block"
	policyDrop      = "drop"
)

// Options that eKuiper rules carry and that have no effect here yet; they are
// accepted so rules move between the two, and logged.
var ignoredOptions = map[string]bool{
	"sendMetaToSink": true, "sendNilField": true, "logFilename": true,
	"sendError": true, "restartStrategy": true, "enableSaveStateBeforeStop": true,
	"cron": true, "duration": true, "cronDatetimeRange": true, "debug": true, "disableBufferFullDiscard": true,
	"planOptimizeStrategy": true, "notifySub": true,
}

// knownOptions are the options kgen implements.
var knownOptions = []string{"bufferLength", "bufferFullPolicy", "checkpointInterval", "concurrency", "functionBatchSize", "isEventTime", "lateTolerance", "maxGroups", "maxWindowRows", "qos"}

// ruleKeys are the keys of the rule object: kgen's, then eKuiper's that
// kgen accepts ("name" and "tags" carry no meaning here).
var ruleKeys = []string{"id", "sql", "actions", "options", "triggered", "name", "tags"}

var ruleIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_\-]+$`)

// Parse decodes and checks rule JSON. Errors name the field and, for
// malformed JSON, the line and column.
func Parse(data []byte) (*Def, error) {
	var raw struct {
		ID        *string                      `json:"id"`
		SQL       *string                      `json:"sql"`
		Actions   []map[string]json.RawMessage `json:"actions"`
		Options   map[string]json.RawMessage   `json:"options"`
		Triggered *bool                        `json:"triggered"`
		// eKuiper fields that carry no meaning here.
		Name json.RawMessage `json:"name"`
		Tags json.RawMessage `json:"tags"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(data, dec.InputOffset(), err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		off += int64(len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n")))
		return nil, fmt.Errorf("rule JSON: %s: unexpected data after the rule object", jsonpos.LineCol(data, off))
	}
	def := &Def{}
	switch {
	case raw.ID == nil || *raw.ID == "":
		return nil, errors.New(`rule JSON: "id" is required`)
	case !ruleIDPattern.MatchString(*raw.ID):
		return nil, fmt.Errorf(`rule JSON: "id" %q: only letters, digits, "_" and "-" are allowed`, *raw.ID)
	case raw.SQL == nil || strings.TrimSpace(*raw.SQL) == "":
		return nil, fmt.Errorf(`rule %q: "sql" is required`, *raw.ID)
	case len(raw.Actions) == 0:
		return nil, fmt.Errorf(`rule %q: "actions" must list at least one sink`, *raw.ID)
	}
	def.ID, def.SQL, def.Triggered = *raw.ID, *raw.SQL, raw.Triggered
	if len(raw.Tags) > 0 && string(raw.Tags) != "null" {
		def.Extra = map[string]string{"tags": string(raw.Tags)}
	}
	for i, a := range raw.Actions {
		if len(a) != 1 {
			return nil, fmt.Errorf(`rule %q: actions[%d]: want one sink type as the only key, got %d keys`, def.ID, i, len(a))
		}
		for typ, rawProps := range a {
			props := map[string]any{}
			if len(bytes.TrimSpace(rawProps)) > 0 && string(bytes.TrimSpace(rawProps)) != "null" {
				d := json.NewDecoder(bytes.NewReader(rawProps))
				d.UseNumber()
				if err := d.Decode(&props); err != nil {
					return nil, fmt.Errorf(`rule %q: actions[%d] (%s): want an object of properties: %v`, def.ID, i, typ, err)
				}
			}
			def.Actions = append(def.Actions, Action{Type: typ, Props: normalizeNumbers(props).(map[string]any)})
		}
	}
	if err := parseOptions(def, raw.Options); err != nil {
		return nil, err
	}
	return def, nil
}

func parseOptions(def *Def, opts map[string]json.RawMessage) error {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch k {
		case "bufferLength":
			if err := json.Unmarshal(v, &def.Options.BufferLength); err != nil || def.Options.BufferLength < 1 || def.Options.BufferLength > maxBufferLength {
				return fmt.Errorf(`rule %q: options.bufferLength: want an integer from 1 to %d, got %s`, def.ID, maxBufferLength, v)
			}
		case "bufferFullPolicy":
			if err := json.Unmarshal(v, &def.Options.BufferFullPolicy); err != nil ||
				(def.Options.BufferFullPolicy != policyBlock && def.Options.BufferFullPolicy != policyDrop) {
				return fmt.Errorf(`rule %q: options.bufferFullPolicy: want "block" or "drop", got %s`, def.ID, v)
			}
		case "concurrency":
			if err := json.Unmarshal(v, &def.Options.Concurrency); err != nil || def.Options.Concurrency < 1 || def.Options.Concurrency > maxConcurrency {
				return fmt.Errorf(`rule %q: options.concurrency: want an integer from 1 to %d, got %s`, def.ID, maxConcurrency, v)
			}
		case "functionBatchSize":
			if err := json.Unmarshal(v, &def.Options.FunctionBatchSize); err != nil || def.Options.FunctionBatchSize < 1 || def.Options.FunctionBatchSize > maxFunctionBatch {
				return fmt.Errorf(`rule %q: options.functionBatchSize: want an integer from 1 to %d, got %s`, def.ID, maxFunctionBatch, v)
			}
		case "isEventTime":
			if err := json.Unmarshal(v, &def.Options.IsEventTime); err != nil {
				return fmt.Errorf(`rule %q: options.isEventTime: want true or false, got %s`, def.ID, v)
			}
		case "lateTolerance":
			if err := json.Unmarshal(v, &def.Options.LateTolerance); err != nil || def.Options.LateTolerance < 0 {
				return fmt.Errorf(`rule %q: options.lateTolerance: want milliseconds or a duration like "1s", not negative, got %s`, def.ID, v)
			}
		case "maxWindowRows":
			if err := json.Unmarshal(v, &def.Options.MaxWindowRows); err != nil || def.Options.MaxWindowRows < 1 {
				return fmt.Errorf(`rule %q: options.maxWindowRows: want a positive integer, got %s`, def.ID, v)
			}
		case "maxGroups":
			if err := json.Unmarshal(v, &def.Options.MaxGroups); err != nil || def.Options.MaxGroups < 1 {
				return fmt.Errorf(`rule %q: options.maxGroups: want a positive integer, got %s`, def.ID, v)
			}
		case "qos":
			if err := json.Unmarshal(v, &def.Options.Qos); err != nil || def.Options.Qos < 0 || def.Options.Qos > 2 {
				return fmt.Errorf(`rule %q: options.qos: want 0 (at most once), 1 (at least once) or 2 (exactly once), got %s`, def.ID, v)
			}
		case "checkpointInterval":
			if err := json.Unmarshal(v, &def.Options.CheckpointInterval); err != nil || def.Options.CheckpointInterval <= 0 {
				return fmt.Errorf(`rule %q: options.checkpointInterval: want milliseconds or a duration like "1s", positive, got %s`, def.ID, v)
			}
		default:
			if !ignoredOptions[k] {
				if hint := suggest.DidYouMean(k, knownOptions); hint != "" {
					return fmt.Errorf(`rule %q: options: unknown option %q%s`, def.ID, k, hint)
				}
				return fmt.Errorf(`rule %q: options: unknown option %q (known: %s)`, def.ID, k, strings.Join(knownOptions, ", "))
			}
			if def.Extra == nil {
				def.Extra = map[string]string{}
			}
			def.Extra[k] = string(v)
		}
	}
	return nil
}

// normalizeNumbers turns json.Number into int64 when integral, else float64.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// MarshalJSON writes the rule back in the rule JSON shape.
func (d *Def) MarshalJSON() ([]byte, error) {
	// The options set (their zero values are the defaults), and the ones
	// kept as they were written.
	known, err := json.Marshal(d.Options)
	if err != nil {
		return nil, err
	}
	opts := map[string]json.RawMessage{}
	if err := json.Unmarshal(known, &opts); err != nil {
		return nil, err
	}
	var tags json.RawMessage
	for k, v := range d.Extra {
		if k == "tags" {
			tags = json.RawMessage(v)
			continue
		}
		opts[k] = json.RawMessage(v)
	}
	return json.Marshal(struct {
		ID        string                     `json:"id"`
		SQL       string                     `json:"sql"`
		Actions   []Action                   `json:"actions"`
		Options   map[string]json.RawMessage `json:"options"`
		Triggered *bool                      `json:"triggered,omitempty"`
		Tags      json.RawMessage            `json:"tags,omitempty"`
	}{d.ID, d.SQL, d.Actions, opts, d.Triggered, tags})
}

func jsonError(data []byte, offset int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bad byte itself; point at it.
		return fmt.Errorf("rule JSON: %s: %v", jsonpos.LineCol(data, syn.Offset-1), err)
	case errors.As(err, &typ):
		return fmt.Errorf("rule JSON: %s: field %q: want %s, got %s", jsonpos.LineCol(data, typ.Offset), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("rule JSON: %s: unexpected end of input", jsonpos.LineCol(data, int64(len(data))))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if field, ok := strings.CutPrefix(msg, "unknown field "); ok {
		key := strings.Trim(field, "\"")
		// Point at the key, not past its value.
		if i := bytes.Index(data, []byte(`"`+key+`"`)); i >= 0 {
			offset = int64(i)
		}
		msg = fmt.Sprintf("unknown key %q", key)
		if hint := suggest.DidYouMean(key, ruleKeys); hint != "" {
			msg += hint
		} else {
			msg += " (known: " + strings.Join(ruleKeys, ", ") + ")"
		}
	}
	return fmt.Errorf("rule JSON: %s: %s", jsonpos.LineCol(data, offset), msg)
}
