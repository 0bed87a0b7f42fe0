package sdk

import "path/filepath"

// PluginDir returns the folder that holds the runtime files of the plugin
// named name: <root>/etc/<kind.Dir()>/<name>, where root is
// ctx.GetRootPath(). Installing a plugin zip puts the zip's etc/ folder
// there (a model file, a lookup table, a certificate), and deleting the
// plugin removes it, so a plugin reads such files with
//
//	data, err := os.ReadFile(filepath.Join(sdk.PluginDir(ctx, sdk.KindFunction, "labelImage"), "labels.txt"))
//
// It returns a path whether or not the folder exists.
func PluginDir(ctx Context, kind Kind, name string) string {
	return filepath.Join(ctx.GetRootPath(), "etc", kind.Dir(), name)
}
