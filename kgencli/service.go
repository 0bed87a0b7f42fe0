package kgencli

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/pluginzip"
)

var serviceCmd = &command{
	name: "service",
	args: `[-host URL] create <name> <file.zip|name.json> | update <name> <file.zip|name.json>
[-host URL] list | show <name> | functions | delete <name>`,
	summary: "register, list, show, update and delete the external services of a running engine",
	help: `
Service manages the external services of a running engine: each rpc of a
service's .proto becomes a SQL function that calls the service over gRPC
or REST. create and update send a service zip (<name>.json, the service
description, plus schemas/**, the .proto files; kgen gen service makes
one) to the engine, which checks all of it before anything is written.
Instead of a zip, give the description <name>.json: the .proto files of
the schemas/ folder beside it (or, without one, those beside it) are sent
with it.

Changes take effect at once: rules started afterwards use the new
definition, running rules keep theirs until they are restarted. functions
lists the SQL functions of all services.` + hostHelp,
	example: `
kgen gen service features.proto --out build && kgen service create features build/features.zip
kgen service functions
kgen service delete features`,
	setup: func(fs *flag.FlagSet) runFunc {
		return clientCommand([]subcommand{
			{"create", 2, "<name> <file.zip|name.json>", sendServiceZip((*api.Client).CreateService)},
			{"update", 2, "<name> <file.zip|name.json>", sendServiceZip((*api.Client).UpdateService)},
			{"list", 0, "", func(c *cli, cl *api.Client, args []string) error {
				return c.printLines(cl.Services(c.ctx))
			}},
			{"show", 1, "<name>", func(c *cli, cl *api.Client, args []string) error {
				return c.printJSON(cl.Service(c.ctx, args[0]))
			}},
			{"functions", 0, "", func(c *cli, cl *api.Client, args []string) error {
				return c.printJSON(cl.ServiceFunctions(c.ctx))
			}},
			{"delete", 1, "<name>", func(c *cli, cl *api.Client, args []string) error {
				return c.println(cl.DeleteService(c.ctx, args[0]))
			}},
		})(fs)
	},
}

// sendServiceZip is create or update: send reads or packs the zip of
// <name> <file> and sends it.
func sendServiceZip(send func(*api.Client, context.Context, string, []byte) (string, error)) func(*cli, *api.Client, []string) error {
	return func(c *cli, cl *api.Client, args []string) error {
		data, err := serviceZip(args[0], args[1])
		if err != nil {
			return err
		}
		return c.println(send(cl, c.ctx, args[0], data))
	}
}

// maxServiceZip bounds a service zip read by the CLI.
const maxServiceZip = 64 << 20

// serviceZip reads a service zip, or packs one from a description file and
// the .proto files of the schemas/ folder beside it (or beside it).
func serviceZip(name, file string) ([]byte, error) {
	if !strings.EqualFold(filepath.Ext(file), ".json") {
		return readFile(file, maxServiceZip)
	}
	desc, err := readFile(file, maxDefinition)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(file)
	schemaDir := filepath.Join(dir, "schemas")
	recursive := true
	if st, err := os.Stat(schemaDir); err != nil || !st.IsDir() {
		schemaDir, recursive = dir, false
	}
	entries := map[string][]byte{name + ".json": desc}
	err = filepath.WalkDir(schemaDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != schemaDir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(p) != ".proto" || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(schemaDir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		entries["schemas/"+filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pack service %q from %s: %w", name, file, err)
	}
	return pluginzip.Zip(entries)
}
