package markers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/gen"
	"gopkg.in/yaml.v3"
)

// Plugin metadata in eKuiper's shape (see the extension notes, section
// 2.4), plus a "generated" key: JSON has no comments, and --clean must
// recognise the file as generated.

type i18n struct {
	EnUS string `json:"en_US"`
	ZhCN string `json:"zh_CN"`
}

// text is a hint or label: a doc comment's lines joined into one.
func text(s string) i18n {
	s = strings.Join(strings.Fields(s), " ")
	return i18n{EnUS: s, ZhCN: s}
}

type about struct {
	Trial       bool   `json:"trial"`
	Installed   bool   `json:"installed"`
	Author      author `json:"author"`
	HelpURL     i18n   `json:"helpUrl"`
	Description i18n   `json:"description"`
}

type author struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
	Website string `json:"website"`
}

type node struct {
	Category string `json:"category"`
	Icon     string `json:"icon"`
	Label    i18n   `json:"label"`
}

type metaField struct {
	Name              string `json:"name"`
	Default           any    `json:"default"`
	Control           string `json:"control"`
	Type              string `json:"type"`
	Optional          bool   `json:"optional"`
	ConnectionRelated bool   `json:"connection_related"`
	Values            []any  `json:"values,omitempty"`
	Hint              i18n   `json:"hint"`
	Label             i18n   `json:"label"`
}

type sinkMeta struct {
	Generated  string      `json:"generated"`
	About      about       `json:"about"`
	Libs       []string    `json:"libs"`
	Properties []metaField `json:"properties"`
	Node       node        `json:"node"`
}

type sourceMeta struct {
	Generated  string                 `json:"generated"`
	About      about                  `json:"about"`
	Libs       []string               `json:"libs"`
	Properties map[string][]metaField `json:"properties"`
	Node       node                   `json:"node"`
}

type functionMeta struct {
	Generated string      `json:"generated"`
	About     about       `json:"about"`
	Name      string      `json:"name"`
	Functions []funcEntry `json:"functions"`
}

type funcEntry struct {
	Name    string    `json:"name"`
	Example string    `json:"example"`
	Hint    i18n      `json:"hint"`
	Args    []funcArg `json:"args"`
	Return  funcRet   `json:"return"`
	Node    node      `json:"node"`
}

type funcArg struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional"`
	Control  string `json:"control"`
	Type     string `json:"type"`
	Hint     i18n   `json:"hint"`
	Label    i18n   `json:"label"`
}

type funcRet struct {
	Type string `json:"type"`
	Hint i18n   `json:"hint"`
}

func aboutOf(doc string) about {
	return about{Description: text(doc)}
}

// addMetadata adds <name>.json for every plugin and <name>.yaml for every
// source.
func addMetadata(p *Package, files map[string][]byte) error {
	put := func(name string, v any) error {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files[name] = buf.Bytes()
		return nil
	}
	for _, fn := range p.Functions {
		var example []string
		entry := funcEntry{Name: fn.Name, Hint: text(fn.Doc), Return: funcRet{Type: sqlType(fn.Result)},
			Node: node{Category: "function", Label: text(fn.Name)}, Args: []funcArg{}}
		for i, a := range fn.Params {
			name := a.Name
			if fn.Variadic && i == len(fn.Params)-1 {
				name += "..."
			}
			example = append(example, name)
			entry.Args = append(entry.Args, funcArg{Name: name, Optional: fn.Variadic && i == len(fn.Params)-1,
				Control: "field", Type: sqlType(a.Type), Label: text(a.Name)})
		}
		entry.Example = fn.Name + "(" + strings.Join(example, ", ") + ")"
		if err := put(fn.Name+".json", functionMeta{Generated: gen.HeaderText, About: aboutOf(fn.Doc), Name: fn.Name, Functions: []funcEntry{entry}}); err != nil {
			return err
		}
	}
	for _, s := range p.Sources {
		m := sourceMeta{Generated: gen.HeaderText, About: aboutOf(s.Props.doc), Libs: []string{},
			Properties: map[string][]metaField{"default": metaFields(s.Props)}, Node: node{Category: "source", Label: text(s.Name)}}
		if err := put(s.Name+".json", m); err != nil {
			return err
		}
		defaults := map[string]any{}
		for _, f := range s.Props.Fields {
			if f.HasDef {
				defaults[f.Key], _ = parseDefault(f.Type, f.Default)
			}
		}
		var buf bytes.Buffer
		buf.WriteString("# " + gen.HeaderText + "\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(map[string]any{"default": defaults}); err != nil {
			return fmt.Errorf("%s.yaml: %w", s.Name, err)
		}
		files[s.Name+".yaml"] = buf.Bytes()
	}
	for _, s := range p.Sinks {
		m := sinkMeta{Generated: gen.HeaderText, About: aboutOf(s.Props.doc), Libs: []string{},
			Properties: metaFields(s.Props), Node: node{Category: "sink", Label: text(s.Name)}}
		if err := put(s.Name+".json", m); err != nil {
			return err
		}
	}
	return nil
}

func metaFields(s *Struct) []metaField {
	out := []metaField{}
	for _, f := range s.Fields {
		mf := metaField{Name: f.Key, Control: "text", Type: propType(f.Type), Optional: !f.Required,
			Hint: text(f.Doc), Label: text(f.Key), Default: zeroJSON(f.Type)}
		if f.HasDef {
			mf.Default, _ = parseDefault(f.Type, f.Default)
		}
		switch {
		case len(f.OneOf) > 0:
			mf.Control = "select"
			for _, o := range f.OneOf {
				v, _ := parseDefault(f.Type, o)
				mf.Values = append(mf.Values, v)
			}
		case f.Type.Kind == Bool:
			mf.Control = "radio"
		case f.Type.Kind == Slice:
			mf.Control = "list"
		}
		out = append(out, mf)
	}
	return out
}

// propType is a property's type as eKuiper's metadata spells it.
func propType(t *Type) string {
	switch t.Kind {
	case Bool:
		return "bool"
	case Int, Uint:
		return "int"
	case Float:
		return "float"
	case Slice:
		return "list_" + propType(t.Elem)
	case Map, StructKind:
		return "object"
	case Any:
		return "any"
	case Bytes:
		return "bytea"
	}
	return "string" // string, time.Time, time.Duration ("1s")
}

// sqlType is a function argument's or result's type as SQL names it.
func sqlType(t *Type) string {
	switch t.Kind {
	case Bool:
		return "boolean"
	case Int, Uint, Duration:
		return "bigint"
	case Float:
		return "float"
	case String:
		return "string"
	case Bytes:
		return "bytea"
	case Time:
		return "datetime"
	case Slice:
		return "array"
	case Map, StructKind:
		return "struct"
	}
	return "any"
}

func zeroJSON(t *Type) any {
	switch t.Kind {
	case Bool:
		return false
	case Int, Uint, Float:
		return 0
	case Slice:
		return []any{}
	case Map, StructKind:
		return map[string]any{}
	case Any:
		return nil
	}
	return ""
}
