package kgencli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/kgen-dev/kgen/engine/runner"
	"github.com/kgen-dev/kgen/internal/gobuild"
)

var runCmd = &command{
	name:    "run",
	args:    "[-timeout D] [-until N] [-log LEVEL] <dir>",
	summary: "run a plugin project once: its plugins, streams, rules and input",
	help: `
Run starts a throwaway engine in the foreground with the project's plugin
packages compiled in from source, creates the project's streams and rules,
prints every row the rules output as a line of JSON (sorted keys; prefixed
with "<rule id>: " when there are several rules) and exits when the input is
done: when every rule has read its bounded input (the file source) to the end.
With -until N it exits, with status 0, after N rows, or at the end of the
input if that comes first: the way to stop rules over sources that never end
(mqtt, memory, most plugin sources).

A project folder holds:

	*.go (+ sub-packages)  plugin packages, registering with sdk.Register* in init()
	streams/*.sql          CREATE STREAM statements (";"-separated), by file name
	rules/*.json           rule JSON files, created by file name
	input/                 sample input: the file source's folder
	etc/                   optional, as in an engine root: kgen.yaml, source
	                       properties (sources/<type>.yaml; a relative file
	                       source path is relative to the project)

Without Go packages the project runs in this kgen binary. Otherwise kgen
generates a main package importing them, builds it with the go command in a
workspace with the project's module (so the project's go.mod picks the kgen
version, replace directives included), caches the binary under the user
cache folder and runs it; on a terminal, stderr shows what is being built
and for how long. The run fails (status 1) naming the file when a
stream or rule cannot be created or started, when a rule fails, and when
-timeout passes with rules still running.`,
	example: `
kgen run ./examples/wordcount
kgen run -timeout 30s -log info .
kgen run -until 10 ./sensors`,
	setup: func(fs *flag.FlagSet) runFunc {
		timeout := fs.Duration("timeout", 0, "fail if rules still run after `D`, e.g. 30s (default: no limit)")
		until := fs.Int("until", 0, "stop, with status 0, after `N` output rows (default: when the input ends)")
		level := fs.String("log", "warn", "engine log `LEVEL` on stderr: debug, info, warn, error or off")
		return func(c *cli, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want one project folder, got %d arguments", len(args))
			}
			if *until < 0 {
				return usageErrorf("-until %d: want a number of rows above zero", *until)
			}
			logger, err := runner.NewLogger(c.stderr, *level)
			if err != nil {
				return usageErrorf("%v", err)
			}
			ctx, stop := signalContext(c.ctx)
			defer stop()
			err = runProject(ctx, c, args[0], *level, runner.Options{Timeout: *timeout, Until: *until, Logger: logger})
			if errors.Is(err, context.Canceled) {
				return quietError{130}
			}
			return err
		}
	},
}

// runProject runs the project in dir in this process when it has no plugin
// packages or when this kgen is a bundled engine (whose extensions are
// compiled in); otherwise in an engine built with its plugin packages.
func runProject(ctx context.Context, c *cli, dir, level string, opts runner.Options) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("run %q: %w", dir, err)
	}
	if runner.Bundled() != nil {
		return runner.Run(ctx, dir, c.stdout, opts)
	}
	exe, err := gobuild.Engine(ctx, dir, gobuild.EngineOptions{Status: gobuild.StatusWriter(c.stderr)})
	switch {
	case errors.Is(err, gobuild.ErrNoPackages):
		return runner.Run(ctx, dir, c.stdout, opts)
	case err != nil:
		return err
	}
	return runEngine(ctx, c, exe, dir, level, opts)
}

// runEngine runs an engine kgen run built (its main is runner.Main) on the
// project in dir, with its output on this kgen's stdout and stderr. An
// engine that fails has printed its error: its status becomes kgen's.
func runEngine(ctx context.Context, c *cli, exe, dir, level string, opts runner.Options) error {
	args := []string{"-log", level}
	if opts.Timeout > 0 {
		args = append(args, "-timeout", opts.Timeout.String())
	}
	if opts.Until > 0 {
		args = append(args, "-until", strconv.Itoa(opts.Until))
	}
	cmd := exec.CommandContext(ctx, exe, append(args, "--", dir)...)
	cmd.Stdout, cmd.Stderr = c.stdout, c.stderr
	// On interrupt, let the engine stop its rules and print what it has.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return quietError{exit.ExitCode()}
	case err != nil:
		return fmt.Errorf("run %q: start engine: %w", dir, err)
	}
	return nil
}
