package openapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// typeKind is the shape of a Go type made from a schema.
type typeKind int

const (
	kindScalar typeKind = iota // a predeclared or standard type: string, int64, time.Time, ...
	kindEnum                   // a named string type with one constant per value
	kindStruct                 // a named struct
	kindSlice                  // []elem
	kindMap                    // map[string]elem
	kindAny                    // any: a schema Go cannot type (oneOf, no type, ...)
	kindAlias                  // a named type over elem (a component that is an array, say)
)

// goType is the Go type of one schema. Named types (components, inline
// objects and enums) are declared once in the generated file; the others are
// written where they are used.
type goType struct {
	kind typeKind
	name string // the declared name of kindEnum, kindStruct and kindAlias
	// scalar is the type of kindScalar: "string", "int64", "int32",
	// "float64", "float32", "bool", "[]byte" or "time.Time".
	scalar string
	elem   *goType  // of kindSlice, kindMap and kindAlias
	fields []*field // of kindStruct
	values []string // of kindEnum
	consts []string // the constant names of values
	doc    string   // the schema's description
	where  string   // the JSON pointer of the schema, for errors and comments
}

// field is one property of a struct.
type field struct {
	name     string // the Go field name
	json     string // the property name
	t        *goType
	required bool
	nullable bool
	doc      string
}

// pointer reports whether an optional (or nullable) value of t is a
// pointer, so that absent and zero differ; slices, maps and any are nil
// when absent.
func (t *goType) pointer() bool {
	switch t.kind {
	case kindSlice, kindMap, kindAny:
		return false
	case kindScalar:
		return t.scalar != "[]byte"
	case kindAlias:
		return t.elem.pointer()
	}
	return true
}

// typer makes Go types from schemas, declaring each named type once.
type typer struct {
	declared *declarations
	byRef    map[string]*goType // component schemas, by $ref
	named    []*goType          // every named type, in declaration order
}

func newTyper(d *declarations) *typer {
	return &typer{declared: d, byRef: map[string]*goType{}}
}

const componentPrefix = "#/components/schemas/"

// components declares a type per component schema, in name order.
func (ty *typer) components(spec *openapi3.T) error {
	if spec.Components == nil {
		return nil
	}
	schemas := spec.Components.Schemas
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		// Reserve the names first, so inline types named after a component
		// never take a component's name.
		t := &goType{name: goName(name), where: componentPrefix + jsonPointerEscape(name)}
		if err := ty.declared.add(t.name, fmt.Sprintf("the type of schema %s", t.where)); err != nil {
			return err
		}
		ty.byRef[componentPrefix+name] = t
	}
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		t := ty.byRef[componentPrefix+name]
		ref := schemas[name]
		if ref == nil || ref.Value == nil {
			return fmt.Errorf("%s: no schema", t.where)
		}
		if ref.Ref != "" {
			if other, ok := ty.byRef[ref.Ref]; ok {
				t.kind, t.elem = kindAlias, other
				ty.named = append(ty.named, t)
				continue
			}
		}
		if err := ty.fill(t, ref.Value, t.name); err != nil {
			return err
		}
		if t.kind != kindEnum && t.kind != kindStruct {
			elem := *t
			elem.name = ""
			*t = goType{kind: kindAlias, name: t.name, elem: &elem, doc: t.doc, where: t.where}
		}
		ty.named = append(ty.named, t)
	}
	return nil
}

// typeOf returns the Go type of ref; hint names an inline object or enum,
// where locates it.
func (ty *typer) typeOf(ref *openapi3.SchemaRef, hint, where string) (*goType, error) {
	if ref == nil || ref.Value == nil {
		return &goType{kind: kindAny, where: where}, nil
	}
	if t, ok := ty.byRef[ref.Ref]; ok {
		return t, nil
	}
	t := &goType{where: where}
	if err := ty.fill(t, ref.Value, hint); err != nil {
		return nil, err
	}
	if t.kind == kindEnum || t.kind == kindStruct {
		t.name = hint
		if err := ty.declared.add(t.name, fmt.Sprintf("the type of schema %s", where)); err != nil {
			return nil, err
		}
		ty.named = append(ty.named, t)
	}
	return t, nil
}

