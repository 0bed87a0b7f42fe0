package markers

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/internal/pluginmeta"
)

// Plugin metadata is written in the shape internal/pluginmeta defines, with
// HeaderText as its "generated" key.

// text is a hint or label: a doc comment's lines joined into one.
func text(s string) pluginmeta.I18n {
	s = strings.Join(strings.Fields(s), " ")
	return pluginmeta.I18n{EnUS: s, ZhCN: s}
}

func aboutOf(doc string) pluginmeta.About {
	return pluginmeta.About{Description: text(doc)}
}

// addMetadata adds <name>.json for every plugin and <name>.yaml for every
// source.
func addMetadata(p *Package, files map[string][]byte) error {
	put := func(name string, v any) error {
		data, err := pluginmeta.Encode(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files[name] = data
		return nil
	}
	for _, fn := range p.Functions {
		var example []string
		entry := pluginmeta.Function{Name: fn.Name, Hint: text(fn.Doc), Return: pluginmeta.Return{Type: sqlType(fn.Result)},
			Node: pluginmeta.Node{Category: "function", Label: text(fn.Name)}, Args: []pluginmeta.Arg{}}
		for i, a := range fn.Params {
			name := a.Name
			if fn.Variadic && i == len(fn.Params)-1 {
				name += "..."
			}
			example = append(example, name)
			entry.Args = append(entry.Args, pluginmeta.Arg{Name: name, Optional: fn.Variadic && i == len(fn.Params)-1,
				Control: "field", Type: sqlType(a.Type), Label: text(a.Name)})
		}
		entry.Example = fn.Name + "(" + strings.Join(example, ", ") + ")"
		if err := put(fn.Name+".json", pluginmeta.Functions{Generated: gen.HeaderText, About: aboutOf(fn.Doc), Name: fn.Name, Functions: []pluginmeta.Function{entry}}); err != nil {
			return err
		}
	}
	for _, s := range p.Sources {
		m := pluginmeta.Source{Generated: gen.HeaderText, About: aboutOf(s.Props.doc), Libs: []string{},
			Properties: map[string][]pluginmeta.Field{"default": metaFields(s.Props)}, Node: pluginmeta.Node{Category: "source", Label: text(s.Name)}}
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
		m := pluginmeta.Sink{Generated: gen.HeaderText, About: aboutOf(s.Props.doc), Libs: []string{},
			Properties: metaFields(s.Props), Node: pluginmeta.Node{Category: "sink", Label: text(s.Name)}}
		if err := put(s.Name+".json", m); err != nil {
			return err
		}
	}
	return nil
}

func metaFields(s *Struct) []pluginmeta.Field {
	out := []pluginmeta.Field{}
	for _, f := range s.Fields {
		mf := pluginmeta.Field{Name: f.Key, Control: "text", Type: propType(f.Type), Optional: !f.Required,
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
