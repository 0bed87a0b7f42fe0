package kgentest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/kgencli"
)

const serviceUsage = "usage: service start [-name N] <file.proto|api.yaml|api.json>"

// cmdService starts a fixture server for a .proto file (gRPC) or an OpenAPI
// document (HTTP) and registers it with the script's engine.
func cmdService(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 || args[0] != "start" {
		ts.Fatalf("%s", serviceUsage)
	}
	var name string
	flags := parse(ts, "service start", serviceUsage, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "the service name (default: the file's base name)")
	})
	if flags.NArg() != 1 {
		ts.Fatalf("%s", serviceUsage)
	}
	arg := flags.Arg(0)
	ext := filepath.Ext(arg)
	switch ext {
	case ".proto", ".yaml", ".yml", ".json":
	default:
		ts.Fatalf("service start: %q is neither a .proto file nor an OpenAPI document (.yaml, .yml, .json)\n%s", arg, serviceUsage)
	}
	h := host(ts, "service start")
	file := ts.MkAbs(arg)
	if _, err := os.Stat(file); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		ts.Fatalf("service start: %s: %v", arg, err)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(file), ext)
	}
	var address string
	if ext == ".proto" {
		address = "tcp://" + startProto(ts, file)
	} else {
		address = "http://" + startOpenAPI(ts, arg, file)
	}
	_, addr, _ := strings.Cut(address, "://")
	ts.Setenv("SERVICE_ADDR", addr)

	out := filepath.Join(ts.MkAbs(".kgen-services"), name)
	var buf bytes.Buffer
	err := kgencli.Run(context.Background(), []string{"gen", "service", "-out", out, "-name", name, "-address", address, file}, nil, &buf, &buf)
	if err != nil {
		ts.Fatalf("service start: kgen gen service: %v\n%s", err, buf.String())
	}
	kgen(ts, false, nil, "service", "create", "-host", h, name, filepath.Join(out, name+".zip"))
}
