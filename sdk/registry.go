package sdk

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
)

var registry = struct {
	sync.RWMutex
	sources   map[string]func() Source
	sinks     map[string]func() Sink
	functions map[string]func() Function
	errs      []error
}{
	sources:   map[string]func() Source{},
	sinks:     map[string]func() Sink{},
	functions: map[string]func() Function{},
}

// RegisterSource makes a source type known to the engine under name. The
// constructor is called once per rule instance. Registration mistakes (a bad
// name, a duplicate, a nil constructor) do not panic; the engine reports them
// from RegistrationErrors when it starts.
func RegisterSource(name string, newSource func() Source) {
	register(KindSource, name, newSource, registry.sources)
}

// RegisterSink makes a sink type known to the engine under name.
func RegisterSink(name string, newSink func() Sink) {
	register(KindSink, name, newSink, registry.sinks)
}

// RegisterFunction makes a SQL function known to the engine under name.
func RegisterFunction(name string, newFunction func() Function) {
	register(KindFunction, name, newFunction, registry.functions)
}

func register[T any](kind Kind, name string, ctor func() T, into map[string]func() T) {
	registry.Lock()
	defer registry.Unlock()
	err := ValidateName(name)
	switch {
	case err != nil:
	case ctor == nil:
		err = fmt.Errorf("nil constructor")
	case into[name] != nil:
		err = fmt.Errorf("registered twice")
	}
	if err != nil {
		registry.errs = append(registry.errs, fmt.Errorf("register %s %q: %w", kind, name, err))
		return
	}
	into[name] = ctor
}

// LookupSource returns the constructor registered for a source type.
func LookupSource(name string) (func() Source, bool) {
	registry.RLock()
	defer registry.RUnlock()
	f, ok := registry.sources[name]
	return f, ok
}

// LookupSink returns the constructor registered for a sink type.
func LookupSink(name string) (func() Sink, bool) {
	registry.RLock()
	defer registry.RUnlock()
	f, ok := registry.sinks[name]
	return f, ok
}

// LookupFunction returns the constructor registered for a function.
func LookupFunction(name string) (func() Function, bool) {
	registry.RLock()
	defer registry.RUnlock()
	f, ok := registry.functions[name]
	return f, ok
}

// Registered returns the sorted names registered for a kind.
func Registered(kind Kind) []string {
	registry.RLock()
	defer registry.RUnlock()
	var names []string
	switch kind {
	case KindSource:
		names = slices.Collect(maps.Keys(registry.sources))
	case KindSink:
		names = slices.Collect(maps.Keys(registry.sinks))
	case KindFunction:
		names = slices.Collect(maps.Keys(registry.functions))
	}
	sort.Strings(names)
	return names
}

// RegistrationErrors returns every registration that was refused.
func RegistrationErrors() []error {
	registry.RLock()
	defer registry.RUnlock()
	return append([]error(nil), registry.errs...)
}
