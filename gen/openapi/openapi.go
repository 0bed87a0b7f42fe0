package openapi

import (
	"cmp"
	"errors"
	"fmt"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/scaffold"
	"github.com/kgen-dev/kgen/svc/openapi"
)

// Kind is what Generate writes from the document:
//   - KindService: <Name>.json, the service description, and <Name>.zip,
//     the installable service (description and document);
//   - KindServer: <base>_kgen.go: Go types, a Handler interface and
//     NewHandler, a net/http server of it;
//   - KindClient: <base>_kgen_client.go: a native function plugin per
//     operation that calls the service.
type Kind = gen.Kind

// The kinds, as gen names them.
const (
	KindService = gen.KindService
	KindServer  = gen.KindServer
	KindClient  = gen.KindClient
)

// Kinds lists the kinds in the order the CLI documents them.
var Kinds = gen.Kinds

// Extensions are the file name extensions of OpenAPI documents.
var Extensions = []string{".yaml", ".yml", ".json"}

// IsDocument reports whether path names an OpenAPI document by its
// extension.
func IsDocument(path string) bool {
	return slices.Contains(Extensions, strings.ToLower(filepath.Ext(path)))
}

// Options configure Load and Run.
type Options struct {
	// Kind selects the files to generate.
	Kind Kind
	// File is the path of the OpenAPI 3 document (.yaml, .yml or .json).
	File string
	// Name is the service name: the service description is <Name>.json, and
	// a generated client reads <root>/data/services/<Name>.json. It defaults
	// to File's base name without its extension.
	Name string
	// Address is the base URL of the service: for KindService the
	// interface's address, for KindClient the URL the functions call when no
	// service description overrides it. It defaults to the document's first
	// server URL, its variables at their defaults.
	Address string
	// Package is the Go package name of KindServer and KindClient files;
	// it defaults to File's base name made a Go identifier.
	Package string
	// Out is the folder Run writes to; "" means the working folder.
	Out string
	// Module, for KindServer and KindClient, makes Out the root of a module
	// at this path that builds on its own: Run writes Out/go.mod requiring
	// kgen and runs go mod tidy (see scaffold.Module). Generate ignores it.
	Module string
}

// GoFileName returns the name of the Go file of kind (KindServer or
// KindClient) for a document whose base name without extension is base.
func GoFileName(kind Kind, base string) string {
	switch kind {
	case KindServer:
		return base + "_kgen.go"
	case KindClient:
		return base + "_kgen_client.go"
	}
	return ""
}

// Model is a loaded document and everything the files of one kind declare.
type Model struct {
	opts   options
	src    []byte
	doc    *openapi.Document
	ops    []*operation
	types  *typer
	names  *names
	decls  *declarations
	schema string // the document's base name: its path in the zip's schemas/
}

// Warnings are the operations the generated files leave out, and why:
// "skipped operation GET /health: no operationId".
func (m *Model) Warnings() []string {
	var w []string
	for _, s := range m.doc.Skipped {
		w = append(w, "skipped operation "+s.String())
	}
	return w
}

// operation is one operation with its Go types.
type operation struct {
	*openapi.Operation
	where  string // "#/paths/~1items~1{id}/get"
	names  *opNames
	params []*param
	// result is the Go type of the success response, nil for none; status
	// is the success status code.
	result *goType
	status int
}

// param is one parameter (or the body) of an operation.
type param struct {
	*openapi.Param
	field string // the Go field of the Params struct
	t     *goType
}

func (op *operation) hasParams() bool { return len(op.Params) > 0 }

// options are Options checked, with their defaults filled in.
type options struct {
	Options
	base string // File's base name without its extension
}

