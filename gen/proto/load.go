package proto

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kgen-dev/kgen/engine/service"
)

// schema is the compiled .proto file and the local files it is made of.
type schema struct {
	fd protoreflect.FileDescriptor
	// local are fd and the files it imports, directly or not, that are not
	// built in: imports before importers, fd last.
	local []protoreflect.FileDescriptor
	// src holds the source of each local file, by import path.
	src map[string][]byte
	// services are those that become interfaces: fd's, in declaration
	// order, or those a server reflected, by full name.
	services []protoreflect.ServiceDescriptor
	// rpcs are the rpcs of the services, in order.
	rpcs []protoreflect.MethodDescriptor
}

// load compiles the .proto file as the engine does (service.LoadSchema), so
// that whatever generates also installs, and checks its rpcs.
func load(o *options) (*schema, error) {
	if _, err := os.Stat(o.Proto); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: file not found", o.Proto)
	}
	fd, err := service.LoadSchema(o.root, o.file)
	if err != nil {
		return nil, o.schemaError(err)
	}
	s := &schema{fd: fd, src: map[string][]byte{}, services: fileServices(fd)}
	seen := map[string]bool{}
	var walk func(f protoreflect.FileDescriptor) error
	walk = func(f protoreflect.FileDescriptor) error {
		if seen[f.Path()] || isBuiltin(f.Path()) {
			return nil
		}
		seen[f.Path()] = true
		imps := f.Imports()
		for i := 0; i < imps.Len(); i++ {
			if err := walk(imps.Get(i).FileDescriptor); err != nil {
				return err
			}
		}
		b, err := os.ReadFile(o.displayPath(f.Path()))
		if err != nil {
			return err
		}
		s.local = append(s.local, f)
		s.src[f.Path()] = b
		return nil
	}
	if err := walk(fd); err != nil {
		return nil, err
	}
	if o.messagesOnly {
		return s, nil
	}
	if err := s.checkRPCs(o); err != nil {
		return nil, err
	}
	return s, nil
}

// isBuiltin reports whether a schema file is built into the engine (and so
// into the generated code's dependencies): the well-known types and
// google/api.
func isBuiltin(path string) bool {
	return strings.HasPrefix(path, "google/protobuf/") || strings.HasPrefix(path, "google/api/")
}

// schemaPosRE matches the position that starts a compile error.
var schemaPosRE = regexp.MustCompile(`^(\S+?\.proto)(:\d+:\d+: )`)

// schemaError turns service.LoadSchema's error into one whose position
// names the file as the user does.
func (o *options) schemaError(err error) error {
	msg, ok := strings.CutPrefix(err.Error(), "schema ")
	if !ok {
		return err
	}
	if m := schemaPosRE.FindStringSubmatch(msg); m != nil {
		return errors.New(o.displayPath(m[1]) + m[2] + msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", o.Proto, msg)
}

// checkRPCs refuses streaming rpcs (external functions are unary), a file
// without rpcs and, where rpc names become function names, two rpcs of one
// name.
func (s *schema) checkRPCs(o *options) error {
	byName := map[protoreflect.Name]protoreflect.MethodDescriptor{}
	for _, sd := range s.services {
		ms := sd.Methods()
		for j := 0; j < ms.Len(); j++ {
			m := ms.Get(j)
			if m.IsStreamingClient() || m.IsStreamingServer() {
				return fmt.Errorf("%s: rpc %s: streaming rpcs are not supported (external functions are unary)", o.pos(m), m.FullName())
			}
			if prev, ok := byName[m.Name()]; ok && o.Kind != KindServer {
				return fmt.Errorf("%s: rpc %s has the same name as rpc %s at %s; each rpc becomes a function named after it, so rpc names must be unique in a file",
					o.pos(m), m.FullName(), prev.FullName(), o.pos(prev))
			}
			byName[m.Name()] = m
			s.rpcs = append(s.rpcs, m)
		}
	}
	if len(s.rpcs) == 0 {
		return fmt.Errorf("%s: no service with an rpc", o.source())
	}
	return nil
}

// fileServices lists the services of fd, in declaration order.
func fileServices(fd protoreflect.FileDescriptor) []protoreflect.ServiceDescriptor {
	out := make([]protoreflect.ServiceDescriptor, fd.Services().Len())
	for i := range out {
		out[i] = fd.Services().Get(i)
	}
	return out
}

// pos is the file:line:col of d's declaration.
func (o *options) pos(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	return fmt.Sprintf("%s:%d:%d", o.displayPath(d.ParentFile().Path()), loc.StartLine+1, loc.StartColumn+1)
}

// comment is the leading comment of d, without comment markers and
// surrounding space; "" when there is none.
func comment(d protoreflect.Descriptor) string {
	return cleanComment(d.ParentFile().SourceLocations().ByDescriptor(d).LeadingComments)
}

func cleanComment(c string) string {
	lines := strings.Split(strings.TrimSpace(c), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
