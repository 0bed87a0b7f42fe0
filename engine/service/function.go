package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/internal/sqlvalue"
	"github.com/kgen-dev/kgen/sdk"
	"github.com/kgen-dev/kgen/svc"
)

// Function returns the external function name, bound to the current
// snapshot: later changes to its service do not affect it.
func (r *Registry) Function(name string) (sdk.Function, bool) {
	f, ok := r.snap.Load().funcs[name]
	if !ok {
		return nil, false
	}
	fn := &function{entry: f, invokers: r.invokers}
	if obs := r.observer.Load(); obs != nil {
		fn.observe = *obs
	}
	return fn, true
}

// CallObserver sees each call of an external function: its service and
// function names, how long the call took, from building the request to
// mapping the response, and whether it succeeded.
type CallObserver func(service, function string, d time.Duration, ok bool)

// ObserveCalls makes the functions obtained from now on report each call to
// f (the engine counts them in its metrics).
func (r *Registry) ObserveCalls(f CallObserver) { r.observer.Store(&f) }

// function is one external function of one rule.
type function struct {
	entry    *funcEntry
	invokers *invokerCache
	observe  CallObserver // nil when calls are not observed
}

func (f *function) IsAggregate() bool { return false }

// Validate checks the argument count against the request when the
// arguments say enough: N>1 arguments must match the field count, and a
// single literal (never a map) needs a one-field request. Literals are
// coerced as Exec would.
func (f *function) Validate(args []sdk.Arg) error {
	name := f.entry.info.FuncName
	if f.entry.operation != nil {
		return f.validateOpenAPI(args)
	}
	if f.entry.method == nil {
		if err := sdk.CheckArgCount(name, args, 2, -1); err != nil {
			return err
		}
		for i, what := range []string{"method", "path"} {
			if a := args[i]; a.Kind == sdk.ArgLiteral {
				if _, ok := a.Value.(string); !ok {
					return fmt.Errorf("function %q: argument %d (%s): want string, got %s", name, i+1, what, sqlvalue.Describe(a.Value))
				}
			}
		}
		return nil
	}
	if len(args) == 1 && args[0].Kind != sdk.ArgLiteral {
		return nil // may be a row or map: unfolded at run time
	}
	// BuildRequest checks the count; non-literals are nil, which it skips.
	// Every argument that is a literal must coerce into its field.
	vals := make([]any, len(args))
	for i, a := range args {
		if a.Kind == sdk.ArgLiteral {
			vals[i] = a.Value
		}
	}
	_, err := svc.BuildRequest(name, f.entry.method.Input(), vals)
	return err
}

// Exec builds the request, calls the rpc and maps the response.
func (f *function) Exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	if f.observe == nil {
		return f.exec(ctx, args)
	}
	start := time.Now()
	res, ok := f.exec(ctx, args)
	f.observe(f.entry.info.ServiceName, f.entry.info.FuncName, time.Since(start), ok)
	return res, ok
}

func (f *function) exec(ctx sdk.FunctionContext, args []any) (any, bool) {
	e := f.entry
	if e.operation != nil {
		res, err := f.execOpenAPI(ctx, args)
		if err != nil {
			return err, false
		}
		return res, true
	}
	if e.method == nil {
		if len(args) < 2 {
			return fmt.Errorf("function %q: want (method, path, args...), got %d arguments", e.info.FuncName, len(args)), false
		}
		method, ok1 := args[0].(string)
		p, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("function %q: want (method string, path string, args...), got %s, %s", e.info.FuncName, sqlvalue.Describe(args[0]), sqlvalue.Describe(args[1])), false
		}
		inv, err := f.invokers.schemalessInvoker(e.invKey, e.iface)
		if err != nil {
			return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
		}
		res, err := inv.Call(ctx, strings.ToUpper(method), p, args[2:])
		if err != nil {
			return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
		}
		return res, true
	}
	if e.iface.Protocol == svc.ProtocolGRPC {
		return f.execGRPC(ctx, args)
	}
	req, err := svc.BuildRequest(e.info.FuncName, e.method.Input(), args)
	if err != nil {
		return err, false
	}
	inv, err := f.invokers.get(e.invKey, e.iface)
	if err != nil {
		return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
	}
	res, err := inv.InvokeSQL(ctx, e.method, req)
	if err != nil {
		return fmt.Errorf("function %q: %w", e.info.FuncName, err), false
	}
	return res, true
}

// invokerCache shares one invoker among the functions of all interfaces
// with the same protocol, address and options, across snapshots; invokers
// are made on first call.
type invokerCache struct {
	mu         sync.Mutex
	invokers   map[string]Invoker
	schemaless map[string]SchemalessInvoker
	openapi    map[string]*restClient
}

func newInvokerCache() *invokerCache {
	return &invokerCache{invokers: map[string]Invoker{}, schemaless: map[string]SchemalessInvoker{}, openapi: map[string]*restClient{}}
}

// invokerKey is the cache key of an interface's invoker; funcEntry keeps
// it, so calls do not recompute it.
func invokerKey(iface *svc.Interface) string {
	opts, _ := json.Marshal(iface.Options)
	return iface.Protocol + " " + iface.Address + " " + string(opts)
}

func (c *invokerCache) get(key string, iface *svc.Interface) (Invoker, error) {
	return cached(c, c.invokers, key, iface, NewInvoker)
}

func (c *invokerCache) schemalessInvoker(key string, iface *svc.Interface) (SchemalessInvoker, error) {
	return cached(c, c.schemaless, key, iface, NewSchemalessInvoker)
}

// cached returns m[key], made by newInv on first use.
func cached[T any](c *invokerCache, m map[string]T, key string, iface *svc.Interface, newInv func(*svc.Interface) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if inv, ok := m[key]; ok {
		return inv, nil
	}
	inv, err := newInv(iface)
	if err != nil {
		return inv, err
	}
	m[key] = inv
	return inv, nil
}

func (c *invokerCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for k, inv := range c.invokers {
		errs = append(errs, inv.Close())
		delete(c.invokers, k)
	}
	for k, inv := range c.schemaless {
		errs = append(errs, inv.Close())
		delete(c.schemaless, k)
	}
	for k, rc := range c.openapi {
		errs = append(errs, rc.Close())
		delete(c.openapi, k)
	}
	return errors.Join(errs...)
}