// serviceNameRE is the engine's rule for service names (they name files).
var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func (opts Options) normalize() (*options, error) {
	o := &options{Options: opts}
	if !slices.Contains(Kinds, o.Kind) {
		return nil, fmt.Errorf("unknown kind %q: want service, server or client", o.Kind)
	}
	if o.Module != "" {
		if o.Kind == KindService {
			return nil, fmt.Errorf("module %q: a service description is not Go code; a module is for a server or client", o.Module)
		}
		if err := scaffold.CheckModulePath(o.Module); err != nil {
			return nil, err
		}
	}
	if o.File == "" {
		return nil, errors.New("no OpenAPI document given")
	}
	if !IsDocument(o.File) {
		return nil, fmt.Errorf("%s: want an OpenAPI document (.yaml, .yml or .json)", o.File)
	}
	file := filepath.Base(o.File)
	o.base = strings.TrimSuffix(file, filepath.Ext(file))
	if o.Name == "" {
		o.Name = o.base
	}
	if !serviceNameRE.MatchString(o.Name) || strings.Contains(o.Name, "..") {
		return nil, fmt.Errorf("service name %q: want letters, digits, _, - and .", o.Name)
	}
	if o.Package == "" {
		o.Package = packageName(o.base)
	}
	if !token.IsIdentifier(o.Package) || o.Package == "_" || token.IsKeyword(o.Package) {
		return nil, fmt.Errorf("package %q: want a Go identifier", o.Package)
	}
	return o, nil
}

// packageName makes a Go package name of a file's base name: lower case,
// letters and digits only.
func packageName(base string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	name := b.String()
	if name == "" || token.IsKeyword(name) || (name[0] >= '0' && name[0] <= '9') {
		name = "api" + name
	}
	return name
}

// Load reads and checks the document of opts.File with svc/openapi's Load,
// the engine's own loader, so that whatever generates also installs, and
// builds the model of the files of opts.Kind. Errors name the file and a
// JSON pointer.
func Load(opts Options) (*Model, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(o.File)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: file not found", o.File)
	}
	if err != nil {
		return nil, err
	}
	doc, err := openapi.Load(src, o.File)
	if err != nil {
		return nil, err
	}
	m := &Model{opts: *o, src: src, doc: doc, decls: newDeclarations(), schema: filepath.Base(o.File)}
	if o.Address == "" {
		m.opts.Address = doc.DefaultBase()
	}
	if m.opts.Address == "" && o.Kind != KindServer {
		return nil, fmt.Errorf("%s: #/servers: no server URL; give the service address", o.File)
	}
	if len(doc.Operations) == 0 {
		return nil, fmt.Errorf("%s: #/paths: no operation kgen can call", o.File)
	}
	for _, op := range doc.Operations {
		m.ops = append(m.ops, &operation{Operation: op, where: "#/paths/" + jsonPointerEscape(op.Path) + "/" + strings.ToLower(op.Method)})
	}
	if o.Kind == KindService {
		return m, nil
	}
	if m.names, err = newNames(o.Kind, m.decls, m.ops); err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	if o.Kind == KindServer {
		m.types = newTyper(m.decls)
		if err := m.types.components(doc.Spec); err != nil {
			return nil, fmt.Errorf("%s: %w", o.File, err)
		}
		for _, op := range m.ops {
			if err := m.typeOperation(op); err != nil {
				return nil, fmt.Errorf("%s: %w", o.File, err)
			}
		}
		if err := checkRoutes(m.ops); err != nil {
			return nil, fmt.Errorf("%s: %w", o.File, err)
		}
	}
	return m, nil
}

