package kgencli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/kgen-dev/kgen/internal/gobuild"
)

var bundleCmd = &command{
	name:    "bundle",
	args:    "-o FILE [-os GOOS] [-arch GOARCH] [-tags TAGS] [-v] <packages>...",
	summary: "build a kgen binary with plugin packages compiled in",
	help: `
Bundle builds FILE: a kgen binary with the plugin packages compiled in
statically, registering their extensions when it starts, as xcaddy builds
Caddy with plugins. It is a full kgen: "FILE serve" serves an engine with
the plugins, "FILE run <dir>" runs a project with them in-process (without
compiling the project's Go source, so no Go toolchain is needed), and
"FILE version" lists the bundled packages. Unlike plugins built with kgen
build, a bundled engine needs no cgo and runs on every platform Go builds
for: Windows, musl-based Linux, other architectures.

packages are folders, optionally ending in /... for every package under
them, or import path patterns of the current module. They may be in
several modules anywhere on disk: the binary is built in a Go workspace of
those modules, so each module's go.mod decides which kgen and dependency
versions are used, and replace directives pointing at local folders work.
Main and internal packages are left out.

-os and -arch cross-compile (GOOS and GOARCH); a cross build has cgo off
unless $CGO_ENABLED says otherwise. Progress goes to stderr; on a
terminal, a status line there also shows how long go build has run.`,
	example: `
kgen bundle -o myengine ./examples/wordcount
./myengine run ./examples/wordcount
kgen bundle -o myengine.exe -os windows -arch amd64 ./plugins/... ../other/plugin`,
	setup: func(fs *flag.FlagSet) runFunc {
		out := fs.String("o", "", "write the binary to `FILE` (required)")
		goos := fs.String("os", "", "build for operating system `GOOS`, e.g. windows (default: the go command's)")
		goarch := fs.String("arch", "", "build for architecture `GOARCH`, e.g. arm64 (default: the go command's)")
		tags := fs.String("tags", "", "comma-separated build `TAGS`")
		verbose := fs.Bool("v", false, "print the go commands and their output")
		return func(c *cli, args []string) error {
			if *out == "" {
				return usageErrorf("-o FILE is required")
			}
			if len(args) == 0 {
				return usageErrorf("want plugin packages, got none")
			}
			opts := gobuild.BundleOptions{GOOS: *goos, GOARCH: *goarch, Progress: c.stderr, Verbose: *verbose, Status: gobuild.StatusWriter(c.stderr)}
			for t := range strings.SplitSeq(*tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					opts.Tags = append(opts.Tags, t)
				}
			}
			ctx, stop := signalContext(c.ctx)
			defer stop()
			if _, err := gobuild.Bundle(ctx, *out, args, opts); err != nil {
				return fmt.Errorf("bundle: %w", err)
			}
			fmt.Fprintf(c.stderr, "wrote %s\n", *out)
			return nil
		}
	},
}
