package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// Document is a loaded, validated OpenAPI document and the operations kgen
// can call.
type Document struct {
	Spec *openapi3.T
	// Operations are the supported operations, sorted by ID.
	Operations []*Operation
	// Skipped are the operations kgen cannot call, in path and method order.
	Skipped []Skipped

	source string
}

// Skipped is an operation left out of Document.Operations, and why.
type Skipped struct {
	OperationID, Method, Path, Reason string
}

// String reads "PUT /items/{id}/image (uploadImage): <reason>".
func (s Skipped) String() string {
	if s.OperationID == "" {
		return fmt.Sprintf("%s %s: %s", s.Method, s.Path, s.Reason)
	}
	return fmt.Sprintf("%s %s (%s): %s", s.Method, s.Path, s.OperationID, s.Reason)
}

// Operation is one callable operation.
type Operation struct {
	ID      string
	Method  string // upper case: GET, POST, ...
	Path    string // the path template, "/items/{id}"
	Summary string
	// Params are the arguments in call order: path, query and header
	// parameters (each group in declared order, path-level ones first),
	// then the body.
	Params []*Param
	// Body is the request body (also the last of Params), nil if none.
	Body *Param
	// Response is the schema of the first declared 2xx JSON response (else
	// 2XX, else default); nil when the operation returns no JSON.
	Response *openapi3.Schema
	// Spec is the operation as the document declares it.
	Spec *openapi3.Operation

	doc       *Document
	security  openapi3.SecurityRequirements // effective: the operation's or the document's
	responses []*response                   // 2xx, 2XX, default; in that order
	byName    map[string]*Param
}

// Param is one argument of an operation.
type Param struct {
	Name string
	// In is "path", "query", "header" or "body".
	In       string
	Required bool
	Schema   *openapi3.Schema
	// Spec is the parameter as declared; nil for the body.
	Spec *openapi3.Parameter

	explode bool // query arrays and objects: one key per value
}

// response is one success response declaration.
type response struct {
	code   string // "200", "2XX", "default"
	schema *openapi3.Schema
	text   bool // a text/* response: decoded as a string
	none   bool // no content
}

// Operation returns the supported operation id, nil if there is none.
func (d *Document) Operation(id string) *Operation {
	i, ok := slices.BinarySearchFunc(d.Operations, id, func(op *Operation, id string) int { return strings.Compare(op.ID, id) })
	if !ok {
		return nil
	}
	return d.Operations[i]
}

// DefaultBase is the URL of the first server with its variables set to
// their defaults, "" when the document names no server.
func (d *Document) DefaultBase() string {
	if len(d.Spec.Servers) == 0 || d.Spec.Servers[0] == nil {
		return ""
	}
	s := d.Spec.Servers[0]
	u := s.URL
	for _, name := range slices.Sorted(maps.Keys(s.Variables)) {
		if v := s.Variables[name]; v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	return u
}

// Load reads a self-contained OpenAPI 3.0 or 3.1 document, YAML or JSON,
// validates it and resolves its operations. source names the document in
// errors, which read "<source>: #/json/pointer: what is wrong".
func Load(data []byte, source string) (*Document, error) {
	fail := func(ptr string, err error) error {
		if ptr == "" {
			return fmt.Errorf("%s: %w", source, err)
		}
		return fmt.Errorf("%s: %s: %w", source, ptr, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		if ptr, ref := findExternalRef(&root, "#"); ref != "" {
			return nil, fail(ptr, fmt.Errorf("external $ref %q is not supported: the document must be self-contained", ref))
		}
		if v, ok := versionOf(&root); ok && !strings.HasPrefix(v, "3.0.") && !strings.HasPrefix(v, "3.1.") {
			return nil, fail("#/openapi", fmt.Errorf("version %q is not supported, want 3.0.x or 3.1.x", v))
		}
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	spec, err := loader.LoadFromData(data)
	if err != nil {
		var ext *openapi3.DisallowedExternalRefError
		if errors.As(err, &ext) {
			return nil, fail("", fmt.Errorf("external $ref %q is not supported: the document must be self-contained", ext.Ref))
		}
		return nil, fail("", fmt.Errorf("read document: %w", err))
	}
	if spec.OpenAPI == "" {
		return nil, fail("#", errors.New("not an OpenAPI 3 document: no \"openapi\" version"))
	}
	ctx := context.Background()
	if err := spec.Validate(ctx); err != nil {
		return nil, fail(explain(ctx, data, &root, spec, err))
	}
	if ptr, err := checkEnums(spec); err != nil {
		return nil, fail(ptr, err)
	}
	d := &Document{Spec: spec, source: source}
	d.resolve()
	return d, nil
}

// findExternalRef returns the pointer and value of the first $ref under n
// that leaves the document.
func findExternalRef(n *yaml.Node, ptr string) (string, string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, r := findExternalRef(c, ptr); r != "" {
				return p, r
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := ptr + "/" + escape(k.Value)
			if k.Value == "$ref" && v.Kind == yaml.ScalarNode && !strings.HasPrefix(v.Value, "#") {
				return p, v.Value
			}
			if pp, r := findExternalRef(v, p); r != "" {
				return pp, r
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, r := findExternalRef(c, fmt.Sprintf("%s/%d", ptr, i)); r != "" {
				return p, r
			}
		}
	}
	return "", ""
}

// versionOf returns the document's "openapi" value.
func versionOf(n *yaml.Node) (string, bool) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "openapi" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value, true
		}
	}
	return "", false
}