// typeOperation gives the parameters, body and response of op Go types.
func (m *Model) typeOperation(op *operation) error {
	fields := map[string]string{}
	for i, p := range op.Params {
		var ref *openapi3.SchemaRef
		where := op.where
		switch {
		case p.Spec != nil:
			ref = p.Spec.Schema
			where = fmt.Sprintf("%s/parameters/%s", op.where, jsonPointerEscape(p.Name))
		case p.In == "body":
			_, ref = jsonSchema(op.Spec.RequestBody.Value.Content)
			where = op.where + "/requestBody"
		}
		pa := &param{Param: p, field: goName(p.Name)}
		if other, ok := fields[pa.field]; ok {
			return fmt.Errorf("%s: parameters %q and %q both become Go field %s of %s", op.where, other, p.Name, pa.field, op.names.Params)
		}
		fields[pa.field] = p.Name
		t, err := m.types.typeOf(ref, op.names.Method+pa.field, where)
		if err != nil {
			return err
		}
		if p.In != "body" {
			if err := checkParamType(t, p, where); err != nil {
				return err
			}
		}
		pa.t = t
		op.params = append(op.params, pa)
		_ = i
	}
	op.status = 200
	if op.Spec.Responses != nil {
		codes := slices.Sorted(maps.Keys(op.Spec.Responses.Map()))
		for _, code := range codes {
			if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 {
				op.status = n
				break
			}
		}
		for _, code := range append(codes, "2XX", "2xx", "default") {
			r := op.Spec.Responses.Value(code)
			if r == nil || r.Value == nil {
				continue
			}
			if _, ref := jsonSchema(r.Value.Content); ref != nil && ref.Value == op.Response && op.Response != nil {
				t, err := m.types.typeOf(ref, op.names.Method+"Response", op.where+"/responses/"+jsonPointerEscape(code))
				if err != nil {
					return err
				}
				op.result = t
				break
			}
		}
	}
	return nil
}

// checkParamType refuses a parameter whose value a URL cannot carry as the
// generated server decodes it: scalars, enums and arrays of them.
func checkParamType(t *goType, p *openapi.Param, where string) error {
	scalar := func(t *goType) bool {
		for t.kind == kindAlias {
			t = t.elem
		}
		return t.kind == kindEnum || (t.kind == kindScalar && t.scalar != "[]byte")
	}
	u := t
	for u.kind == kindAlias {
		u = u.elem
	}
	if scalar(u) || (u.kind == kindSlice && scalar(u.elem)) {
		return nil
	}
	return fmt.Errorf("%s: %s parameter %q: want a scalar or an array of scalars", where, p.In, p.Name)
}

// jsonSchema returns the schema of the JSON media type of content.
func jsonSchema(c openapi3.Content) (string, *openapi3.SchemaRef) {
	if mt := c.Get("application/json"); mt != nil {
		return "application/json", mt.Schema
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if strings.HasSuffix(k, "+json") && c[k] != nil {
			return k, c[k].Schema
		}
	}
	return "", nil
}

// Generate writes the files of m's kind to out, by file name (no
// folders): for KindService <Name>.json and <Name>.zip, for KindServer and
// KindClient the Go file (see GoFileName). The same model always gives the
// same bytes.
func Generate(m *Model, out gen.Output) error {
	var files map[string][]byte
	var err error
	switch m.opts.Kind {
	case KindService:
		files, err = generateService(m)
	case KindServer, KindClient:
		files, err = generateGo(m)
	}
	if err != nil {
		return err
	}
	return gen.WriteFiles(out, files)
}

// Result says what Run wrote.
type Result struct {
	// Files lists every generated file, Written those whose bytes changed
	// (so they were written), both as paths under Options.Out and sorted.
	Files, Written []string
	// Warnings are the operations left out, and why (Model.Warnings).
	Warnings []string
}

// Run loads the document, generates and writes the files into opts.Out,
// creating it; a file is only rewritten when its bytes change. A Go file
// that exists without kgen's header is never overwritten. Nothing is
// written when generation fails.
func Run(opts Options) (*Result, error) {
	m, err := Load(opts)
	if err != nil {
		return nil, err
	}
	mem := gen.MemOutput{}
	if err := Generate(m, mem); err != nil {
		return nil, err
	}
	dir := cmp.Or(opts.Out, ".")
	byPath := make(map[string][]byte, len(mem))
	for n, data := range mem {
		byPath[filepath.Join(dir, n)] = data
	}
	// Only Go files carry kgen's header; the description and zip are
	// replaced whatever they hold.
	d := &gen.DirOutput{
		Guard: func(path string) bool { return strings.HasSuffix(path, ".go") },
		Hint:  "move it or choose another -out",
	}
	err = gen.WriteFiles(d, byPath)
	res := &Result{Files: slices.Sorted(maps.Keys(byPath)), Written: d.Written, Warnings: m.Warnings()}
	if err == nil && opts.Module != "" {
		err = scaffold.Module(dir, opts.Module, "")
	}
	return res, err
}
