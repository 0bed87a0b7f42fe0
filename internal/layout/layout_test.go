package layout_test

import (
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

type rootContext struct {
	sdk.Context
	root string
}

func (c rootContext) GetRootPath() string { return c.root }

func TestRoot(t *testing.T) {
	r := layout.Root("/r")
	for got, want := range map[string]string{
		r.ConfigFile():       "/r/etc/kgen.yaml",
		r.SourceConf("mqtt"): "/r/etc/sources/mqtt.yaml",
		r.PluginMetaFile(sdk.KindFunction, "echo"): "/r/etc/functions/echo.json",
		r.Plugins(sdk.KindSink):                    "/r/plugins/sinks",
		r.StoreFile():                              "/r/data/kgen.db",
		r.ServiceFile("ai"):                        "/r/data/services/ai.json",
		r.Schemas():                                "/r/data/services/schemas",
		r.Log():                                    "/r/log",
	} {
		if got != filepath.FromSlash(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// sdk.PluginDir cannot import this package; it must agree with it.
func TestSDKPluginDirAgrees(t *testing.T) {
	ctx := rootContext{root: "/r"}
	for _, k := range sdk.Kinds {
		if got, want := sdk.PluginDir(ctx, k, "p"), layout.Root("/r").PluginDir(k, "p"); got != want {
			t.Errorf("sdk.PluginDir(%s) = %s, layout says %s", k, got, want)
		}
	}
}
