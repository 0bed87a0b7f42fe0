package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/kgen-dev/kgen/engine/connector"
	"github.com/kgen-dev/kgen/internal/pluginmeta"

	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/sdk"
)

// PluginUsers names what uses a plugin, for refusing its delete: for a
// source, the streams of that TYPE and the rules that read them; for a
// sink, the rules with an action of that type; for a function plugin, the
// rules that call one of its functions. Streams come first, each group
// sorted: `stream "demo"`, `rule "r1"`.
func (e *Engine) PluginUsers(kind sdk.Kind, name string, functions []string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var streams, rules []string
	for n, s := range e.streams {
		if kind == sdk.KindSource && s.stream.Type == name {
			streams = append(streams, n)
		}
	}
	for id, r := range e.rules {
		if uses(kind, name, functions, r, streams) {
			rules = append(rules, id)
		}
	}
	slices.Sort(streams)
	slices.Sort(rules)
	var out []string
	for _, s := range streams {
		out = append(out, fmt.Sprintf("stream %q", s))
	}
	for _, r := range rules {
		out = append(out, fmt.Sprintf("rule %q", r))
	}
	return out
}

func uses(kind sdk.Kind, name string, functions []string, r *ruleEntry, streams []string) bool {
	switch kind {
	case sdk.KindSink:
		return slices.ContainsFunc(r.def.Actions, func(a rule.Action) bool { return a.Type == name })
	case sdk.KindSource:
		sel, err := sql.ParseSelect(r.def.SQL)
		return err == nil && slices.ContainsFunc(sel.Streams(), func(s string) bool { return slices.Contains(streams, s) })
	case sdk.KindFunction:
		sel, err := sql.ParseSelect(r.def.SQL)
		return err == nil && slices.ContainsFunc(sel.Calls(), func(c string) bool { return slices.Contains(functions, c) })
	}
	return false
}

// engineSourceProps are the source properties the engine sets (or, for
// pull sources, reads) itself.
var engineSourceProps = []string{"datasource", "format", "interval", "durableClientid"}

// checkProps checks the properties of a plugin source or sink against the
// ones its metadata file (etc/<type>/<name>.json, eKuiper's format)
// declares: an unknown one is an error that names the closest declared one,
// `sink "hook": unknown property "topicc", did you mean "topic"?`.
// eKuiper's common sink properties are accepted and logged as ignored.
// Compiled-in connectors check their own, and a plugin without metadata,
// or whose metadata lists no properties, is not checked.
func (e *Engine) checkProps(kind sdk.Kind, typ string, props map[string]any) error {
	compiled := false
	switch kind {
	case sdk.KindSource:
		_, compiled = sdk.LookupSource(typ)
	case sdk.KindSink:
		_, compiled = sdk.LookupSink(typ)
	}
	if compiled && !e.plugins.Owns(kind, typ) {
		return nil
	}
	known, err := declaredProps(e.layout.PluginMetaFile(kind, typ), kind)
	if err != nil || len(known) == 0 {
		// No metadata, or metadata that does not describe properties.
		return nil
	}
	var ignored []string
	for _, k := range slices.Sorted(maps.Keys(props)) {
		switch {
		case slices.Contains(known, k):
		case kind == sdk.KindSource && slices.Contains(engineSourceProps, k):
		case kind == sdk.KindSink && slices.Contains(connector.CommonSinkProps, k):
			ignored = append(ignored, k)
		default:
			return fmt.Errorf("%s %q: %w", kind, typ, connector.UnknownProperty(k, known))
		}
	}
	if len(ignored) > 0 {
		e.logger.Warn("eKuiper properties kgen does not implement are ignored", "sink", typ, "properties", ignored)
	}
	return nil
}

// declaredProps reads the property names a plugin metadata file declares:
// a sink's list, or every conf key's list of a source.
func declaredProps(file string, kind sdk.Kind) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var fields []pluginmeta.Field
	switch kind {
	case sdk.KindSink:
		var m pluginmeta.Sink
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		fields = m.Properties
	case sdk.KindSource:
		var m pluginmeta.Source
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		for _, key := range slices.Sorted(maps.Keys(m.Properties)) {
			fields = append(fields, m.Properties[key]...)
		}
	}
	var names []string
	for _, f := range fields {
		if f.Name != "" && !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	return names, nil
}
