package proto

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/svc"
)

// generateService returns <Name>.json and <Name>.zip, and for a server's
// services the .proto files printed from it, by import path.
func generateService(o *options, s *schema) (map[string][]byte, error) {
	desc := describe(o, s)
	js, err := json.MarshalIndent(desc, "", "  ")
	if err != nil {
		return nil, err
	}
	js = append(js, '\n')
	// The engine reads what was written: a description it refuses is a bug
	// here, better caught now than at install time.
	if _, err := svc.ParseDescription(js); err != nil {
		return nil, fmt.Errorf("generated description does not parse: %w", err)
	}
	entries := map[string][]byte{o.Name + ".json": js}
	for p, b := range s.src {
		entries["schemas/"+p] = b
	}
	z, err := pluginzip.Zip(entries)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{o.Name + ".json": js, o.Name + ".zip": z}
	if o.Reflect != "" {
		// The files were learned from a server: they are output too.
		for p, b := range s.src {
			out[p] = b
		}
	}
	return out, nil
}

// describe builds the service description: one interface per service,
// named after it and limited to it (services) in the file that declares
// it, with one function per rpc named after the rpc.
func describe(o *options, s *schema) *svc.Description {
	d := &svc.Description{About: &svc.About{}, Interfaces: map[string]*svc.Interface{}}
	if c := fileComment(s.fd); c != "" {
		d.About.Description = enUS(c)
	}
	for _, sd := range s.services {
		if sd.Methods().Len() == 0 {
			continue
		}
		iface := &svc.Interface{
			Address:     o.Address,
			Protocol:    o.Protocol,
			SchemaType:  "protobuf",
			SchemaFile:  sd.ParentFile().Path(),
			Services:    []string{string(sd.Name())},
			Description: enUS(comment(sd)),
		}
		for j := 0; j < sd.Methods().Len(); j++ {
			m := sd.Methods().Get(j)
			iface.Functions = append(iface.Functions, svc.FunctionMapping{
				Name:        string(m.Name()),
				ServiceName: string(m.Name()),
				Description: enUS(comment(m)),
			})
		}
		d.Interfaces[string(sd.Name())] = iface
	}
	return d
}

// fileComment is the comment that leads the syntax statement, else the
// package statement: what the file says about itself.
func fileComment(fd protoreflect.FileDescriptor) string {
	for _, field := range []int32{12, 2} { // FileDescriptorProto.syntax, .package
		loc := fd.SourceLocations().ByPath(protoreflect.SourcePath{field})
		if c := cleanComment(loc.LeadingComments); c != "" {
			return c
		}
	}
	return ""
}

// enUS is a description in eKuiper's shape, nil for no text.
func enUS(text string) map[string]string {
	if text == "" {
		return nil
	}
	return map[string]string{"en_US": text}
}
