package gobuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/plugin"
	"github.com/kgen-dev/kgen/internal/kgenmod"
	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/sdk"
)

// A build that cannot match the engine is refused with the difference and
// the fix, and no .so is written.
func TestPluginRefusesWhatItCannotAlign(t *testing.T) {
	info := *testutil.BuildInfo(t)
	info.GoVersion = "go1.25.0"
	out := t.TempDir()
	_, err := Plugin(context.Background(), PluginOptions{
		Dir:     filepath.Join(testutil.RepoRoot(t), "gen", "markers", "testdata", "function"),
		Target:  &Target{Info: &info},
		Out:     out,
		Package: ".",
	})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Plugin = %v, want a *BuildError", err)
	}
	goVersion := testutil.BuildInfo(t).GoVersion
	want := "build plugin: cannot align the build with the engine:\n\tgo version: engine go1.25.0, plugin " + goVersion +
		"; put go1.25.0 first on PATH (or build the engine with " + goVersion + ")"
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("a refused build wrote %v", entries)
	}
}

func TestBuildSettings(t *testing.T) {
	target := &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"}, {Key: "-compiler", Value: "gc"}, {Key: "-ldflags", Value: "-s"},
		{Key: "-race", Value: "false"}, {Key: "-tags", Value: "netgo"}, {Key: "-trimpath", Value: "true"},
		{Key: "GOARCH", Value: "amd64"}, {Key: "GOOS", Value: "linux"}, {Key: "vcs.revision", Value: "abc"},
	}}
	env, flags := buildSettings(target)
	// cgo is on unless the engine says otherwise: Go plugins need it.
	if want := []string{"GOARCH=amd64", "GOOS=linux", "CGO_ENABLED=1"}; !reflect.DeepEqual(env, want) {
		t.Errorf("env %q, want %q", env, want)
	}
	if want := []string{"-tags=netgo", "-trimpath"}; !reflect.DeepEqual(flags, want) {
		t.Errorf("flags %q, want %q", flags, want)
	}
}

func TestAlignModules(t *testing.T) {
	target := &debug.BuildInfo{
		Main: debug.Module{Path: kgenmod.Path, Version: plugin.Local},
		Deps: []*debug.Module{
			{Path: "gopkg.in/yaml.v3", Version: "v3.0.1"},
			{Path: "golang.org/x/text", Version: "v0.14.0", Replace: &debug.Module{Path: "example.com/text", Version: "v0.1.0"}},
			{Path: "example.com/local", Version: "v1.0.0"},
		},
	}
	var steps []string
	step := func(format string, args ...any) {
		steps = append(steps, strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
	use, replaces, err := alignModules([]module{
		{Path: "example.com/plugin", Main: true},
		{Path: kgenmod.Path, Version: "v0.0.0", Replace: &module{Dir: "/src/kgen"}},
		{Path: "gopkg.in/yaml.v3", Version: "v3.0.2"},
		{Path: "golang.org/x/text", Version: "v0.14.0"},
		{Path: "example.com/only/plugin", Version: "v1.0.0"},
	}, target, step)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/src/kgen"}; !reflect.DeepEqual(use, want) {
		t.Errorf("use %q, want %q", use, want)
	}
	if want := []string{"gopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1", "golang.org/x/text => example.com/text v0.1.0"}; !reflect.DeepEqual(replaces, want) {
		t.Errorf("replaces %q, want %q", replaces, want)
	}
	want := []string{
		"github.com/kgen-dev/kgen: using the source folder /src/kgen, as the engine does",
		"gopkg.in/yaml.v3 v3.0.2 -> v3.0.1 (the engine's)",
		"golang.org/x/text v0.14.0 -> example.com/text v0.1.0 (the engine's)",
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}

	// A module one side takes from a folder cannot be aligned.
	_, _, err = alignModules([]module{
		{Path: "example.com/local", Version: "v1.0.0", Replace: &module{Dir: "../local"}},
	}, target, step)
	if want := "build plugin: cannot align the module versions with the engine:\n\tmodule example.com/local: engine v1.0.0, plugin (devel); " +
		"the plugin's go.mod replaces example.com/local with a folder; drop the replace (the engine uses v1.0.0)"; err == nil || err.Error() != want {
		t.Errorf("folder replace: %v, want %s", err, want)
	}
}

// TestPluginLoadsIntoEngine builds a function plugin for a real kgen
// binary, aligned to it and checked against its package hashes, serves an
// engine with it, and runs the plugin's functions in a rule.
func TestPluginLoadsIntoEngine(t *testing.T) {
	kgen := testutil.KgenBinary(t) // skips in -short mode
	root := t.TempDir()
	plugins := filepath.Join(root, "plugins")

	target, err := ReadTarget(t.Context(), kgen)
	if err != nil {
		t.Fatal(err)
	}
	if target.File != kgen {
		t.Errorf("target file %q, want %q", target.File, kgen)
	}
	start := time.Now()
	var progress strings.Builder
	built, err := Plugin(t.Context(), PluginOptions{Dir: filepath.Join(testutil.RepoRoot(t), "gen", "markers", "testdata", "function"), Target: target, Out: plugins, Progress: &progress})
	t.Logf("Plugin (%v):\n%s", time.Since(start), progress.String())
	if err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(plugins, "functions", "Function.so")
	if len(built) != 1 || built[0].Kind != sdk.KindFunction || built[0].Name != "function" || built[0].File != so {
		t.Errorf("built %+v, want the function plugin %s", built, so)
	}
	if _, err := os.Stat(filepath.Join(plugins, "functions", "function.json")); err != nil {
		t.Errorf("no merged metadata: %v", err)
	}

	testutil.WriteTree(t, root, map[string]string{"data/in.jsonl": `{"text":"a b c"}` + "\n" + `{"text":"d e"}` + "\n"})
	host, stderr := testutil.Serve(t, kgen, root)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if logs := stderr.String(); !strings.Contains(logs, `msg="plugin loaded" component=plugins kind=function name=function`) {
		t.Errorf("engine log lacks the plugin:\n%s", logs)
	}

	c, err := api.NewClient(host, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStream(ctx, `CREATE STREAM words (text STRING) WITH (DATASOURCE="in.jsonl", TYPE="file", FORMAT="JSON")`); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(root, "data", "out.jsonl") // under the engine root: file sinks are confined to it
	rule := `{"id":"r","sql":"SELECT wordCount(text, \" \") AS n FROM words","actions":[{"file":{"path":` + strconv.Quote(outFile) + `}}]}`
	if _, err := c.CreateRule(ctx, []byte(rule)); err != nil {
		t.Fatal(err)
	}
	var last any
	for {
		st, err := c.RuleStatus(ctx, "r")
		if err == nil && st.RecordsOut >= 2 {
			break
		}
		if err == nil {
			last = st
		}
		if ctx.Err() != nil {
			t.Fatalf("rule status %+v %v", last, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.StopRule(ctx, "r") // flushes the file sink (the rule may have finished already)
	data, _ := os.ReadFile(outFile)
	if !strings.Contains(string(data), `"n":3`) || !strings.Contains(string(data), `"n":2`) {
		t.Errorf("rule output = %s", data)
	}
}
