package service

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/fserr"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/svc"
	"github.com/kgen-dev/kgen/svc/openapi"
)

// FunctionInfo is one external function, as GET /services/functions lists
// it (with eKuiper's keys).
type FunctionInfo struct {
	FuncName      string
	ServiceName   string
	InterfaceName string
	Addr          string
	// MethodName is the rpc; for a schemaless interface it is empty.
	MethodName string `json:",omitempty"`
}

// Registry holds the external services of an engine root: descriptions in
// <root>/data/services/<name>.json and schemas under
// <root>/data/services/schemas/. Changes take effect at once: each one is
// validated in full, written, and published as a new immutable snapshot.
// A function obtained earlier stays bound to the snapshot it came from, so
// running rules keep their definition until they are restarted.
type Registry struct {
	root   layout.Root
	logger *slog.Logger

	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[snapshot]

	invokers *invokerCache
	observer atomic.Pointer[CallObserver]
	shadow   atomic.Pointer[func(name string) string]
}

// SetShadowing tells the registry which other functions SQL resolves
// before external ones: by(name) says what provides name ("" for
// nothing), and a new or updated service may not define a function of
// such a name.
func (r *Registry) SetShadowing(by func(name string) string) { r.shadow.Store(&by) }

// snapshot is one immutable state of the registry.
type snapshot struct {
	services map[string]*serviceEntry
	funcs    map[string]*funcEntry
}

type serviceEntry struct {
	name string
	desc *svc.Description
	raw  []byte
	// learned is what its reflection interfaces learned from their
	// servers, by interface (see reflection_cache.go).
	learned map[string][]byte
}

// funcEntry is what a function call needs: its interface, and its rpc
// (nil for a schemaless interface).
type funcEntry struct {
	info   FunctionInfo
	iface  *svc.Interface
	invKey string // invokerKey(iface)
	method protoreflect.MethodDescriptor
	// operation is set for an openapi interface (method is then nil).
	operation *openapi.Operation
}

// NewRegistry returns an empty registry for root; call Load to read the
// services on disk.
func NewRegistry(root string, logger *slog.Logger) *Registry {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Registry{root: layout.Root(root), logger: logger, invokers: newInvokerCache()}
	r.snap.Store(&snapshot{services: map[string]*serviceEntry{}, funcs: map[string]*funcEntry{}})
	return r
}

// Load reads every data/services/*.json (in name order), replacing what was
// loaded. A bad file, or one whose functions collide with an earlier file's,
// is logged and skipped; its error is returned with the others.
func (r *Registry) Load() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if err := os.MkdirAll(r.root.Schemas(), 0o755); err != nil {
		return []error{fmt.Errorf("load services: %w", err)}
	}
	paths, err := filepath.Glob(filepath.Join(r.root.Services(), "*.json"))
	if err != nil {
		return []error{fmt.Errorf("load services: %w", err)}
	}
	sort.Strings(paths)
	next := &snapshot{services: map[string]*serviceEntry{}, funcs: map[string]*funcEntry{}}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		err := func() error {
			if err := checkName(name); err != nil {
				return err
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("load service %q: %w", name, err)
			}
			e, funcs, err := r.build(name, raw, nil, true)
			if err != nil {
				return err
			}
			if err := next.checkCollisions(name, funcs); err != nil {
				return fmt.Errorf("load service %q: %w", name, err)
			}
			if err := r.writeLearned(name, e.learned); err != nil {
				r.logger.Warn("keep the rpcs a reflection interface learned", "service", name, "err", err)
			}
			next.services[name] = e
			for _, f := range funcs {
				next.funcs[f.info.FuncName] = f
			}
			return nil
		}()
		if err != nil {
			r.logger.Error("skip service", "file", p, "err", err)
			errs = append(errs, err)
		}
	}
	r.snap.Store(next)
	return errs
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("service name %q: want letters, digits, _, - and .", name)
	}
	return nil
}