// escape escapes one JSON pointer token.
func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// explain names the node a failed validation is about, as precisely as
// kin-openapi lets us: it loads the document again with origins (the line
// and column of each element, which kin-openapi's typed errors carry), finds
// the part that fails, and maps the origin of the error back to a JSON
// pointer through root. Documents load without origins first because the
// Document a caller keeps should not carry them.
func explain(ctx context.Context, data []byte, root *yaml.Node, spec *openapi3.T, whole error) (string, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.IncludeOrigin = true
	if o, err := loader.LoadFromData(data); err == nil {
		if err := o.Validate(ctx); err != nil {
			spec, whole = o, err
		}
	}
	ptr, cause := locate(ctx, spec, whole)
	if p, c := pinpoint(indexPositions(root), cause); c != nil {
		return p, c
	}
	return ptr, cause
}

// check validates one part of a document, at ptr.
type check struct {
	ptr string
	fn  func() error
}

// componentChecks validates the components of one kind, in name order.
func componentChecks[E any, P interface {
	*E
	Validate(context.Context, ...openapi3.ValidationOption) error
}](ctx context.Context, kind string, m map[string]P) []check {
	var out []check
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if r := m[n]; r != nil {
			out = append(out, check{"#/components/" + kind + "/" + escape(n), func() error { return r.Validate(ctx) }})
		}
	}
	return out
}

