package openapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/svc"
)

// generateService returns <Name>.json and <Name>.zip.
func generateService(m *Model) (map[string][]byte, error) {
	js, err := json.MarshalIndent(describe(m), "", "  ")
	if err != nil {
		return nil, err
	}
	js = append(js, '\n')
	// The engine reads what was written: a description it refuses is a bug
	// here, better caught now than at install time.
	if _, err := svc.ParseDescription(js); err != nil {
		return nil, fmt.Errorf("generated description does not parse: %w", err)
	}
	name := m.opts.Name + ".json"
	z, err := pluginzip.Zip(map[string][]byte{name: js, "schemas/" + m.schema: m.src})
	if err != nil {
		return nil, err
	}
	return map[string][]byte{name: js, m.opts.Name + ".zip": z}, nil
}

// describe builds the service description: one REST interface named after
// the service, over the document, with one function per operation it can
// call, named after the operationId.
func describe(m *Model) *svc.Description {
	info := m.doc.Spec.Info
	d := &svc.Description{About: &svc.About{}, Interfaces: map[string]*svc.Interface{}}
	iface := &svc.Interface{
		Address:    m.opts.Address,
		Protocol:   svc.ProtocolREST,
		SchemaType: "openapi",
		SchemaFile: m.schema,
	}
	if info != nil {
		d.About.Description = enUS(strings.TrimSpace(info.Description))
		iface.Description = enUS(strings.TrimSpace(info.Title))
	}
	for _, op := range m.ops {
		iface.Functions = append(iface.Functions, svc.FunctionMapping{
			Name:        op.ID,
			ServiceName: op.ID,
			Description: enUS(strings.TrimSpace(op.Summary)),
		})
	}
	d.Interfaces[m.opts.Name] = iface
	return d
}

// enUS is a description in eKuiper's shape, nil for no text.
func enUS(text string) map[string]string {
	if text == "" {
		return nil
	}
	return map[string]string{"en_US": text}
}
