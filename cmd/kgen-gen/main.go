// Command kgen-gen is `kgen gen` for go:generate: it reads the //kgen:
// markers of Go packages and writes their plugin wrappers, metadata and
// configuration files, as package gen/markers does.
//
//	kgen-gen [-check | -clean] [-v] [packages]
//
// It does the same as the packages form of `kgen gen` (see "kgen help
// gen"), but links the generator only, not the engine, so the first
// `go run github.com/kgen-dev/kgen/cmd/kgen-gen` in a new project compiles
// a few packages instead of the whole engine. A project made by kgen new
// calls it from generate.go:
//
//	//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen
//
// The service, server and client forms (.proto files and OpenAPI
// documents) stay in the full kgen: `go run github.com/kgen-dev/kgen/cmd/kgen gen server api.proto`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kgen-dev/kgen/gen/markers"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(os.Stderr, "kgen-gen: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kgen-gen:", err)
		os.Exit(1)
	}
}

const usage = `Usage:

	kgen-gen [-check | -clean] [-v] [packages]

kgen-gen writes the wrappers and metadata of the //kgen: markers of the
packages (default "."), as "kgen gen" does; "kgen help gen" tells more.

Flags:

	-check  list stale generated files and fail if there are any; write nothing
	-clean  remove the generated files
	-v      list the files written and removed

Example:

	//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen
`

type usageError struct{ error }

// run is kgen-gen with args (without the program name).
func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kgen-gen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	check := fs.Bool("check", false, "")
	clean := fs.Bool("clean", false, "")
	verbose := fs.Bool("v", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return err
		}
		return usageError{err}
	}
	if *check && *clean {
		return usageError{errors.New("-check and -clean exclude each other")}
	}
	res, err := markers.Run(markers.Options{Patterns: fs.Args(), Check: *check, Clean: *clean})
	if err != nil {
		return err
	}
	if *check {
		for _, f := range res.Stale {
			fmt.Fprintln(stdout, f)
		}
		if n := len(res.Stale); n == 1 {
			return errors.New("1 generated file is stale; run go generate")
		} else if n > 1 {
			return fmt.Errorf("%d generated files are stale; run go generate", n)
		}
		return nil
	}
	if *verbose {
		for _, f := range res.Written {
			fmt.Fprintln(stdout, "wrote", f)
		}
		for _, f := range res.Removed {
			fmt.Fprintln(stdout, "removed", f)
		}
	}
	return nil
}
