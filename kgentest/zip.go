package kgentest

import (
	"archive/zip"
	"bytes"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// mkZip writes a zip for testing plugin installs, including entries no
// well-behaved packer would write (../x, /abs):
//
//	mkzip OUT.zip NAME=TEXT... NAME=@FILE...
//
// Each NAME becomes an entry, verbatim and in order, holding TEXT or the
// content of FILE.
func mkZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: mkzip OUT.zip NAME=TEXT|NAME=@FILE...")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range args[1:] {
		name, body, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			ts.Fatalf("mkzip: %q: want NAME=TEXT or NAME=@FILE", a)
		}
		if file, isFile := strings.CutPrefix(body, "@"); isFile {
			body = ts.ReadFile(file)
		}
		w, err := zw.Create(name)
		ts.Check(err)
		_, err = w.Write([]byte(body))
		ts.Check(err)
	}
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), buf.Bytes(), 0o644))
}
