package sdk_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// The sdk must never link engine code or third-party modules.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/kgen-dev/kgen/sdk" {
			t.Errorf("sdk depends on non-standard package %q", p)
		}
	}
}

func TestValidateName(t *testing.T) {
	good := []string{"file", "wordCount", "a1", "my_sink", "é"}
	for _, n := range good {
		if err := sdk.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	bad := map[string]string{
		"":        "invalid plugin name: must not be empty",
		"a/b":     `invalid plugin name "a/b": must not contain / or \`,
		`a\b`:     `invalid plugin name "a\\b": must not contain / or \`,
		"a..b":    `invalid plugin name "a..b": must not contain ..`,
		".hidden": `invalid plugin name ".hidden": must not start with "."`,
		"-x":      `invalid plugin name "-x": must not start with "-"`,
		"1abc":    `invalid plugin name "1abc": must be a Go identifier (bad character '1' at offset 0)`,
		"a-b":     `invalid plugin name "a-b": must be a Go identifier (bad character '-' at offset 1)`,
		"File":    `invalid plugin name "File": must start with a lower-case letter (camelCase)`,
	}
	for n, want := range bad {
		err := sdk.ValidateName(n)
		if err == nil || err.Error() != want {
			t.Errorf("ValidateName(%q) = %v, want %q", n, err, want)
		}
	}
}

func TestPluginFileNames(t *testing.T) {
	cases := []struct{ file, name, version, err string }{
		{file: "File.so", name: "file"},
		{file: "file.so", name: "file"},
		{file: "WordCount@v1.2.3.so", name: "wordCount", version: "v1.2.3"},
		{file: "wordCount@1.0.so", name: "wordCount", version: "1.0"},
		{file: "File.dll", err: `invalid plugin file name "File.dll": must end in .so`},
		{file: "File@latest.so", err: `invalid plugin file name "File@latest.so": version "latest": want a semantic version like v1.2.3`},
		{file: "../x.so", err: `invalid plugin file name "../x.so": invalid plugin name "../x": must not contain / or \`},
	}
	for _, c := range cases {
		name, version, err := sdk.ParsePluginFileName(c.file)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParsePluginFileName(%q) error = %v, want %q", c.file, err, c.err)
			}
			continue
		}
		if err != nil || name != c.name || version != c.version {
			t.Errorf("ParsePluginFileName(%q) = %q, %q, %v; want %q, %q", c.file, name, version, err, c.name, c.version)
		}
	}
	if got := sdk.PluginFileName("wordCount", "v1.0.0"); got != "WordCount@v1.0.0.so" {
		t.Errorf("PluginFileName = %q", got)
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"", "v0.9.0", "v1.2.0-rc1", "v1.2.0", "v1.9.0", "v1.10.0", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := sdk.CompareVersions(ordered[i], ordered[j]); got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestRetryable(t *testing.T) {
	base := errors.New("connection reset")
	err := fmt.Errorf("publish: %w", sdk.Retryable(base))
	if !sdk.IsRetryable(err) || !errors.Is(err, base) {
		t.Fatalf("wrapped retryable error lost its marks: %v", err)
	}
	if err.Error() != "publish: connection reset" {
		t.Fatalf("message = %q", err.Error())
	}
	if sdk.IsRetryable(base) || sdk.Retryable(nil) != nil {
		t.Fatal("plain error marked retryable")
	}
}

type nopFunc struct{}

func (nopFunc) Validate([]sdk.Arg) error                    { return nil }
func (nopFunc) Exec(sdk.FunctionContext, []any) (any, bool) { return nil, true }
func (nopFunc) IsAggregate() bool                           { return false }

func TestRegistry(t *testing.T) {
	sdk.RegisterFunction("sdkTestNop", func() sdk.Function { return nopFunc{} })
	sdk.RegisterFunction("sdkTestNop", func() sdk.Function { return nopFunc{} })
	sdk.RegisterFunction("Bad", func() sdk.Function { return nopFunc{} })
	if _, ok := sdk.LookupFunction("sdkTestNop"); !ok {
		t.Fatal("registered function not found")
	}
	errs := sdk.RegistrationErrors()
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`register function "sdkTestNop": registered twice`,
		`register function "Bad": invalid plugin name "Bad": must start with a lower-case letter (camelCase)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("registration errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func ExampleSymbolName() {
	fmt.Println(sdk.SymbolName("file"), sdk.PluginFileName("wordCount", ""))
	// Output: File WordCount.so
}

func ExampleCheckArgCount() {
	args := []sdk.Arg{{Kind: sdk.ArgField, Name: "text", Text: "text"}}
	fmt.Println(sdk.CheckArgCount("wordCount", args, 2, 2))
	// Output: wordCount: want 2 arguments, got 1
}
