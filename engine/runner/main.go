package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Main is the main function of the engine binaries kgen run builds for
// projects with plugin packages:
//
//	engine [-timeout D] [-until N] [-log LEVEL] DIR
//
// It runs the project in DIR with Run (-until N stops it after N output
// rows, with status 0), printing output rows to stdout and
// logs (at LEVEL: debug, info, warn, error or off; default warn) to stderr,
// and exits with status 1 on error, 2 on a usage error and 130 when
// interrupted.
func Main() {
	os.Exit(mainExit(os.Args[1:], os.Stdout, os.Stderr))
}

func mainExit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 0, "stop and fail if rules still run after `D` (0: no limit)")
	until := fs.Int("until", 0, "stop after `N` output rows (0: when the input ends)")
	level := fs.String("log", "warn", "log `LEVEL` on stderr: debug, info, warn, error or off")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kgen run [-timeout D] [-until N] [-log LEVEL] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if *until < 0 {
		fmt.Fprintf(stderr, "kgen: -until %d: want a number of rows above zero\n", *until)
		return 2
	}
	logger, err := NewLogger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "kgen:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = Run(ctx, fs.Arg(0), stdout, Options{Timeout: *timeout, Until: *until, Logger: logger})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 130
	}
	fmt.Fprintln(stderr, "kgen:", err)
	return 1
}

// NewLogger returns a text logger on w at level: debug, info, warn, error,
// or off for none (case does not matter). It is what -log LEVEL means.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	if strings.EqualFold(level, "off") {
		return slog.New(slog.DiscardHandler), nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log %q: want debug, info, warn, error or off", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
