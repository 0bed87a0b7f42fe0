package engine

import (
	"fmt"
	"slices"

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
