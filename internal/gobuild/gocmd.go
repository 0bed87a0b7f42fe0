package gobuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// goCmd runs the go command for one build.
type goCmd struct {
	ctx context.Context
	// verbose, if not nil, gets each command as a shell line and what it
	// prints on stderr (go build's compiler messages, downloads).
	verbose io.Writer
	// status, if not nil, is a terminal that shows what go build builds and
	// for how long, while it runs (see StatusWriter).
	status io.Writer
}

// newGoCmd is the go command of a build that writes its steps to progress
// (nil: nowhere), which also gets the commands when verbose, and shows
// what it builds on status. It returns progress, never nil.
func newGoCmd(ctx context.Context, progress, status io.Writer, verbose bool) (goCmd, io.Writer) {
	if progress == nil {
		progress = io.Discard
	}
	g := goCmd{ctx: ctx, status: status}
	if verbose {
		g.verbose = progress
	}
	return g, progress
}

// run runs the go command in dir, with env (KEY=value) added to the
// environment, and returns its stdout. Its error is what the command
// printed on stderr (which names what failed: "no Go files in ...",
// "./x.go:3:13: ..."), for the caller to wrap with its step.
func (g goCmd) run(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(g.ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if g.verbose != nil {
		logCommand(g.verbose, cmd, env)
		cmd.Stderr = io.MultiWriter(g.verbose, &stderr)
	}
	out, err := cmd.Output()
	if g.ctx.Err() != nil {
		return nil, g.ctx.Err()
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

// build runs go build in the main module folder mainDir of the workspace
// goWork, writing exe. flags follow -buildvcs=false (the main module is
// generated, without version control); env selects the platform and cgo.
// This is the one place kgen runs go build, for plugins, run engines and
// bundles alike; what names the build on the status line.
func (g goCmd) build(what, mainDir, goWork string, flags, env []string, exe string) error {
	if g.verbose == nil { // else go's own output would break the line up
		defer startStatus(g.status, what)()
	}
	// -mod flags in GOFLAGS conflict with workspace mode.
	env = append([]string{"GOWORK=" + goWork, "GOFLAGS="}, env...)
	args := append([]string{"build", "-buildvcs=false"}, flags...)
	_, err := g.run(mainDir, env, append(args, "-o", exe, ".")...)
	return err
}

// logCommand prints cmd as a shell line to w: the folder it runs in (when
// not the current one), the environment variables it sets, and its
// arguments.
func logCommand(w io.Writer, cmd *exec.Cmd, env []string) {
	var b strings.Builder
	if cmd.Dir != "" {
		fmt.Fprintf(&b, "cd %s && ", shellQuote(cmd.Dir))
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "%s=%s ", k, shellQuote(v))
	}
	for i, a := range cmd.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	fmt.Fprintln(w, b.String())
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@+", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