// locate finds the node a failed validation is about: it validates the
// document's parts one by one, and falls back to the sections named in the
// error chain.
func locate(ctx context.Context, spec *openapi3.T, whole error) (string, error) {
	var checks []check
	for i, s := range spec.Servers {
		if s != nil {
			checks = append(checks, check{fmt.Sprintf("#/servers/%d", i), func() error { return s.Validate(ctx) }})
		}
	}
	if c := spec.Components; c != nil {
		checks = append(checks, componentChecks(ctx, "schemas", c.Schemas)...)
		checks = append(checks, componentChecks(ctx, "parameters", c.Parameters)...)
		checks = append(checks, componentChecks(ctx, "requestBodies", c.RequestBodies)...)
		checks = append(checks, componentChecks(ctx, "responses", c.Responses)...)
		checks = append(checks, componentChecks(ctx, "securitySchemes", c.SecuritySchemes)...)
	}
	if spec.Paths != nil {
		for _, p := range slices.Sorted(maps.Keys(spec.Paths.Map())) {
			item := spec.Paths.Value(p)
			if item == nil {
				continue
			}
			base := "#/paths/" + escape(p)
			for i, r := range item.Parameters {
				if r != nil {
					checks = append(checks, check{fmt.Sprintf("%s/parameters/%d", base, i), func() error { return r.Validate(ctx) }})
				}
			}
			ops := item.Operations()
			for _, m := range slices.Sorted(maps.Keys(ops)) {
				op := ops[m]
				ob := base + "/" + strings.ToLower(m)
				for i, r := range op.Parameters {
					if r != nil {
						checks = append(checks, check{fmt.Sprintf("%s/parameters/%d", ob, i), func() error { return r.Validate(ctx) }})
					}
				}
				if r := op.RequestBody; r != nil {
					checks = append(checks, check{ob + "/requestBody", func() error { return r.Validate(ctx) }})
				}
				if op.Responses != nil {
					for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
						if r := op.Responses.Value(code); r != nil {
							checks = append(checks, check{ob + "/responses/" + escape(code), func() error { return r.Validate(ctx) }})
						}
					}
				}
				checks = append(checks, check{ob, func() error { return op.Validate(ctx) }})
			}
			checks = append(checks, check{base, func() error { return item.Validate(ctx) }})
		}
	}
	opts := []openapi3.ValidationOption{}
	if spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.IsOpenAPI31OrLater())
	}
	ctx = openapi3.WithValidationOptions(ctx, opts...)
	for _, c := range checks {
		if err := c.fn(); err != nil {
			return c.ptr, err
		}
	}
	// Not in one part (say, path parameters that do not match their
	// template): point at what the error chain names.
	ptr, cause := "#", whole
	var sec *openapi3.SectionValidationError
	if errors.As(whole, &sec) {
		name := sec.Section
		if name == "external docs" {
			name = "externalDocs"
		}
		ptr, cause = "#/"+name, sec.Cause
	}
	var pv *openapi3.PathValidationError
	if errors.As(whole, &pv) {
		ptr, cause = "#/paths/"+escape(pv.Path), pv.Cause
		var ov *openapi3.OperationValidationError
		if errors.As(pv.Cause, &ov) {
			ptr, cause = ptr+"/"+strings.ToLower(ov.Method), ov.Cause
		}
	}
	var pp *openapi3.PathParametersError
	if errors.As(whole, &pp) {
		ptr, cause = "#/paths/"+escape(pp.Path)+"/"+strings.ToLower(pp.Method), pp
	}
	return ptr, cause
}

// pinpoint names the node err is about from the origin kin-openapi put on
// it: the keyword at fault when the error says which (the "type" of a
// SchemaTypeError, the "default" of a default that breaks its schema, and
// inside that default the value the schema refused), else the element. The
// cause is nil when err carries no origin that idx knows.
func pinpoint(idx positions, err error) (string, error) {
	o, keyword, cause := originOf(err)
	if o == nil {
		return "", nil
	}
	ptr, ok := "", false
	if loc, found := o.Fields.Lookup(keyword); keyword != "" && found {
		ptr, ok = idx.keys[position{loc.Line, loc.Column}]
	}
	atKeyword := ok
	if !ok && len(o.Fields) > 0 {
		// The element holding any field. Its fields are keys and so
		// unambiguous, unlike o.Key, which for an inline mapping inside a
		// sequence item can be the item's position.
		if p, found := idx.keys[position{o.Fields[0].Line, o.Fields[0].Column}]; found {
			ptr, ok = p[:strings.LastIndex(p, "/")], true
		}
	}
	if !ok && o.Key != nil {
		ptr, ok = idx.element(*o.Key)
	}
	if !ok {
		return "", nil
	}
	var sve *openapi3.SchemaValueError
	var se *openapi3.SchemaError
	if errors.As(cause, &sve) && errors.As(sve.Cause, &se) {
		// The value's own message lists the schema and the value over
		// several lines; the pointer already says which value.
		if atKeyword {
			for _, tok := range se.JSONPointer() {
				ptr += "/" + escape(tok)
			}
		}
		what := sve.ValueKind
		switch se.Value.(type) {
		case map[string]any, []any:
		default:
			b, _ := json.Marshal(se.Value)
			what += " " + string(b)
		}
		cause = fmt.Errorf("invalid %s: %s", what, se.Reason)
	}
	return ptr, cause
}

