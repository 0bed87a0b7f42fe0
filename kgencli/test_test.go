package kgencli

import (
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	// The kgentest package's own scripts are a project's script tests.
	r := kgen(t, "", "test", "-run", "TestScripts/memory", "-v", "github.com/kgen-dev/kgen/kgentest")
	if r.err != nil {
		t.Fatalf("kgen test: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{"--- PASS: TestScripts/memory", "ok  \tgithub.com/kgen-dev/kgen/kgentest"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("kgen test printed no %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "TestScripts/engine") {
		t.Errorf("-run TestScripts/memory ran the engine script too:\n%s", r.stdout)
	}

	// A failing script fails kgen test with go test's status.
	r = kgen(t, "", "test", "-run", "TestScripts/nosuch", "-timeout", "1ns", "github.com/kgen-dev/kgen/kgentest")
	if ExitCode(r.err) != 1 {
		t.Errorf("kgen test with a test binary that times out: status %d (%v), want 1\n%s", ExitCode(r.err), r.err, r.stdout)
	}
}

func TestTestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"test", "-bogus"}, "flag provided but not defined: -bogus\n\nUsage:\n\n\tkgen test [-run REGEXP]"},
		{[]string{"test", "./...", "-v"}, "flags go before the packages, got \"-v\"\n\nUsage:"},
		{[]string{"test", "github.com/kgen-dev/kgen/sdk"}, "test github.com/kgen-dev/kgen/sdk: no package tests import github.com/kgen-dev/kgen/kgentest (call kgentest.Run from a test)"},
		{[]string{"test", "./nosuch"}, "test ./nosuch: list packages: "},
	} {
		r := kgen(t, "", tc.args...)
		if r.err == nil || !strings.HasPrefix(r.err.Error(), tc.want) {
			t.Errorf("kgen %s: got %v, want %q...", strings.Join(tc.args, " "), r.err, tc.want)
		}
	}
	out := mustRun(t, "help", "test")
	if !strings.Contains(out, "Usage:\n\n\tkgen test [-run REGEXP] [-v] [-timeout D] [packages]") || !strings.Contains(out, "Example:\n\n\tkgen test\n") {
		t.Errorf("kgen help test:\n%s", out)
	}
}
