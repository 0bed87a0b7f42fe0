package service

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/kgen-dev/kgen/sdk"
	"github.com/kgen-dev/kgen/svc"
	"github.com/kgen-dev/kgen/svc/openapi"
)

// schemaTypeOpenAPI marks an interface whose schemaFile is an OpenAPI
// document: each operation is a function named by its operationId.
const schemaTypeOpenAPI = "openapi"

// openAPIFunctions resolves the functions of an openapi interface. The
// document is read from schemas (files being added) or the schema folder.
// The address, when given, replaces the document's first server.
// Operations kgen cannot call are logged and left out.
func (r *Registry) openAPIFunctions(info FunctionInfo, iface *svc.Interface, schemas map[string][]byte) ([]*funcEntry, error) {
	if iface.Protocol != svc.ProtocolREST {
		return nil, fmt.Errorf("schemaType %q needs protocol %q, got %q", schemaTypeOpenAPI, svc.ProtocolREST, iface.Protocol)
	}
	if len(iface.Services) > 0 {
		return nil, errors.New("services names protobuf services: an openapi interface takes none")
	}
	if iface.SchemaFile == "" {
		return nil, errors.New("missing schemaFile")
	}
	data, err := r.readSchema(schemas, iface.SchemaFile)
	if err != nil {
		return nil, err
	}
	doc, err := openapi.Load(data, iface.SchemaFile)
	if err != nil {
		return nil, fmt.Errorf("schema %w", err)
	}
	for _, s := range doc.Skipped {
		r.logger.Warn("skip operation", "service", info.ServiceName, "interface", info.InterfaceName, "schema", iface.SchemaFile, "operation", s.String())
	}
	// The interface the calls use: its address is the effective base.
	eff := *iface
	if eff.Address == "" {
		eff.Address = doc.DefaultBase()
		if eff.Address == "" {
			return nil, fmt.Errorf("missing address: %s names no server", iface.SchemaFile)
		}
	}
	if u, err := url.Parse(eff.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("address %q: want http(s)://host:port[/base]", eff.Address)
	}
	info.Addr = eff.Address
	rename := map[string]string{} // operationId → SQL name
	for _, fm := range iface.Functions {
		if fm.Name == "" || fm.ServiceName == "" {
			return nil, errors.New("a function mapping needs name and serviceName")
		}
		if _, dup := rename[fm.ServiceName]; dup {
			return nil, fmt.Errorf("operation %q is renamed twice", fm.ServiceName)
		}
		if doc.Operation(fm.ServiceName) == nil {
			for _, s := range doc.Skipped {
				if s.OperationID == fm.ServiceName {
					return nil, fmt.Errorf("function %q: operation %q is not supported: %s", fm.Name, fm.ServiceName, s.Reason)
				}
			}
			return nil, fmt.Errorf("function %q: no operation %q in %s", fm.Name, fm.ServiceName, iface.SchemaFile)
		}
		rename[fm.ServiceName] = fm.Name
	}
	if len(doc.Operations) == 0 {
		return nil, fmt.Errorf("%s defines no supported operation", iface.SchemaFile)
	}
	key := invokerKey(&eff)
	funcs := make([]*funcEntry, 0, len(doc.Operations))
	for _, op := range doc.Operations {
		fi := info
		fi.MethodName = op.ID
		fi.FuncName = op.ID
		if n, ok := rename[op.ID]; ok {
			fi.FuncName = n
		}
		funcs = append(funcs, &funcEntry{info: fi, iface: &eff, invKey: key, operation: op})
	}
	return funcs, nil
}

// readSchema reads a schema file: from overlay if there, else from the
// schema folder.
func (r *Registry) readSchema(overlay map[string][]byte, file string) ([]byte, error) {
	if err := checkSchemaPath(file); err != nil {
		return nil, err
	}
	if b, ok := overlay[file]; ok {
		return b, nil
	}
	b, err := os.ReadFile(filepath.Join(r.root.Schemas(), filepath.FromSlash(file)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("schema %q: file not found", file)
	}
	if err != nil {
		return nil, fmt.Errorf("schema %q: %w", file, err)
	}
	return b, nil
}

// validateOpenAPI checks a call of an operation at compile time.
func (f *function) validateOpenAPI(args []sdk.Arg) error {
	return f.entry.operation.Validate(args)
}

// execOpenAPI builds the operation's request, sends it through the
// interface's REST client (its timeout, retries, headers and TLS options)
// and decodes the response by the document's schema.
func (f *function) execOpenAPI(ctx sdk.FunctionContext, args []any) (any, error) {
	e := f.entry
	var creds openapi.Credentials
	if o := e.iface.Options; o != nil {
		creds = o.Credentials
	}
	req, err := e.operation.NewRequest(ctx, e.iface.Address, args, creds)
	if err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("function %q: %w", e.info.FuncName, err)
		}
	}
	c, err := f.invokers.openAPIClient(e.invKey, e.iface)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", e.info.FuncName, err)
	}
	res, err := c.doWithHeader(ctx, req.Method, req.URL.String(), req.Header, body)
	if err != nil {
		return nil, fmt.Errorf("function %q: %w", e.info.FuncName, err)
	}
	h := http.Header{}
	if res.contentType != "" {
		h.Set("Content-Type", res.contentType)
	}
	return e.operation.DecodeResponse(res.status, h, res.body)
}

// openAPIClient returns the REST client of an openapi interface.
func (c *invokerCache) openAPIClient(key string, iface *svc.Interface) (*restClient, error) {
	return cached(c, c.openapi, key, iface, newRESTClient)
}
