package kgencli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// Main runs kgen with the process arguments and exits: status 0 on success,
// 2 on a usage error, the engine's status for `kgen run`, else 1.
func Main() {
	err := Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err == nil {
		os.Exit(0)
	}
	var q quietError
	if !errors.As(err, &q) {
		fmt.Fprintln(os.Stderr, "kgen:", err)
	}
	os.Exit(ExitCode(err))
}

// ExitCode is the process status for an error Run returned.
func ExitCode(err error) int {
	var u *usageError
	var q quietError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	case errors.As(err, &q):
		return q.code
	}
	return 1
}

// usageError is a command line mistake; its text ends with the usage.
type usageError struct {
	err   error
	usage string
}

func (e *usageError) Error() string { return e.err.Error() + "\n\n" + strings.TrimRight(e.usage, "\n") }
func (e *usageError) Unwrap() error { return e.err }

// quietError is a failure that was already reported (an engine binary that
// printed its own error), with the status to exit with.
type quietError struct{ code int }

func (e quietError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// cli is one invocation.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type runFunc func(c *cli, args []string) error

type command struct {
	name    string
	args    string // synopsis after "kgen <name>", one line per form
	summary string // one line for the command list
	help    string // paragraphs after the synopsis
	example string
	// setup defines the command's flags on fs and returns the function that
	// runs the command with the arguments left after the flags.
	setup func(fs *flag.FlagSet) runFunc
}

var commands []*command

func init() {
	// Filled here, not in the declaration, because help refers to the table.
	commands = []*command{serveCmd, streamCmd, ruleCmd, stateCmd, pubCmd, subCmd, runCmd, testCmd, buildCmd, bundleCmd, pluginCmd, serviceCmd, packCmd, newCmd, genCmd, versionCmd, helpCmd}
}

func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return commands[i]
}

// Run runs kgen with args (without the program name). Output goes to stdout
// and stderr; ctx ending stops a long-running command like serve.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return &usageError{errors.New("no command"), usage()}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	cmd := lookup(args[0])
	if cmd == nil {
		return &usageError{fmt.Errorf("unknown command %q", args[0]), usage()}
	}
	fs := flag.NewFlagSet("kgen "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage errors are reported once, by Main
	run := cmd.setup(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, cmd.usage(fs))
			return nil
		}
		return &usageError{err, cmd.usage(fs)}
	}
	err := run(c, fs.Args())
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, cmd.usage(fs))
		return nil
	}
	var u *usageError
	if errors.As(err, &u) && u.usage == "" {
		u.usage = cmd.usage(fs)
	}
	return err
}

// usageErrorf reports a bad argument; Run adds the command's usage.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

func usage() string {
	var b strings.Builder
	b.WriteString("kgen builds, runs and tests extensions of the kgen stream engine.\n\n")
	b.WriteString("Usage:\n\n\tkgen <command> [arguments]\n\nCommands:\n\n")
	var list strings.Builder
	tw := tabwriter.NewWriter(&list, 0, 8, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "%s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	for line := range strings.Lines(list.String()) {
		b.WriteString("\t" + line)
	}
	b.WriteString("\nRun \"kgen help <command>\" (or kgen <command> -h) for details.\n")
	return b.String()
}

// usage is a command's full help: synopsis, description, flags, example.
func (c *command) usage(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("Usage:\n\n")
	for line := range strings.Lines(c.args) {
		fmt.Fprintf(&b, "\tkgen %s %s", c.name, line)
	}
	b.WriteString("\n\n")
	if c.help != "" {
		b.WriteString(strings.TrimSpace(c.help))
		b.WriteString("\n\n")
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("Flags:\n\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		b.WriteString("\n")
	}
	if c.example != "" {
		b.WriteString("Example:\n\n")
		for line := range strings.Lines(strings.TrimSpace(c.example)) {
			b.WriteString("\t" + strings.TrimRight(line, "\n") + "\n")
		}
	}
	return b.String()
}

var helpCmd = &command{
	name:    "help",
	args:    "[command]",
	summary: "show help for kgen or one of its commands",
	example: "kgen help run",
	setup: func(fs *flag.FlagSet) runFunc {
		return func(c *cli, args []string) error {
			switch len(args) {
			case 0:
				fmt.Fprint(c.stdout, usage())
				return nil
			case 1:
			default:
				return usageErrorf("want at most one command, got %d arguments", len(args))
			}
			cmd := lookup(args[0])
			if cmd == nil {
				return &usageError{fmt.Errorf("unknown command %q", args[0]), usage()}
			}
			cfs := flag.NewFlagSet("kgen "+cmd.name, flag.ContinueOnError)
			cmd.setup(cfs)
			fmt.Fprint(c.stdout, cmd.usage(cfs))
			return nil
		}
	},
}
