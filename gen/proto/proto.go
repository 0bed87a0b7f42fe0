package proto

import (
	"cmp"
	"fmt"
	"go/token"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/gen"
	"github.com/kgen-dev/kgen/gen/scaffold"
	"github.com/kgen-dev/kgen/svc"
)

// Kind is what Generate writes from the .proto file:
//   - KindService: <Name>.json, the service description, and <Name>.zip,
//     the installable service (description and schemas);
//   - KindServer: the message types, <base>.pb.go, and the gRPC and REST
//     server stubs, <base>_kgen.go;
//   - KindClient: the message types, <base>.pb.go, and a native function
//     plugin per rpc that calls the service, <base>_kgen_client.go.
type Kind = gen.Kind

// The kinds, as gen names them.
const (
	KindService = gen.KindService
	KindServer  = gen.KindServer
	KindClient  = gen.KindClient
)

// Kinds lists the kinds in the order the CLI documents them.
var Kinds = gen.Kinds

// Defaults of Options.
const (
	DefaultGRPCAddress = "127.0.0.1:50051"
	DefaultRESTAddress = "http://127.0.0.1:8080"
)

// Options configure Generate and Run.
type Options struct {
	// Kind selects the files to generate.
	Kind Kind
	// Proto is the path of the .proto file.
	Proto string
	// ProtoPath is the folder that Proto and its imports are relative to
	// (the schemas/ folder of the service); "" means Proto's folder.
	// google/protobuf/*.proto and google/api/*.proto are built in.
	ProtoPath string
	// Name is the service name: the service description is <Name>.json, and
	// a generated client reads <root>/data/services/<Name>.json. It defaults
	// to Proto's base name without ".proto".
	Name string
	// Address is the service address: for KindService the interfaces'
	// address (default DefaultGRPCAddress, or DefaultRESTAddress for
	// REST), for KindClient the gRPC address the functions call when no
	// service description overrides it (default DefaultGRPCAddress).
	Address string
	// Protocol is "grpc" (the default) or "rest", for KindService.
	Protocol string
	// Package is the Go package name of KindServer and KindClient files.
	// It defaults to the package name of Proto's go_package option, else to
	// Proto's base name made a Go identifier.
	Package string
	// Out is the folder Run writes to; "" means the working folder.
	// Generate ignores it.
	Out string
	// Module, for KindServer and KindClient, makes Out the root of a module
	// at this path that builds on its own: Run writes Out/go.mod requiring
	// kgen and runs go mod tidy (see scaffold.Module). Generate ignores it.
	Module string
	// Reflect, for KindService and instead of Proto, is the address of a
	// gRPC server (tcp://host:port or host:port) to ask for its services
	// through server reflection. The .proto files it declares them in
	// are printed and written too, at their import paths; Name defaults to
	// the last element of the first service's package, Address to Reflect.
	Reflect string
}

// GoFileNames returns the names of the Go files of kind (KindServer or
// KindClient) for a proto file at base (without ".proto"): the message
// types and the stubs. Imported local protos add <import path with "/" as
// "_">.pb.go files.
func GoFileNames(kind Kind, base string) (types, stubs string) {
	switch kind {
	case KindServer:
		return base + ".pb.go", base + "_kgen.go"
	case KindClient:
		return base + ".pb.go", base + "_kgen_client.go"
	}
	return "", ""
}

// Generate returns the files of opts.Kind generated from opts.Proto, by
// file name (no folders): for KindService <Name>.json and <Name>.zip (from
// a server, also the printed .proto files, by slash-separated import path); for
// KindServer and KindClient <base>.pb.go (plus one .pb.go per imported
// local proto) and the stub file (see GoFileNames). The same input always
// gives the same bytes.
func Generate(opts Options) (map[string][]byte, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	var s *schema
	if o.Reflect != "" {
		s, err = loadReflected(o)
	} else {
		s, err = load(o)
	}
	if err != nil {
		return nil, err
	}
	switch o.Kind {
	case KindService:
		return generateService(o, s)
	case KindServer, KindClient:
		return generateGo(o, s)
	}
	return nil, fmt.Errorf("unknown kind %q", o.Kind)
}

// Messages returns the .pb.go files of a .proto file (protoc-gen-go's
// output with kgen's header), by file name, for a protocol kgen itself
// speaks: unlike Generate, it takes any rpcs (streaming ones too), since
// no functions or stubs are made from them.
func Messages(proto string) (map[string][]byte, error) {
	o, err := Options{Kind: KindServer, Proto: proto}.normalize()
	if err != nil {
		return nil, err
	}
	o.messagesOnly = true
	s, err := load(o)
	if err != nil {
		return nil, err
	}
	p, err := buildGoPackage(o, s)
	if err != nil {
		return nil, err
	}
	return p.pbFiles, nil
}