// originOf returns the origin of the error in err's chain that says what is
// wrong, the keyword it is about ("" when it names none) and that error.
// kin-openapi's typed errors each carry an Origin but share no interface.
func originOf(err error) (*openapi3.Origin, string, error) {
	var (
		typ  *openapi3.SchemaTypeError
		val  *openapi3.SchemaValueError
		pat  *openapi3.SchemaPatternRegexError
		mul  *openapi3.SchemaMultipleOfNotPositiveError
		req  *openapi3.DuplicateRequiredFieldError
		both *openapi3.SchemaBothFormsExclusive
		ver  *openapi3.FieldVersionMismatchError
		forb *openapi3.ForbiddenFieldError
		excl *openapi3.MutuallyExclusiveFieldsError
		in   *openapi3.InvalidParameterInError
		ser  *openapi3.InvalidSerializationMethodError
		path *openapi3.PathParameterRequiredError
		dup  *openapi3.DuplicateParameterError
		ref  *openapi3.UnresolvedRefError
		sec  *openapi3.InvalidSecuritySchemeTypeError
		http *openapi3.InvalidHTTPSchemeError
		key  *openapi3.APIKeyInInvalidError
		url  *openapi3.ServerURLTemplateError
		need *openapi3.RequiredFieldError
		one  *openapi3.ExactlyOneFieldError
		cont *openapi3.SingleEntryContentError
		enc  *openapi3.InvalidEncodingContentTypeError
		opID *openapi3.DuplicateOperationIDError
	)
	switch {
	case errors.As(err, &typ):
		return typ.Origin, "type", typ
	case errors.As(err, &val):
		return val.Origin, val.ValueKind, val
	case errors.As(err, &pat):
		return pat.Origin, "pattern", pat
	case errors.As(err, &mul):
		return mul.Origin, "multipleOf", mul
	case errors.As(err, &req):
		return req.Origin, "required", req
	case errors.As(err, &both):
		return both.Origin, both.Field, both
	case errors.As(err, &ver):
		return ver.Origin, ver.Field, ver
	case errors.As(err, &forb):
		return forb.Origin, forb.Field, forb
	case errors.As(err, &excl):
		return excl.Origin, excl.Field2, excl
	case errors.As(err, &in):
		return in.Origin, "in", in
	case errors.As(err, &ser):
		return ser.Origin, "style", ser
	case errors.As(err, &path):
		return path.Origin, "required", path
	case errors.As(err, &dup):
		return dup.Origin, "", dup
	case errors.As(err, &ref):
		return ref.Origin, "$ref", ref
	case errors.As(err, &sec):
		return sec.Origin, "type", sec
	case errors.As(err, &http):
		return http.Origin, "scheme", http
	case errors.As(err, &key):
		return key.Origin, "in", key
	case errors.As(err, &url):
		return url.Origin, "url", url
	case errors.As(err, &need):
		// Field reads "schema.items": the last part is the keyword.
		return need.Origin, need.Field[strings.LastIndex(need.Field, ".")+1:], need
	case errors.As(err, &one):
		return one.Origin, "", one
	case errors.As(err, &cont):
		return cont.Origin, "content", cont
	case errors.As(err, &enc):
		return enc.Origin, "contentType", enc
	case errors.As(err, &opID):
		return opID.Origin, "operationId", opID
	}
	return nil, "", err
}

// position is where a node starts, 1-based, as yaml and kin-openapi's
// origins count.
type position struct{ line, col int }

// positions maps node positions to JSON pointers: a mapping key to the
// pointer of its value, an item of a sequence to its own.
type positions struct {
	keys, items map[position]string
}

func indexPositions(root *yaml.Node) positions {
	idx := positions{keys: map[position]string{}, items: map[position]string{}}
	var walk func(n *yaml.Node, ptr string)
	walk = func(n *yaml.Node, ptr string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, ptr)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := ptr + "/" + escape(k.Value)
				idx.keys[position{k.Line, k.Column}] = p
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s/%d", ptr, i)
				idx.items[position{c.Line, c.Column}] = p
				walk(c, p)
			}
		}
	}
	walk(root, "#")
	return idx
}