// fill sets t to the type of s; name is t's name if it is declared.
func (ty *typer) fill(t *goType, s *openapi3.Schema, name string) error {
	t.doc = s.Description
	switch {
	case len(s.AllOf) > 0 || len(s.OneOf) > 0 || len(s.AnyOf) > 0 || s.Not != nil:
		t.kind = kindAny
	case s.Type.Is(openapi3.TypeString) && len(s.Enum) > 0:
		t.kind = kindEnum
		for _, v := range s.Enum {
			str, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s/enum: want string values, got %v", t.where, v)
			}
			t.values = append(t.values, str)
			t.consts = append(t.consts, name+goName(str))
		}
		for i, c := range t.consts {
			if err := ty.declared.add(c, fmt.Sprintf("the constant of %q in %s/enum", t.values[i], t.where)); err != nil {
				return err
			}
		}
	case s.Type.Is(openapi3.TypeString):
		t.kind, t.scalar = kindScalar, "string"
		switch s.Format {
		case "byte":
			t.scalar = "[]byte"
		case "date-time":
			t.scalar = "time.Time"
		}
	case s.Type.Is(openapi3.TypeInteger):
		t.kind, t.scalar = kindScalar, "int64"
		if s.Format == "int32" {
			t.scalar = "int32"
		}
	case s.Type.Is(openapi3.TypeNumber):
		t.kind, t.scalar = kindScalar, "float64"
		if s.Format == "float" {
			t.scalar = "float32"
		}
	case s.Type.Is(openapi3.TypeBoolean):
		t.kind, t.scalar = kindScalar, "bool"
	case s.Type.Is(openapi3.TypeArray):
		t.kind = kindSlice
		elem, err := ty.typeOf(s.Items, name+"Item", t.where+"/items")
		if err != nil {
			return err
		}
		t.elem = elem
	case (s.Type.IsEmpty() || s.Type.Is(openapi3.TypeObject)) && len(s.Properties) > 0:
		t.kind = kindStruct
		return ty.fields(t, s, name)
	case s.Type.Is(openapi3.TypeObject) && s.AdditionalProperties.Schema != nil:
		t.kind = kindMap
		elem, err := ty.typeOf(s.AdditionalProperties.Schema, name+"Value", t.where+"/additionalProperties")
		if err != nil {
			return err
		}
		t.elem = elem
	case s.Type.Is(openapi3.TypeObject):
		t.kind, t.elem = kindMap, &goType{kind: kindAny}
	default:
		t.kind = kindAny
	}
	return nil
}

// fields fills the fields of struct t, in property name order.
func (ty *typer) fields(t *goType, s *openapi3.Schema, name string) error {
	seen := map[string]string{}
	for _, prop := range slices.Sorted(maps.Keys(s.Properties)) {
		where := t.where + "/properties/" + jsonPointerEscape(prop)
		f := &field{name: goName(prop), json: prop, required: slices.Contains(s.Required, prop)}
		if other, ok := seen[f.name]; ok {
			return fmt.Errorf("%s: properties %q and %q both become Go field %s", t.where, other, prop, f.name)
		}
		seen[f.name] = prop
		ft, err := ty.typeOf(s.Properties[prop], name+f.name, where)
		if err != nil {
			return err
		}
		f.t = ft
		if v := s.Properties[prop].Value; v != nil {
			f.doc = v.Description
			f.nullable = v.Nullable || v.Type.IncludesNull()
		}
		t.fields = append(t.fields, f)
	}
	return nil
}

// declarations are the package-level names of a generated file, with
// what each is for, so that two never meet.
type declarations struct {
	what map[string]string
}

func newDeclarations() *declarations { return &declarations{what: map[string]string{}} }

func (d *declarations) add(id, what string) error {
	if prev, ok := d.what[id]; ok {
		return fmt.Errorf("generated identifier %s is both %s and %s; rename one of them", id, prev, what)
	}
	d.what[id] = what
	return nil
}

// jsonPointerEscape escapes a JSON pointer token (RFC 6901).
func jsonPointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
