package plugin

import (
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"testing"
)

func info(goVersion string, settings map[string]string, mods ...*debug.Module) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: goVersion, Main: debug.Module{Path: "github.com/kgen-dev/kgen", Version: "(devel)"}, Deps: mods}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: settings[k]})
	}
	return bi
}

func TestCompare(t *testing.T) {
	host := info("go1.26.8", map[string]string{"-buildmode": "exe", "-trimpath": "true", "CGO_ENABLED": "1", "GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v1"},
		&debug.Module{Path: "golang.org/x/text", Version: "v0.14.0", Sum: "h1:a"},
		&debug.Module{Path: "gopkg.in/yaml.v3", Version: "v3.0.1", Sum: "h1:y"},
		&debug.Module{Path: "example.com/only/host", Version: "v1.0.0"},
	)
	same := info("go1.26.8", map[string]string{"-buildmode": "plugin", "-trimpath": "true", "CGO_ENABLED": "1", "GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v1"},
		&debug.Module{Path: "github.com/kgen-dev/kgen", Version: "v0.0.0", Replace: &debug.Module{Path: "../kgen"}},
		&debug.Module{Path: "golang.org/x/text", Version: "v0.14.0", Sum: "h1:a"},
		&debug.Module{Path: "example.com/only/plugin", Version: "v2.0.0"},
	)
	if d := Compare(host, same); d != nil {
		t.Fatalf("Compare(same) = %v, want none", d)
	}
	other := info("go1.26.7", map[string]string{"-buildmode": "plugin", "-tags": "netgo", "CGO_ENABLED": "1", "GOOS": "linux", "GOARCH": "amd64", "GOAMD64": "v3", "-race": "true"},
		&debug.Module{Path: "golang.org/x/text", Version: "v0.15.0", Sum: "h1:b"},
		&debug.Module{Path: "gopkg.in/yaml.v3", Version: "v3.0.0", Replace: &debug.Module{Path: "./yamlfork"}},
	)
	want := []Diff{
		{What: "go version", Host: "go1.26.8", Plugin: "go1.26.7", Fix: "build the plugin with go1.26.8 (kgen build uses the go command on PATH)"},
		{What: "setting -race", Host: "false", Plugin: "true", Fix: "build the plugin with kgen build, or with no -race"},
		{What: "setting -tags", Host: "", Plugin: "netgo", Fix: "build the plugin with kgen build, or with no -tags"},
		{What: "setting -trimpath", Host: "true", Plugin: "false", Fix: "build the plugin with kgen build, or with -trimpath"},
		{What: "setting GOAMD64", Host: "v1", Plugin: "v3", Fix: "build the plugin with kgen build, or with GOAMD64=v1"},
		{What: "module golang.org/x/text", Host: "v0.14.0", Plugin: "v0.15.0", Fix: "build the plugin with kgen build, or require golang.org/x/text v0.14.0"},
		{What: "module gopkg.in/yaml.v3", Host: "v3.0.1", Plugin: "(devel)", Fix: "the engine uses gopkg.in/yaml.v3 v3.0.1; build the plugin with kgen build, or drop the replace and require gopkg.in/yaml.v3 v3.0.1"},
	}
	if got := Compare(host, other); !reflect.DeepEqual(got, want) {
		t.Errorf("Compare:\ngot  %#v\nwant %#v", got, want)
	}
	if got, want := want[5].String(), "module golang.org/x/text: engine v0.14.0, plugin v0.15.0; build the plugin with kgen build, or require golang.org/x/text v0.14.0"; got != want {
		t.Errorf("Diff.String() = %q, want %q", got, want)
	}
}