// build validates one service: the description is parsed strictly, every
// schema is compiled (schemas shadowing the files on disk), and every
// function is resolved. It returns the entry and its functions. loading
// says the service is read from disk at Load, not registered.
func (r *Registry) build(name string, raw []byte, schemas map[string][]byte, loading bool) (*serviceEntry, []*funcEntry, error) {
	wrap := func(err error) error { return fmt.Errorf("service %q: %w", name, err) }
	// What Load reads was registered by an earlier engine, whose checks
	// may have been fewer: it loads as long as it works, so that an
	// upgrade loses no service; the stricter checks are for new ones.
	parse := parseDescription
	if loading {
		parse = svc.ParseDescription
	}
	desc, err := parse(raw)
	if err != nil {
		return nil, nil, wrap(fmt.Errorf("parse description: %w", err))
	}
	if len(desc.Interfaces) == 0 {
		return nil, nil, wrap(errors.New("no interfaces"))
	}
	var funcs []*funcEntry
	learned := map[string][]byte{}  // reflection interface → what it learned
	seen := map[string]*funcEntry{} // function name → entry
	add := func(ifName string, f *funcEntry) error {
		name := f.info.FuncName
		if sql.IsBuiltin(name) && !loading {
			// The SQL compiler resolves built-ins first: the function
			// would never be called.
			return builtinError(ifName, f)
		}
		if by := r.shadow.Load(); by != nil && !loading {
			if what := (*by)(name); what != "" {
				hint := `rename it in "functions"`
				if f.info.MethodName == "" {
					hint = "name the interface otherwise" // schemaless
				}
				return fmt.Errorf("interface %q: function %q is already %s, which SQL calls instead of an external function; %s", ifName, name, what, hint)
			}
		}
		if other, ok := seen[name]; ok {
			if other.info.InterfaceName == ifName {
				return fmt.Errorf("interface %q: function %q is both rpc %q and rpc %q", ifName, name, other.info.MethodName, f.info.MethodName)
			}
			return fmt.Errorf("function %q is defined by interfaces %q and %q", name, other.info.InterfaceName, ifName)
		}
		seen[name] = f
		funcs = append(funcs, f)
		return nil
	}
	for _, ifName := range slices.Sorted(maps.Keys(desc.Interfaces)) {
		iface := desc.Interfaces[ifName]
		werr := func(err error) error { return wrap(fmt.Errorf("interface %q: %w", ifName, err)) }
		if iface == nil {
			return nil, nil, werr(errors.New("empty"))
		}
		if iface.Address == "" && iface.SchemaType != schemaTypeOpenAPI { // a document may name its server
			return nil, nil, werr(errors.New("missing address"))
		}
		if iface.Protocol != svc.ProtocolGRPC && iface.Protocol != svc.ProtocolREST {
			return nil, nil, werr(fmt.Errorf("protocol %q is not supported, want %q or %q", iface.Protocol, svc.ProtocolGRPC, svc.ProtocolREST))
		}
		info := FunctionInfo{ServiceName: name, InterfaceName: ifName, Addr: iface.Address}
		if iface.Schemaless {
			if iface.Protocol != svc.ProtocolREST {
				return nil, nil, werr(fmt.Errorf("schemaless needs protocol %q", svc.ProtocolREST))
			}
			if iface.SchemaFile != "" || len(iface.Functions) > 0 {
				return nil, nil, werr(errors.New("a schemaless interface takes no schemaFile and no functions"))
			}
			info.FuncName = ifName
			if err := add(ifName, &funcEntry{info: info, iface: iface, invKey: invokerKey(iface)}); err != nil {
				return nil, nil, wrap(err)
			}
			continue
		}
		if iface.SchemaType == schemaTypeOpenAPI {
			ops, err := r.openAPIFunctions(info, iface, schemas)
			if err != nil {
				return nil, nil, werr(err)
			}
			for _, f := range ops {
				if err := add(ifName, f); err != nil {
					return nil, nil, wrap(err)
				}
			}
			continue
		}
		rename := map[string]string{} // rpc → SQL name
		for _, fm := range iface.Functions {
			if fm.Name == "" || fm.ServiceName == "" {
				return nil, nil, werr(errors.New("a function mapping needs name and serviceName"))
			}
			if _, dup := rename[fm.ServiceName]; dup {
				return nil, nil, werr(fmt.Errorf("rpc %q is renamed twice", fm.ServiceName))
			}
			rename[fm.ServiceName] = fm.Name
		}
		var rpcs map[string]protoreflect.MethodDescriptor
		switch iface.SchemaType {
		case "", schemaTypeProtobuf:
			rpcs, err = r.protobufRPCs(iface, schemas)
		case schemaTypeReflection:
			var set []byte
			if rpcs, set, err = r.reflectedRPCs(name, ifName, iface, loading); set != nil {
				learned[ifName] = set
			}
		default:
			err = fmt.Errorf("schemaType %q is not supported, want %q, %q or %q", iface.SchemaType, schemaTypeProtobuf, schemaTypeReflection, schemaTypeOpenAPI)
		}
		if err != nil {
			return nil, nil, werr(err)
		}
		key := invokerKey(iface)
		for _, rpc := range slices.Sorted(maps.Keys(rpcs)) {
			fi := info
			fi.MethodName = rpc
			fi.FuncName = rpc
			if n, ok := rename[rpc]; ok {
				fi.FuncName = n
			}
			if err := add(ifName, &funcEntry{info: fi, iface: iface, invKey: key, method: rpcs[rpc]}); err != nil {
				return nil, nil, wrap(err)
			}
		}
	}
	return &serviceEntry{name: name, desc: desc, raw: raw, learned: learned}, funcs, nil
}