// element is the pointer of the element an origin's Key locates: the key
// above it, or, for an item of a sequence, the item (which starts where its
// first key does).
func (idx positions) element(loc openapi3.Location) (string, bool) {
	at := position{loc.Line, loc.Column}
	if p, ok := idx.items[at]; ok {
		return p, true
	}
	p, ok := idx.keys[at]
	return p, ok
}

// checkEnums refuses an enum member its own schema does not accept (an
// integer among the values of a string): kin-openapi lets it pass and JSON
// Schema allows it, but no argument could ever equal it, and kgen generates
// typed constants from the members.
func checkEnums(spec *openapi3.T) (string, error) {
	var opts []openapi3.SchemaValidationOption
	if spec.IsOpenAPI31OrLater() {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return walkSchemas(spec, func(ptr string, s *openapi3.Schema) (string, error) {
		if len(s.Enum) == 0 {
			return "", nil
		}
		plain := *s
		plain.Enum, plain.Default, plain.Example = nil, nil, nil
		for i, v := range s.Enum {
			if err := plain.VisitJSON(v, opts...); err != nil {
				reason := err.Error()
				var se *openapi3.SchemaError
				if errors.As(err, &se) {
					reason = se.Reason
				}
				b, _ := json.Marshal(v)
				return fmt.Sprintf("%s/enum/%d", ptr, i), fmt.Errorf("enum member %s: %s", b, reason)
			}
		}
		return "", nil
	})
}

// schemaWalk visits the schemas written in a document, each once, where
// they are written: a $ref is followed where it points, under #/components.
type schemaWalk struct {
	fn   func(ptr string, s *openapi3.Schema) (string, error)
	seen map[*openapi3.Schema]bool
	ptr  string // where fn failed
	err  error
}

// walkSchemas calls fn on every schema in components, parameters, request
// bodies and responses, in pointer order, and stops at the first error.
func walkSchemas(spec *openapi3.T, fn func(ptr string, s *openapi3.Schema) (string, error)) (string, error) {
	w := &schemaWalk{fn: fn, seen: map[*openapi3.Schema]bool{}}
	if c := spec.Components; c != nil {
		for _, n := range slices.Sorted(maps.Keys(c.Schemas)) {
			w.schema(c.Schemas[n], "#/components/schemas/"+escape(n))
		}
		for _, n := range slices.Sorted(maps.Keys(c.Parameters)) {
			w.parameter(c.Parameters[n], "#/components/parameters/"+escape(n))
		}
		for _, n := range slices.Sorted(maps.Keys(c.RequestBodies)) {
			if r := c.RequestBodies[n]; r != nil && r.Ref == "" && r.Value != nil {
				w.content(r.Value.Content, "#/components/requestBodies/"+escape(n))
			}
		}
		for _, n := range slices.Sorted(maps.Keys(c.Responses)) {
			w.response(c.Responses[n], "#/components/responses/"+escape(n))
		}
	}
	if spec.Paths != nil {
		for _, p := range slices.Sorted(maps.Keys(spec.Paths.Map())) {
			item := spec.Paths.Value(p)
			if item == nil {
				continue
			}
			base := "#/paths/" + escape(p)
			for i, r := range item.Parameters {
				w.parameter(r, fmt.Sprintf("%s/parameters/%d", base, i))
			}
			ops := item.Operations()
			for _, m := range slices.Sorted(maps.Keys(ops)) {
				op, ob := ops[m], base+"/"+strings.ToLower(m)
				for i, r := range op.Parameters {
					w.parameter(r, fmt.Sprintf("%s/parameters/%d", ob, i))
				}
				if r := op.RequestBody; r != nil && r.Ref == "" && r.Value != nil {
					w.content(r.Value.Content, ob+"/requestBody")
				}
				if op.Responses != nil {
					for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
						w.response(op.Responses.Value(code), ob+"/responses/"+escape(code))
					}
				}
			}
		}
	}
	return w.ptr, w.err
}

