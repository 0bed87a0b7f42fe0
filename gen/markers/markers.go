package markers

import (
	"go/token"
	"reflect"
	"slices"
	"strings"
)

// markerPrefix starts every kgen marker line.
const markerPrefix = "//kgen:"

// marker is one parsed //kgen:<kind> line.
type marker struct {
	kind      string // "function", "source", "sink" or "state"
	name      string // name=; "" when absent
	aggregate bool
	prefix    string // state: prefix=; "" when absent
	pos       token.Position
}

// markerKeys lists the keys each marker kind accepts, in the order the
// "known:" part of an error lists them; true means the key takes a value.
var markerKeys = map[string][]struct {
	key   string
	value bool
}{
	"function": {{"name", true}, {"aggregate", false}},
	"source":   {{"name", true}},
	"sink":     {{"name", true}},
	"state":    {{"prefix", true}},
}

// knownMarkers lists the marker kinds for errors.
const knownMarkers = "known: //kgen:function, //kgen:sink, //kgen:source, //kgen:state"

// parseMarker parses the text of a comment starting with //kgen:.
func parseMarker(text string, pos token.Position) (*marker, *Error) {
	fields := strings.Fields(strings.TrimPrefix(text, markerPrefix))
	if len(fields) == 0 {
		return nil, errorAt(pos, "empty marker %s (%s)", markerPrefix, knownMarkers)
	}
	m := &marker{kind: fields[0], pos: pos}
	keys, ok := markerKeys[m.kind]
	if !ok {
		return nil, errorAt(pos, "unknown marker //kgen:%s (%s)", m.kind, knownMarkers)
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, value, hasValue := strings.Cut(f, "=")
		i := slices.IndexFunc(keys, func(k struct {
			key   string
			value bool
		}) bool {
			return k.key == key
		})
		if i < 0 {
			known := make([]string, len(keys))
			for j, k := range keys {
				known[j] = k.key
			}
			return nil, errorAt(pos, "//kgen:%s: unknown key %q (known: %s)", m.kind, key, strings.Join(known, ", "))
		}
		switch {
		case seen[key]:
			return nil, errorAt(pos, "//kgen:%s: key %q given twice", m.kind, key)
		case keys[i].value && (!hasValue || value == ""):
			return nil, errorAt(pos, "//kgen:%s: key %q needs a value (%s=...)", m.kind, key, key)
		case !keys[i].value && hasValue:
			return nil, errorAt(pos, "//kgen:%s: key %q takes no value", m.kind, key)
		}
		seen[key] = true
		switch key {
		case "name":
			m.name = value
		case "aggregate":
			m.aggregate = true
		case "prefix":
			m.prefix = value
		}
	}
	return m, nil
}

// fieldTag is a parsed `kgen:"key,default=…,required,oneof=a|b"` tag.
type fieldTag struct {
	key      string
	skip     bool
	def      string
	hasDef   bool
	required bool
	oneOf    []string
}

// parseFieldTag reads the kgen tag (else the json tag's name) of a field.
func parseFieldTag(tag string, pos token.Position, what string) (fieldTag, *Error) {
	st := reflect.StructTag(tag)
	var ft fieldTag
	kg, hasKgen := st.Lookup("kgen")
	if !hasKgen {
		if js, ok := st.Lookup("json"); ok {
			name, _, _ := strings.Cut(js, ",")
			ft.key, ft.skip = name, name == "-"
		}
		return ft, nil
	}
	parts := strings.Split(kg, ",")
	ft.key, ft.skip = parts[0], parts[0] == "-"
	for _, p := range parts[1:] {
		opt, value, hasValue := strings.Cut(p, "=")
		switch {
		case opt == "required" && !hasValue:
			ft.required = true
		case opt == "default" && hasValue:
			ft.def, ft.hasDef = value, true
		case opt == "oneof" && hasValue && value != "":
			ft.oneOf = strings.Split(value, "|")
		default:
			return ft, errorAt(pos, "%s: unknown tag option %q (known: default=<value>, required, oneof=<a>|<b>)", what, p)
		}
	}
	if ft.required && ft.hasDef {
		return ft, errorAt(pos, "%s: a required field cannot have a default", what)
	}
	return ft, nil
}
