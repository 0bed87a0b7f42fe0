package proto

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/svc"
)

// normalizeReflect checks the options of a generation from a server.
func (o *options) normalizeReflect() (*options, error) {
	if o.Kind != KindService {
		return nil, fmt.Errorf("reflection from %q: only the service files are generated from a server, not %s", o.Reflect, o.Kind)
	}
	if o.Proto != "" {
		return nil, fmt.Errorf("reflection from %q and the file %s: want one of them", o.Reflect, o.Proto)
	}
	if o.ProtoPath != "" {
		return nil, fmt.Errorf("reflection from %q: a proto path applies to a .proto file only", o.Reflect)
	}
	if o.Name != "" {
		if err := checkServiceName(o.Name); err != nil {
			return nil, err
		}
	}
	if err := o.normalizeProtocol(); err != nil {
		return nil, err
	}
	o.root = "."
	return o, nil
}

// loadReflected asks the server at o.Reflect for its services (as the
// engine does for a reflection interface), prints the files that declare
// them and their local imports with protoprint, and compiles the printed
// files back as the engine will: the schema is what installs.
func loadReflected(o *options) (*schema, error) {
	svcs, err := service.ReflectServices(context.Background(), &svc.Interface{Address: o.Reflect, Protocol: svc.ProtocolGRPC})
	if err != nil {
		return nil, err
	}
	s := &schema{src: map[string][]byte{}}
	var printer protoprint.Printer
	var walk func(f protoreflect.FileDescriptor) error
	walk = func(f protoreflect.FileDescriptor) error {
		if _, seen := s.src[f.Path()]; seen || isBuiltin(f.Path()) {
			return nil
		}
		s.src[f.Path()] = nil // marks it seen
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if err := walk(imps.Get(i).FileDescriptor); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := printer.PrintProtoFile(f, &buf); err != nil {
			return fmt.Errorf("%s: print %s: %w", o.source(), f.Path(), err)
		}
		s.src[f.Path()] = buf.Bytes()
		return nil
	}
	for _, sd := range svcs {
		if err := walk(sd.ParentFile()); err != nil {
			return nil, err
		}
	}

	first := svcs[0]
	if o.Name == "" {
		pkg := string(first.ParentFile().Package())
		if pkg == "" {
			return nil, fmt.Errorf("%s: no service name: service %s has no package to name it after", o.source(), first.FullName())
		}
		o.Name = pkg[strings.LastIndexByte(pkg, '.')+1:]
		if err := checkServiceName(o.Name); err != nil {
			return nil, err
		}
	}
	o.file = first.ParentFile().Path()
	o.base = strings.TrimSuffix(path2base(o.file), ".proto")

	compiled := map[string]protoreflect.FileDescriptor{}
	for _, sd := range svcs {
		p := sd.ParentFile().Path()
		fd, ok := compiled[p]
		if !ok {
			if fd, err = service.CompileSchema(s.src, p); err != nil {
				return nil, fmt.Errorf("%s: the printed %s does not compile: %w", o.source(), p, err)
			}
			compiled[p] = fd
		}
		s.services = append(s.services, fd.Services().ByName(sd.Name()))
	}
	s.fd = compiled[o.file]
	if err := s.checkRPCs(o); err != nil {
		return nil, fmt.Errorf("%s: %w", o.source(), err)
	}
	return s, nil
}
