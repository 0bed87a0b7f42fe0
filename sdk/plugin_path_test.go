package sdk_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kgen-dev/kgen/sdk"
)

// rootContext is a Context that only knows its root path.
type rootContext struct {
	sdk.Context
	root string
}

func (c rootContext) GetRootPath() string { return c.root }

func ExamplePluginDir() {
	ctx := rootContext{root: "/var/lib/kgen"}
	dir := sdk.PluginDir(ctx, sdk.KindFunction, "labelImage")
	fmt.Println(filepath.ToSlash(dir))
	fmt.Println(filepath.ToSlash(filepath.Join(dir, "labels.txt")))
	// Output:
	// /var/lib/kgen/etc/functions/labelImage
	// /var/lib/kgen/etc/functions/labelImage/labels.txt
}

func TestPluginDir(t *testing.T) {
	for _, tc := range []struct {
		kind sdk.Kind
		want string
	}{
		{sdk.KindSource, "root/etc/sources/random"},
		{sdk.KindSink, "root/etc/sinks/random"},
		{sdk.KindFunction, "root/etc/functions/random"},
	} {
		if got := filepath.ToSlash(sdk.PluginDir(rootContext{root: "root"}, tc.kind, "random")); got != tc.want {
			t.Errorf("PluginDir(%s) = %q, want %q", tc.kind, got, tc.want)
		}
	}
}