func (w *schemaWalk) schema(r *openapi3.SchemaRef, ptr string) {
	if w.err != nil || r == nil || r.Ref != "" || r.Value == nil || w.seen[r.Value] {
		return
	}
	s := r.Value
	w.seen[s] = true
	if w.ptr, w.err = w.fn(ptr, s); w.err != nil {
		return
	}
	for _, n := range slices.Sorted(maps.Keys(s.Properties)) {
		w.schema(s.Properties[n], ptr+"/properties/"+escape(n))
	}
	w.schema(s.AdditionalProperties.Schema, ptr+"/additionalProperties")
	w.schema(s.Items, ptr+"/items")
	for i, x := range s.AllOf {
		w.schema(x, fmt.Sprintf("%s/allOf/%d", ptr, i))
	}
	for i, x := range s.AnyOf {
		w.schema(x, fmt.Sprintf("%s/anyOf/%d", ptr, i))
	}
	for i, x := range s.OneOf {
		w.schema(x, fmt.Sprintf("%s/oneOf/%d", ptr, i))
	}
	w.schema(s.Not, ptr+"/not")
}

func (w *schemaWalk) parameter(r *openapi3.ParameterRef, ptr string) {
	if r != nil && r.Ref == "" && r.Value != nil {
		w.schema(r.Value.Schema, ptr+"/schema")
		w.content(r.Value.Content, ptr)
	}
}

func (w *schemaWalk) response(r *openapi3.ResponseRef, ptr string) {
	if r != nil && r.Ref == "" && r.Value != nil {
		w.content(r.Value.Content, ptr)
	}
}

func (w *schemaWalk) content(c openapi3.Content, ptr string) {
	for _, mt := range slices.Sorted(maps.Keys(c)) {
		if m := c[mt]; m != nil {
			w.schema(m.Schema, ptr+"/content/"+escape(mt)+"/schema")
		}
	}
}

// resolve builds the operations, skipping those kgen cannot call.
func (d *Document) resolve() {
	paths := d.Spec.Paths
	if paths == nil {
		return
	}
	for _, p := range slices.Sorted(maps.Keys(paths.Map())) {
		item := paths.Value(p)
		if item == nil {
			continue
		}
		ops := item.Operations()
		for _, m := range slices.Sorted(maps.Keys(ops)) {
			spec := ops[m]
			op, reason := d.operation(strings.ToUpper(m), p, item, spec)
			if reason != "" {
				d.Skipped = append(d.Skipped, Skipped{OperationID: spec.OperationID, Method: strings.ToUpper(m), Path: p, Reason: reason})
				continue
			}
			d.Operations = append(d.Operations, op)
		}
	}
	sort.Slice(d.Operations, func(i, j int) bool { return d.Operations[i].ID < d.Operations[j].ID })
}

// operation resolves one operation, or says why it is not supported.
func (d *Document) operation(method, path string, item *openapi3.PathItem, spec *openapi3.Operation) (*Operation, string) {
	if spec.OperationID == "" {
		return nil, "no operationId"
	}
	op := &Operation{ID: spec.OperationID, Method: method, Path: path, Summary: spec.Summary, Spec: spec, doc: d, byName: map[string]*Param{}}

	// Operation parameters override path-item ones of the same name and
	// location, in place.
	var declared []*openapi3.Parameter
	for _, list := range []openapi3.Parameters{item.Parameters, spec.Parameters} {
		for _, r := range list {
			if r == nil || r.Value == nil {
				continue
			}
			p := r.Value
			i := slices.IndexFunc(declared, func(q *openapi3.Parameter) bool { return q.Name == p.Name && q.In == p.In })
			if i >= 0 {
				declared[i] = p
			} else {
				declared = append(declared, p)
			}
		}
	}
	for _, in := range []string{openapi3.ParameterInPath, openapi3.ParameterInQuery, openapi3.ParameterInHeader, openapi3.ParameterInCookie} {
		for _, p := range declared {
			if p.In != in {
				continue
			}
			param, reason := newParam(p)
			if reason != "" {
				return nil, reason
			}
			op.Params = append(op.Params, param)
		}
	}
	if rb := spec.RequestBody; rb != nil && rb.Value != nil {
		body := rb.Value
		mt, media := jsonMedia(body.Content)
		if media == nil {
			return nil, fmt.Sprintf("request body media type %s is not supported, want application/json", quoteKeys(body.Content))
		}
		_ = mt
		name := "body"
		if n, ok := rb.Extensions["x-kgen-name"].(string); ok && n != "" {
			name = n
		} else if n, ok := body.Extensions["x-kgen-name"].(string); ok && n != "" {
			name = n
		}
		op.Body = &Param{Name: name, In: "body", Required: body.Required, Schema: schemaOf(media.Schema)}
		op.Params = append(op.Params, op.Body)
	}
	for _, p := range op.Params {
		if q, dup := op.byName[p.Name]; dup {
			return nil, fmt.Sprintf("parameters %q (%s) and %q (%s) share a name", q.Name, q.In, p.Name, p.In)
		}
		op.byName[p.Name] = p
	}

	op.security = d.Spec.Security
	if spec.Security != nil {
		op.security = *spec.Security
	}
	if reason := d.checkSecurity(op.security); reason != "" {
		return nil, reason
	}

	if reason := op.resolveResponses(); reason != "" {
		return nil, reason
	}
	return op, ""
}