// Result says what Run wrote.
type Result struct {
	// Files lists every generated file, Written those whose bytes changed
	// (so they were written), both as paths under Options.Out and sorted.
	Files, Written []string
}

// Run generates like Generate and writes the files into opts.Out, creating
// it; a file is only rewritten when its bytes change. A Go file that exists
// without kgen's header is never overwritten. Nothing is written when
// generation fails.
func Run(opts Options) (*Result, error) {
	files, err := Generate(opts)
	if err != nil {
		return nil, err
	}
	out := cmp.Or(opts.Out, ".")
	byPath := make(map[string][]byte, len(files))
	for n, data := range files {
		byPath[filepath.Join(out, filepath.FromSlash(n))] = data
	}
	// Only Go files carry kgen's header; the description and zip are
	// replaced whatever they hold.
	dir := &gen.DirOutput{
		Guard: func(path string) bool { return strings.HasSuffix(path, ".go") },
		Hint:  "move it or choose another -out",
	}
	err = gen.WriteFiles(dir, byPath)
	res := &Result{Files: slices.Sorted(maps.Keys(byPath)), Written: dir.Written}
	if err == nil && opts.Module != "" {
		err = scaffold.Module(out, opts.Module, "")
	}
	return res, err
}

// options are Options checked, with their defaults filled in.
type options struct {
	Options
	root string // ProtoPath, cleaned
	file string // Proto relative to root, slash-separated
	base string // file's base name without ".proto"
	// messagesOnly skips the checks of rpcs (Messages).
	messagesOnly bool
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
	if o.Reflect != "" {
		return o.normalizeReflect()
	}
	if o.Proto == "" {
		return nil, fmt.Errorf("no .proto file given")
	}
	if filepath.Ext(o.Proto) != ".proto" {
		return nil, fmt.Errorf("%s: want a .proto file", o.Proto)
	}
	o.root = o.ProtoPath
	if o.root == "" {
		o.root = filepath.Dir(o.Proto)
	}
	o.root = filepath.Clean(o.root)
	absRoot, err1 := filepath.Abs(o.root)
	absProto, err2 := filepath.Abs(o.Proto)
	rel, err := filepath.Rel(absRoot, absProto)
	if err1 != nil || err2 != nil || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is not inside the proto path %s", o.Proto, o.root)
	}
	o.file = filepath.ToSlash(rel)
	o.base = strings.TrimSuffix(path2base(o.file), ".proto")
	if o.Name == "" {
		o.Name = o.base
	}
	if err := checkServiceName(o.Name); err != nil {
		return nil, err
	}
	if err := o.normalizeProtocol(); err != nil {
		return nil, err
	}
	if o.Package != "" && (!token.IsIdentifier(o.Package) || o.Package == "_") {
		return nil, fmt.Errorf("package %q: want a Go identifier", o.Package)
	}
	return o, nil
}

func checkServiceName(name string) error {
	if !serviceNameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("service name %q: want letters, digits, _, - and .", name)
	}
	return nil
}

// normalizeProtocol checks Protocol and fills in it and Address.
func (o *options) normalizeProtocol() error {
	switch o.Protocol {
	case "":
		o.Protocol = svc.ProtocolGRPC
	case svc.ProtocolGRPC, svc.ProtocolREST:
	default:
		return fmt.Errorf("protocol %q: want %q or %q", o.Protocol, svc.ProtocolGRPC, svc.ProtocolREST)
	}
	if o.Kind == KindClient && o.Protocol != svc.ProtocolGRPC {
		return fmt.Errorf("protocol %q: a generated client calls its service over gRPC", o.Protocol)
	}
	if o.Address == "" {
		o.Address = DefaultGRPCAddress
		if o.Protocol == svc.ProtocolREST {
			o.Address = DefaultRESTAddress
		} else if o.Reflect != "" {
			o.Address = o.Reflect
		}
	}
	return nil
}

// source names where the schema comes from, in errors.
func (o *options) source() string {
	if o.Reflect != "" {
		return fmt.Sprintf("reflection from %q", o.Reflect)
	}
	return o.Proto
}

func path2base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// displayPath is the path of a schema file (relative to the proto path) as
// the user named it.
func (o *options) displayPath(file string) string {
	if o.root == "." {
		return file
	}
	return filepath.Join(o.root, filepath.FromSlash(file))
}
