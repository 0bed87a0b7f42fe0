package openapi

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kgen-dev/kgen/internal/sqlvalue"
	"github.com/kgen-dev/kgen/sdk"
)

// Args maps the arguments of a SQL call to parameter values, keyed by
// parameter name. They are positional, in Params order (trailing optional
// ones may be left out, and a null one is absent), or one map holding the
// parameters by name; a single map is taken by name unless the operation
// has one parameter only and it is an object. Values are coerced to their
// schema types (an integral float64 to int64, int64 to float64, a time to
// an RFC 3339 string) and validated against the schemas.
func (op *Operation) Args(args []any) (map[string]any, error) {
	given := map[string]any{}
	if m, ok := op.byNameArg(args); ok {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, known := op.byName[k]; !known {
				return nil, fmt.Errorf("function %q: unknown parameter %q, want one of %s", op.ID, k, op.paramNames())
			}
			if m[k] != nil {
				given[k] = m[k]
			}
		}
	} else {
		if len(args) > len(op.Params) {
			return nil, fmt.Errorf("function %q: want at most %d arguments (%s), got %d", op.ID, len(op.Params), op.paramNames(), len(args))
		}
		for i, a := range args {
			if a != nil {
				given[op.Params[i].Name] = a
			}
		}
	}
	out := make(map[string]any, len(given))
	for _, p := range op.Params {
		v, ok := given[p.Name]
		if !ok {
			if p.Required {
				return nil, fmt.Errorf("function %q: parameter %q (%s): required", op.ID, p.Name, p.In)
			}
			continue
		}
		cv, err := op.value(p, v)
		if err != nil {
			return nil, err
		}
		out[p.Name] = cv
	}
	return out, nil
}

// byNameArg returns the map of a by-name call.
func (op *Operation) byNameArg(args []any) (map[string]any, bool) {
	if len(args) != 1 {
		return nil, false
	}
	m, ok := args[0].(map[string]any)
	if !ok {
		return nil, false
	}
	if len(op.Params) == 1 && acceptsObject(op.Params[0].Schema) {
		return nil, false
	}
	return m, true
}

func acceptsObject(s *openapi3.Schema) bool {
	return s.Type == nil || s.Type.IsEmpty() || s.Type.Includes(openapi3.TypeObject)
}

func (op *Operation) paramNames() string {
	names := make([]string, len(op.Params))
	for i, p := range op.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// value coerces and validates one parameter's value.
func (op *Operation) value(p *Param, v any) (any, error) {
	werr := func(ptr string, err error) error {
		if ptr != "" {
			return fmt.Errorf("function %q: parameter %q (%s) at %s: %w", op.ID, p.Name, p.In, ptr, err)
		}
		return fmt.Errorf("function %q: parameter %q (%s): %w", op.ID, p.Name, p.In, err)
	}
	cv, err := coerce(p.Schema, v, "")
	if err != nil {
		var ce *coerceError
		if errors.As(err, &ce) {
			return nil, werr(ce.ptr, ce.err)
		}
		return nil, werr("", err)
	}
	if err := op.doc.check(p.Schema, cv, openapi3.VisitAsRequest()); err != nil {
		var ce *coerceError
		if errors.As(err, &ce) {
			return nil, werr(ce.ptr, ce.err)
		}
		return nil, werr("", err)
	}
	return cv, nil
}

// coerceError is a failure at a place inside a value.
type coerceError struct {
	ptr string // JSON pointer from the value's root, "" at the root
	err error
}

func (e *coerceError) Error() string {
	if e.ptr == "" {
		return e.err.Error()
	}
	return e.ptr + ": " + e.err.Error()
}

func (e *coerceError) Unwrap() error { return e.err }

// check validates v against s, with formats checked; a schema error is
// returned as a coerceError at its place.
func (d *Document) check(s *openapi3.Schema, v any, opts ...openapi3.SchemaValidationOption) error {
	opts = append(opts, openapi3.EnableFormatValidation())
	opts = append(opts, d.Spec.GetSchemaValidationOptions()...)
	if d.Spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	err := s.VisitJSON(v, opts...)
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		err = me[0]
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		ptr := ""
		for _, tok := range se.JSONPointer() {
			ptr += "/" + escape(tok)
		}
		reason := se.Reason
		if reason == "" {
			reason = fmt.Sprintf("does not match schema %q", se.SchemaField)
		}
		if se.Origin != nil {
			reason = se.Origin.Error()
		}
		return &coerceError{ptr: ptr, err: errors.New(reason)}
	}
	return err
}

