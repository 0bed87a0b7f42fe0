// Package schema describes stream column types (from CREATE STREAM) and
// converts decoded values to them.
package schema

import (
	"strings"
)

// Kind is a column type.
type Kind int

const (
	Any Kind = iota // schemaless: no check
	Bigint
	Float
	String
	Datetime
	Boolean
	Bytea
	Array
	Struct
)

var kindNames = [...]string{"ANY", "BIGINT", "FLOAT", "STRING", "DATETIME", "BOOLEAN", "BYTEA", "ARRAY", "STRUCT"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// KindByName returns the kind of a scalar SQL type name (case-insensitive),
// or false. ARRAY and STRUCT are returned too; their parts are parsed by the
// caller.
func KindByName(name string) (Kind, bool) {
	u := strings.ToUpper(name)
	for i, n := range kindNames {
		if i > 0 && n == u {
			return Kind(i), true
		}
	}
	return Any, false
}

// Type is a column type. Elem is set for Array, Fields for Struct.
type Type struct {
	Kind   Kind
	Elem   *Type
	Fields []Field
}

// String renders the type as SQL: BIGINT, ARRAY(FLOAT), STRUCT(a BIGINT, b STRING).
func (t Type) String() string {
	switch t.Kind {
	case Array:
		if t.Elem == nil {
			return "ARRAY()"
		}
		return "ARRAY(" + t.Elem.String() + ")"
	case Struct:
		var b strings.Builder
		b.WriteString("STRUCT(")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name + " " + f.Type.String())
		}
		b.WriteString(")")
		return b.String()
	}
	return t.Kind.String()
}

// Field is a named column.
type Field struct {
	Name string
	Type Type
}

// Schema is the column list of a stream; nil means schemaless.
type Schema []Field

// Lookup returns the field called name (case-sensitive) or false.
func (s Schema) Lookup(name string) (Field, bool) {
	for _, f := range s {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
