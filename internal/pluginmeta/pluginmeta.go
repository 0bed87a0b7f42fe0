// Package pluginmeta is the shape of plugin metadata files, in eKuiper's
// format (see the extension notes, section 2.4) plus a "generated" key: JSON
// has no comments, and kgen gen -clean must know the file as generated.
// The marker generator writes these files, kgen build merges the files of
// the functions one .so holds, kgen pack tells a plugin's kind from one, and
// the plugin loader reads which functions a function plugin provides; all
// go through this package.
package pluginmeta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kgen-dev/kgen/sdk"
)

// I18n is a text in the languages the metadata format carries.
type I18n struct {
	EnUS string `json:"en_US"`
	ZhCN string `json:"zh_CN"`
}

// About describes a plugin.
type About struct {
	Trial       bool   `json:"trial"`
	Installed   bool   `json:"installed"`
	Author      Author `json:"author"`
	HelpURL     I18n   `json:"helpUrl"`
	Description I18n   `json:"description"`
}

// Author is who wrote a plugin.
type Author struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
	Website string `json:"website"`
}

// Node is how an editor shows a plugin or function.
type Node struct {
	Category string `json:"category"`
	Icon     string `json:"icon"`
	Label    I18n   `json:"label"`
}

// Field is a property of a source or sink.
type Field struct {
	Name              string `json:"name"`
	Default           any    `json:"default"`
	Control           string `json:"control"`
	Type              string `json:"type"`
	Optional          bool   `json:"optional"`
	ConnectionRelated bool   `json:"connection_related"`
	Values            []any  `json:"values,omitempty"`
	Hint              I18n   `json:"hint"`
	Label             I18n   `json:"label"`
}

// Sink is the metadata of a sink plugin.
type Sink struct {
	Generated  string   `json:"generated,omitempty"`
	About      About    `json:"about"`
	Libs       []string `json:"libs"`
	Properties []Field  `json:"properties"`
	Node       Node     `json:"node"`
}

// Source is the metadata of a source plugin: properties by CONF_KEY.
type Source struct {
	Generated  string             `json:"generated,omitempty"`
	About      About              `json:"about"`
	Libs       []string           `json:"libs"`
	Properties map[string][]Field `json:"properties"`
	Node       Node               `json:"node"`
}

// Functions is the metadata of a function plugin: the functions it
// provides.
type Functions struct {
	Generated string     `json:"generated,omitempty"`
	About     About      `json:"about"`
	Name      string     `json:"name"`
	Functions []Function `json:"functions"`
}

// Function is one function of a function plugin.
type Function struct {
	Name    string `json:"name"`
	Example string `json:"example"`
	Hint    I18n   `json:"hint"`
	Args    []Arg  `json:"args"`
	Return  Return `json:"return"`
	Node    Node   `json:"node"`
}

// Arg is an argument of a function.
type Arg struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional"`
	Control  string `json:"control"`
	Type     string `json:"type"`
	Hint     I18n   `json:"hint"`
	Label    I18n   `json:"label"`
}

// Return is the result of a function.
type Return struct {
	Type string `json:"type"`
	Hint I18n   `json:"hint"`
}

// Encode is v as a metadata file: indented JSON with a final newline, and
// <, > and & left as they are.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// KindOf tells a plugin's kind from the shape of its metadata file:
// functions list "functions", sources key "properties" by conf key, sinks
// list them.
func KindOf(data []byte) (sdk.Kind, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return 0, false
	}
	if _, ok := m["functions"]; ok {
		return sdk.KindFunction, true
	}
	switch p := bytes.TrimSpace(m["properties"]); {
	case len(p) > 0 && p[0] == '{':
		return sdk.KindSource, true
	case len(p) > 0 && p[0] == '[':
		return sdk.KindSink, true
	}
	return 0, false
}

// Names is what the loader needs of a function plugin's metadata file: the
// plugin's name and the names of its functions.
type Names struct {
	Name      string
	Functions []string
}

// ReadNames reads a function plugin's metadata file.
func ReadNames(data []byte) (Names, error) {
	var m struct {
		Name      string `json:"name"`
		Functions []struct {
			Name string `json:"name"`
		} `json:"functions"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return Names{}, err
	}
	n := Names{Name: m.Name}
	for _, f := range m.Functions {
		if f.Name != "" && !slices.Contains(n.Functions, f.Name) {
			n.Functions = append(n.Functions, f.Name)
		}
	}
	return n, nil
}

// Merge is the metadata of a function plugin named name that holds several
// functions, from each function's own metadata file (nil where a function
// has none): the first file's other keys, and every file's functions, in
// order. A function without a file is listed by name alone.
func Merge(name string, fns []string, files [][]byte) ([]byte, error) {
	var merged map[string]any
	var list []any
	for i, fn := range fns {
		var meta map[string]any
		if files[i] == nil || json.Unmarshal(files[i], &meta) != nil {
			list = append(list, map[string]any{"name": fn})
			continue
		}
		if merged == nil {
			merged = meta
		}
		if l, ok := meta["functions"].([]any); ok {
			list = append(list, l...)
		}
	}
	if merged == nil {
		merged = map[string]any{}
	}
	merged["name"] = name
	merged["functions"] = list
	data, err := json.MarshalIndent(merged, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("metadata of %q: %w", name, err)
	}
	return append(data, '\n'), nil
}