// builtinError refuses the function f of interface ifName, which has the
// name of a SQL built-in, saying how to rename it.
func builtinError(ifName string, f *funcEntry) error {
	name, method := f.info.FuncName, f.info.MethodName
	switch {
	case method == "":
		return fmt.Errorf("interface %q: a schemaless interface's function has its name, and %q is a SQL built-in, which SQL would call instead; name the interface otherwise", ifName, name)
	case name != method:
		return fmt.Errorf("interface %q: function %q (rpc %q) is a SQL built-in; an external function cannot replace it", ifName, name, method)
	}
	what := "rpc"
	if f.iface.SchemaType == schemaTypeOpenAPI {
		what = "operation"
	}
	return fmt.Errorf("interface %q: %s %q has the name of a SQL built-in, which SQL would call instead; rename it: \"functions\": [{\"name\": \"%s%s\", \"serviceName\": %q}]",
		ifName, what, name, ifName, name, name)
}

// protobufRPCs compiles the schema file of iface (schemas shadowing the
// files on disk) and returns its rpcs.
func (r *Registry) protobufRPCs(iface *svc.Interface, schemas map[string][]byte) (map[string]protoreflect.MethodDescriptor, error) {
	if iface.SchemaFile == "" {
		return nil, errors.New("missing schemaFile")
	}
	fd, err := compileSchema(r.root.Schemas(), schemas, iface.SchemaFile)
	if err != nil {
		return nil, err
	}
	return collectRPCs(iface, fileServices(fd), iface.SchemaFile)
}

// checkCollisions fails when a function of service name is already defined
// by another service of s.
func (s *snapshot) checkCollisions(name string, funcs []*funcEntry) error {
	for _, f := range funcs {
		if other, ok := s.funcs[f.info.FuncName]; ok && other.info.ServiceName != name {
			return fmt.Errorf("function %q is already defined by service %q", f.info.FuncName, other.info.ServiceName)
		}
	}
	return nil
}

// Add registers a new service: desc is its description JSON, schemas the
// .proto files it brings (paths relative to schemas/). Nothing is written
// unless all of it is valid. A taken name is an error that matches
// fs.ErrExist.
func (r *Registry) Add(name string, desc []byte, schemas map[string][]byte) error {
	return r.put(name, desc, schemas, false)
}