// typeOf is the single type a schema (or its allOf parts) declares, "" if
// none or several.
func typeOf(s *openapi3.Schema) string {
	if s.Type != nil {
		var ts []string
		for _, t := range s.Type.Slice() {
			if t != openapi3.TypeNull {
				ts = append(ts, t)
			}
		}
		if len(ts) == 1 {
			return ts[0]
		}
		if len(ts) > 1 {
			return ""
		}
	}
	for _, r := range s.AllOf {
		if r != nil && r.Value != nil {
			if t := typeOf(r.Value); t != "" {
				return t
			}
		}
	}
	return ""
}

// propSchema is the schema of property k of an object schema (looking in
// allOf parts and additionalProperties), nil if the schema says nothing.
func propSchema(s *openapi3.Schema, k string) *openapi3.Schema {
	if r := s.Properties[k]; r != nil && r.Value != nil {
		return r.Value
	}
	for _, r := range s.AllOf {
		if r != nil && r.Value != nil {
			if p := propSchema(r.Value, k); p != nil {
				return p
			}
		}
	}
	if r := s.AdditionalProperties.Schema; r != nil && r.Value != nil {
		return r.Value
	}
	return nil
}

// coerce converts a SQL value to the JSON value s wants; it reports type
// mismatches (other constraints are left to check).
func coerce(s *openapi3.Schema, v any, ptr string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s == nil {
		return plain(v, ptr)
	}
	mismatch := func(want string) error {
		return &coerceError{ptr: ptr, err: fmt.Errorf("want %s, got %s", want, sqlvalue.Describe(v))}
	}
	switch typeOf(s) {
	case openapi3.TypeInteger:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
		}
		return nil, mismatch("integer")
	case openapi3.TypeNumber:
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, mismatch("a finite number")
			}
			return x, nil
		case int64:
			return float64(x), nil
		case int:
			return float64(x), nil
		case int32:
			return float64(x), nil
		case float32:
			return float64(x), nil
		}
		return nil, mismatch("number")
	case openapi3.TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case time.Time:
			if s.Format == "date" {
				return x.Format(time.DateOnly), nil
			}
			return x.Format(time.RFC3339Nano), nil
		}
		return nil, mismatch("string")
	case openapi3.TypeBoolean:
		if x, ok := v.(bool); ok {
			return x, nil
		}
		return nil, mismatch("boolean")
	case openapi3.TypeArray:
		xs, ok := v.([]any)
		if !ok {
			return nil, mismatch("array")
		}
		var item *openapi3.Schema
		if s.Items != nil {
			item = s.Items.Value
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			c, err := coerce(item, x, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case openapi3.TypeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, mismatch("object")
		}
		out := make(map[string]any, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			c, err := coerce(propSchema(s, k), m[k], ptr+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return plain(v, ptr) // no single type: left to the schema check
}

// plain converts a SQL value to a JSON value without a schema.
func plain(v any, ptr string) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := plain(e, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := plain(e, ptr+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	return nil, &coerceError{ptr: ptr, err: fmt.Errorf("want a JSON value, got %s", sqlvalue.Describe(v))}
}

// Validate checks a call when the rule is compiled: the argument count,
// and each literal argument against its parameter. Field references are
// checked at run time; so is a lone non-literal, which may be a map of the
// parameters by name.
func (op *Operation) Validate(args []sdk.Arg) error {
	if len(args) == 1 && args[0].Kind != sdk.ArgLiteral {
		return nil
	}
	if len(args) > len(op.Params) {
		return fmt.Errorf("function %q: want at most %d arguments (%s), got %d", op.ID, len(op.Params), op.paramNames(), len(args))
	}
	for i, p := range op.Params {
		if i >= len(args) {
			if p.Required {
				return fmt.Errorf("function %q: parameter %q (%s): required, want at least %d arguments, got %d", op.ID, p.Name, p.In, op.requiredCount(), len(args))
			}
			continue
		}
		a := args[i]
		if a.Kind != sdk.ArgLiteral {
			continue
		}
		if a.Value == nil {
			if p.Required {
				return fmt.Errorf("function %q: parameter %q (%s): required, got null", op.ID, p.Name, p.In)
			}
			continue
		}
		if _, err := op.value(p, a.Value); err != nil {
			return err
		}
	}
	return nil
}

// requiredCount is the count of leading arguments a positional call needs.
func (op *Operation) requiredCount() int {
	n := 0
	for i, p := range op.Params {
		if p.Required {
			n = i + 1
		}
	}
	return n
}
