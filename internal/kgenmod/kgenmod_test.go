package kgenmod

import (
	"runtime/debug"
	"testing"
)

func TestIn(t *testing.T) {
	dep := &debug.Module{Path: Path, Version: "v1.2.3"}
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"main", &debug.BuildInfo{Main: debug.Module{Path: Path, Version: "(devel)"}}, "(devel)"},
		{"dependency", &debug.BuildInfo{Main: debug.Module{Path: "example.com/x"}, Deps: []*debug.Module{{Path: "a"}, dep}}, "v1.2.3"},
		{"none", &debug.BuildInfo{Main: debug.Module{Path: "example.com/x"}, Deps: []*debug.Module{{Path: Path + "/other"}}}, ""},
	} {
		got := ""
		if m := In(c.bi); m != nil {
			got = m.Version
		}
		if got != c.want {
			t.Errorf("%s: In = %q, want %q", c.name, got, c.want)
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == Path && In(bi) == nil {
		t.Error("this test binary is built from kgen, but In finds no kgen module")
	}
}