// Update replaces a registered service. Rules created afterwards use the
// new definition; running rules keep theirs until restarted. An unknown
// name is an error that matches fs.ErrNotExist, as for Delete and Get.
func (r *Registry) Update(name string, desc []byte, schemas map[string][]byte) error {
	return r.put(name, desc, schemas, true)
}

func (r *Registry) put(name string, desc []byte, schemas map[string][]byte, update bool) error {
	verb := "add"
	if update {
		verb = "update"
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s service: %w", verb, err)
	}
	for p := range schemas {
		if err := checkSchemaPath(p); err != nil {
			return fmt.Errorf("%s service %q: %w", verb, name, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.snap.Load()
	_, exists := cur.services[name]
	switch {
	case update && !exists:
		return fmt.Errorf("update service %q: %w", name, fserr.NotFound)
	case !update && exists:
		return fmt.Errorf("add service %q: %w", name, fserr.Exists)
	}
	e, funcs, err := r.build(name, desc, schemas, false)
	if err != nil {
		return fmt.Errorf("%s %w", verb, err)
	}
	if err := cur.checkCollisions(name, funcs); err != nil {
		return fmt.Errorf("%s service %q: %w", verb, name, err)
	}
	if err := r.checkSharedSchemas(cur, name, schemas); err != nil {
		return fmt.Errorf("%s service %q: %w", verb, name, err)
	}
	if err := r.checkSchemaFiles(schemas); err != nil {
		return fmt.Errorf("%s service %q: %w", verb, name, err)
	}
	undo, err := r.writeSchemas(schemas)
	if err != nil {
		return fmt.Errorf("%s service %q: %w", verb, name, err)
	}
	if err := r.writeLearned(name, e.learned); err != nil {
		return errors.Join(fmt.Errorf("%s service %q: %w", verb, name, err), undo())
	}
	// The description is written last: it is what makes the service exist.
	if err := atomicfile.Write(r.root.ServiceFile(name), desc); err != nil {
		return errors.Join(fmt.Errorf("%s service %q: write description: %w", verb, name, err), undo())
	}
	next := cur.without(name)
	next.services[name] = e
	for _, f := range funcs {
		next.funcs[f.info.FuncName] = f
	}
	r.snap.Store(next)
	return nil
}

// checkSharedSchemas refuses to overwrite, with different content, a schema
// file that another service names as its schemaFile or that such a file
// imports, directly or not.
func (r *Registry) checkSharedSchemas(cur *snapshot, name string, schemas map[string][]byte) error {
	for _, p := range slices.Sorted(maps.Keys(schemas)) {
		old, err := os.ReadFile(filepath.Join(r.root.Schemas(), filepath.FromSlash(p)))
		if err != nil || bytes.Equal(old, schemas[p]) {
			continue
		}
		for _, sn := range slices.Sorted(maps.Keys(cur.services)) {
			if sn == name {
				continue
			}
			for _, iface := range cur.services[sn].desc.Interfaces {
				if iface.SchemaFile == p {
					return fmt.Errorf("schema %q is used by service %q and would change", p, sn)
				}
				if iface.SchemaFile != "" && r.imports(iface.SchemaFile)[p] {
					return fmt.Errorf("schema %q is imported by %q of service %q and would change", p, iface.SchemaFile, sn)
				}
			}
		}
	}
	return nil
}

// checkSchemaFiles refuses schemas that cannot be written where the
// schema folder has something else: a file where a folder is needed, a
// folder, link or special file where the schema goes.
func (r *Registry) checkSchemaFiles(schemas map[string][]byte) error {
	for _, p := range slices.Sorted(maps.Keys(schemas)) {
		elems := strings.Split(p, "/")
		for i := 1; i <= len(elems); i++ {
			sub := strings.Join(elems[:i], "/")
			st, err := os.Lstat(filepath.Join(r.root.Schemas(), filepath.FromSlash(sub)))
			if errors.Is(err, fs.ErrNotExist) {
				break // nor does anything below it
			}
			switch {
			case err != nil:
				return fmt.Errorf("schema %q: %w", p, err)
			case i < len(elems) && !st.IsDir():
				return fmt.Errorf("schema %q: schemas/%s is not a folder", p, sub)
			case i == len(elems) && !st.Mode().IsRegular():
				return fmt.Errorf("schema %q: schemas/%s is not a regular file", p, sub)
			}
		}
	}
	return nil
}

// writeSchemas writes the schema files. It returns undo, which puts back
// what was there before (the old files, no new files or folders); when a
// write fails, it has already done that.
func (r *Registry) writeSchemas(schemas map[string][]byte) (undo func() error, err error) {
	type prior struct {
		path    string
		old     []byte
		existed bool
	}
	var written []prior
	var made []string // folders created, outermost first
	undo = func() error {
		var errs []error
		for _, w := range slices.Backward(written) {
			if w.existed {
				errs = append(errs, atomicfile.Write(w.path, w.old))
			} else if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		for _, d := range slices.Backward(made) {
			if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("undo schema writes: %w", err)
		}
		return nil
	}
	base := r.root.Schemas()
	for _, p := range slices.Sorted(maps.Keys(schemas)) {
		full := filepath.Join(base, filepath.FromSlash(p))
		var missing []string
		for d := filepath.Dir(full); d != base && len(d) > len(base); d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil {
				break
			}
			missing = append(missing, d)
		}
		slices.Reverse(missing)
		made = append(made, missing...)
		var old []byte
		st, err := os.Lstat(full)
		existed := err == nil && st.Mode().IsRegular()
		if existed {
			if old, err = os.ReadFile(full); err != nil {
				return nil, errors.Join(fmt.Errorf("schema %q: %w", p, err), undo())
			}
		}
		written = append(written, prior{full, old, existed})
		if err := atomicfile.Write(full, schemas[p]); err != nil {
			return nil, errors.Join(fmt.Errorf("write schema %q: %w", p, err), undo())
		}
	}
	return undo, nil
}

// importPattern matches a .proto import statement.
var importPattern = regexp.MustCompile(`(?m)^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;`)

// imports returns the schema files that file imports under the schemas
// folder, directly or not, as they are on disk.
func (r *Registry) imports(file string) map[string]bool {
	seen := map[string]bool{}
	queue := []string{file}
	for len(queue) > 0 && len(seen) < maxZipEntries {
		f := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(filepath.Join(r.root.Schemas(), filepath.FromSlash(f)))
		if err != nil {
			continue // a well-known type, or missing: compiling reports it
		}
		for _, m := range importPattern.FindAllSubmatch(data, -1) {
			if p := string(m[1]); !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return seen
}

// without copies s less service name and its functions.
func (s *snapshot) without(name string) *snapshot {
	n := &snapshot{services: make(map[string]*serviceEntry, len(s.services)), funcs: make(map[string]*funcEntry, len(s.funcs))}
	for k, v := range s.services {
		if k != name {
			n.services[k] = v
		}
	}
	for k, v := range s.funcs {
		if v.info.ServiceName != name {
			n.funcs[k] = v
		}
	}
	return n
}

// Delete removes a service and its description file. Its schema files stay:
// other services may import them.
func (r *Registry) Delete(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.snap.Load()
	if _, ok := cur.services[name]; !ok {
		return fmt.Errorf("delete service %q: %w", name, fserr.NotFound)
	}
	if err := os.Remove(r.root.ServiceFile(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete service %q: %w", name, err)
	}
	if err := os.RemoveAll(r.reflectionDir(name)); err != nil {
		r.logger.Warn("remove the rpcs a reflection interface learned", "service", name, "err", err)
	}
	r.snap.Store(cur.without(name))
	return nil
}

// Services lists the registered service names, sorted.
func (r *Registry) Services() []string { return slices.Sorted(maps.Keys(r.snap.Load().services)) }

// Get returns the description of a service.
func (r *Registry) Get(name string) (*svc.Description, error) {
	e, ok := r.snap.Load().services[name]
	if !ok {
		return nil, fmt.Errorf("service %q: %w", name, fserr.NotFound)
	}
	// A fresh copy: callers cannot change the snapshot.
	return svc.ParseDescription(e.raw)
}

// Functions lists every external function, sorted by name.
func (r *Registry) Functions() []FunctionInfo {
	s := r.snap.Load()
	out := make([]FunctionInfo, 0, len(s.funcs))
	for _, k := range slices.Sorted(maps.Keys(s.funcs)) {
		out = append(out, s.funcs[k].info)
	}
	return out
}

// Close closes the invokers opened for calls.
func (r *Registry) Close() error { return r.invokers.close() }

// Zip limits, as for plugin zips.
const (
	maxZipFile  = 16 << 20
	maxZipTotal = 64 << 20
	// maxZipEntries bounds the entries of a service zip: a description and
	// its .proto files, never thousands.
	maxZipEntries = 1000
)

// AddZip registers a service from a zip holding <name>.json and
// schemas/** (eKuiper's service zip). Entries are checked as for plugin
// zips (pluginzip.EntryPath and pluginzip.Names: no absolute paths, "..",
// backslashes, NUL bytes, links, special files, setuid bits, twins); other
// files, schema paths over the limits of checkSchemaPath and zips over the
// size and entry limits are refused too.
func (r *Registry) AddZip(name string, data []byte) error {
	desc, schemas, err := readServiceZip(name, data)
	if err != nil {
		return fmt.Errorf("add service %q: %w", name, err)
	}
	return r.Add(name, desc, schemas)
}

// UpdateZip replaces a registered service with the one in a zip, as AddZip
// reads it.
func (r *Registry) UpdateZip(name string, data []byte) error {
	if _, ok := r.snap.Load().services[name]; !ok {
		return fmt.Errorf("update service %q: %w", name, fserr.NotFound)
	}
	desc, schemas, err := readServiceZip(name, data)
	if err != nil {
		return fmt.Errorf("update service %q: %w", name, err)
	}
	return r.Update(name, desc, schemas)
}

// readServiceZip reads the description and schemas of a service zip,
// refusing anything AddZip does not take before anything is written.
func readServiceZip(name string, data []byte) ([]byte, map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath comes with a usable reader; the entries are
		// checked below, each named with the reason.
		return nil, nil, fmt.Errorf("open zip: %w", err)
	}
	// First the names, types and declared sizes of all entries; only then
	// is anything decompressed.
	var files []*zip.File
	lim := pluginzip.Limits{MaxEntries: maxZipEntries, MaxFileSize: maxZipFile, MaxTotalSize: maxZipTotal}
	err = pluginzip.CheckEntries(zr, lim, func(f *zip.File, clean string, isDir bool) error {
		if rel, ok := strings.CutPrefix(clean, "schemas/"); ok {
			if why := schemaPathProblem(rel); why != "" {
				return fmt.Errorf("zip entry %q: %s", pluginzip.Shorten(f.Name), why)
			}
		}
		if isDir {
			return nil
		}
		if clean != name+".json" && !strings.HasPrefix(clean, "schemas/") {
			return fmt.Errorf("zip entry %q: want %s.json or schemas/**", f.Name, name)
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var desc []byte
	schemas := map[string][]byte{}
	for _, f := range files {
		b, err := readZipFile(f)
		if err != nil {
			return nil, nil, err
		}
		if rel, ok := strings.CutPrefix(f.Name, "schemas/"); ok {
			schemas[rel] = b
		} else {
			desc = b
		}
	}
	if desc == nil {
		return nil, nil, fmt.Errorf("zip has no %s.json", name)
	}
	return desc, schemas, nil
}

// readZipFile decompresses one entry, never more than its header
// declares (which readServiceZip has bounded).
func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	switch {
	case errors.Is(err, zip.ErrFormat):
		// While reading, archive/zip says ErrFormat only for data past
		// the declared size.
		return nil, fmt.Errorf("zip entry %q: decompresses to more than the %d bytes its header declares", f.Name, f.UncompressedSize64)
	case err != nil:
		return nil, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	return b, nil
}
