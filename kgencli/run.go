package kgencli

import (
	"context"
	"errors"
	"flag"

	"github.com/kgen-dev/kgen/engine/runner"
)

var runCmd = &command{
	name:    "run",
	args:    "[-timeout D] [-log LEVEL] <dir>",
	summary: "run a plugin project once: its plugins, streams, rules and input",
	help: `
Run starts a throwaway engine in the foreground with the project's plugin
packages compiled in from source, creates the project's streams and rules,
prints every row the rules output as a line of JSON (sorted keys; prefixed
with "<rule id>: " when there are several rules) and exits when the input is
done: when every rule has read its bounded input (the file source) to the end.

A project folder holds:

	*.go (+ sub-packages)  plugin packages, registering with sdk.Register* in init()
	streams/*.sql          CREATE STREAM statements (";"-separated), by file name
	rules/*.json           rule JSON files, created by file name
	input/                 sample input: the file source's folder

Without Go packages the project runs in this kgen binary. Otherwise kgen
generates a main package importing them, builds it with the go command in a
workspace with the project's module (so the project's go.mod picks the kgen
version, replace directives included), caches the binary under the user
cache folder and runs it. The run fails (status 1) naming the file when a
stream or rule cannot be created or started, when a rule fails, and when
-timeout passes with rules still running.`,
	example: `
kgen run ./examples/wordcount
kgen run -timeout 30s -log info .`,
	setup: func(fs *flag.FlagSet) runFunc {
		timeout := fs.Duration("timeout", 0, "fail if rules still run after `D`, e.g. 30s (default: no limit)")
		level := fs.String("log", "warn", "engine log `LEVEL` on stderr: debug, info, warn, error or off")
		return func(c *cli, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want one project folder, got %d arguments", len(args))
			}
			logger, err := runner.NewLogger(c.stderr, *level)
			if err != nil {
				return usageErrorf("%v", err)
			}
			ctx, stop := signalContext(c.ctx)
			defer stop()
			err = runner.RunDir(ctx, args[0], c.stdout, c.stderr, runner.Options{Timeout: *timeout, Logger: logger})
			var exit *runner.ExitError
			switch {
			case errors.As(err, &exit):
				return quietError{exit.Code}
			case errors.Is(err, context.Canceled):
				return quietError{130}
			}
			return err
		}
	},
}