// newParam checks that kgen can send a parameter: a schema (not content),
// and the default style or form/simple with explode set either way.
func newParam(p *openapi3.Parameter) (*Param, string) {
	what := fmt.Sprintf("%s parameter %q", p.In, p.Name)
	if p.In == openapi3.ParameterInCookie {
		return nil, what + ": cookie parameters are not supported"
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return nil, what + ": content parameters are not supported, want a schema"
	}
	sm, err := p.SerializationMethod()
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", what, err)
	}
	s := p.Schema.Value
	switch p.In {
	case openapi3.ParameterInQuery:
		if sm.Style != openapi3.SerializationForm {
			return nil, fmt.Sprintf("%s: style %q is not supported, want form", what, sm.Style)
		}
	default: // path, header
		if sm.Style != openapi3.SerializationSimple {
			return nil, fmt.Sprintf("%s: style %q is not supported, want simple", what, sm.Style)
		}
		if s.Type.Is(openapi3.TypeObject) {
			return nil, what + ": object values are not supported"
		}
	}
	return &Param{Name: p.Name, In: p.In, Required: p.Required, Schema: s, Spec: p, explode: sm.Explode}, ""
}

func schemaOf(r *openapi3.SchemaRef) *openapi3.Schema {
	if r == nil || r.Value == nil {
		return &openapi3.Schema{} // any value
	}
	return r.Value
}

// jsonMedia picks the JSON media type of content: application/json, else
// the first (sorted) */*+json.
func jsonMedia(content openapi3.Content) (string, *openapi3.MediaType) {
	if m := content["application/json"]; m != nil {
		return "application/json", m
	}
	for _, k := range slices.Sorted(maps.Keys(content)) {
		if isJSON(k) && content[k] != nil {
			return k, content[k]
		}
	}
	return "", nil
}

// isJSON reports whether a media type (or Content-Type) is JSON.
func isJSON(mt string) bool {
	if t, _, err := mime.ParseMediaType(mt); err == nil {
		mt = t
	}
	mt = strings.ToLower(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func quoteKeys(c openapi3.Content) string {
	keys := slices.Sorted(maps.Keys(c))
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

// resolveResponses records the success responses: each 2xx code, 2XX and
// default.
func (op *Operation) resolveResponses() string {
	if op.Spec.Responses == nil {
		return ""
	}
	rs := op.Spec.Responses.Map()
	for _, code := range op.SuccessCodes() {
		r := rs[code]
		if r == nil || r.Value == nil {
			continue
		}
		res := &response{code: code}
		switch c := r.Value.Content; {
		case len(c) == 0:
			res.none = true
		default:
			if _, m := jsonMedia(c); m != nil {
				res.schema = schemaOf(m.Schema)
				break
			}
			if slices.ContainsFunc(slices.Collect(maps.Keys(c)), func(k string) bool { return strings.HasPrefix(k, "text/") }) {
				res.text = true
				break
			}
			if code == "default" {
				continue // an error shape; success replies are decoded generically
			}
			return fmt.Sprintf("response %s: media type %s is not supported, want application/json or text/*", code, quoteKeys(c))
		}
		op.responses = append(op.responses, res)
		if op.Response == nil && res.schema != nil {
			op.Response = res.schema
		}
	}
	return ""
}
