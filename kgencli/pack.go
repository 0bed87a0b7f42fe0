package kgencli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/internal/pluginmeta"
	"github.com/kgen-dev/kgen/sdk"
)

var packCmd = &command{
	name: "pack",
	args: `[-o FILE.zip] [-so FILE.so] [-name NAME] [-kind KIND] [dir]
-portable [-o FILE.zip] [-name NAME] [dir]`,
	summary: "pack a built plugin into a zip for kgen plugin install",
	help: `
Pack writes a plugin zip in eKuiper's layout, which kgen plugin install (and
eKuiper's POST /plugins/{type}) accepts: at its root the .so, <name>.json,
<name>.yaml for a source, the files under etc/ and install.sh, taken from
the plugin's package folder dir (default "."). Entries are sorted and carry
a fixed time, so the same files always make the same zip.

The .so is -so, else the one kgen build wrote to build/plugins/<kind>s/
(or plugins/<kind>s/) in the current folder or in dir; -name picks one when
there are several. The kind comes from that folder's name, else from the
metadata <name>.json, else from -kind. A <name>.json beside the .so (kgen
build writes one for a plugin with several functions) is preferred to
dir's. The plugin finds its etc/ files at run time with sdk.PluginDir.

With -portable, pack zips the portable plugin kgen build -portable wrote
to build/plugins/portable/<name>/ (or plugins/portable/<name>/) in the
current folder or in dir, in eKuiper's portable layout: <name>.json (the
manifest) and the executable (mode 0755) at the root, and from dir the
files sources/<source>.yaml and .json, sinks/<sink>.json and
functions/<function>.json of the manifest's extensions, and etc/, when
present. Install puts them all in the plugin's folder, the executable's
working folder.`,
	example: `
kgen build ./random && kgen pack ./random
kgen pack -so build/plugins/sources/Random@v1.0.0.so -o random.zip ./random
kgen build -portable ./greet && kgen pack -portable ./greet`,
	setup: func(fs *flag.FlagSet) runFunc {
		out := fs.String("o", "", "the zip `FILE` to write (default <name>.zip)")
		so := fs.String("so", "", "the plugin `FILE` (default: found in build/plugins/<kind>s/)")
		name := fs.String("name", "", "the plugin `NAME` (default: from the .so file name)")
		kind := fs.String("kind", "", "the plugin `KIND`: source, sink or function (default: from the .so folder or the metadata)")
		isPortable := fs.Bool("portable", false, "pack a portable plugin built by kgen build -portable")
		return func(c *cli, args []string) error {
			if len(args) > 1 {
				return usageErrorf("want at most one folder, got %d arguments", len(args))
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if *isPortable {
				if *so != "" || *kind != "" {
					return usageErrorf("-so and -kind do not apply to -portable")
				}
				return packPortable(c, dir, *out, *name)
			}
			return pack(c, dir, *out, *so, *name, *kind)
		}
	},
}

func pack(c *cli, dir, out, so, name, kindFlag string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("pack: %s is not a folder", dir)
	}
	var kind sdk.Kind
	hasKind := kindFlag != ""
	if hasKind {
		k, err := sdk.ParseKind(kindFlag)
		if err != nil {
			return usageErrorf("-kind: %v", err)
		}
		kind = k
	}
	if so == "" {
		found, err := findBuilt(dir, name, kind, hasKind)
		if err != nil {
			return err
		}
		so = found
	}
	n, _, err := sdk.ParsePluginFileName(filepath.Base(so))
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if name == "" {
		name = n
	}
	if !hasKind {
		if k, err := sdk.ParseKind(filepath.Base(filepath.Dir(so))); err == nil {
			kind, hasKind = k, true
		} else if k, ok := metadataKind(filepath.Join(dir, name+".json")); ok {
			kind, hasKind = k, true
		} else {
			return usageErrorf("cannot tell the kind of plugin %q from %s or %s.json; use -kind", name, so, name)
		}
	}
	spec := pluginzip.PackSpec{Kind: kind, Name: name, SO: so, Dir: dir}
	if beside := filepath.Join(filepath.Dir(so), name+".json"); fileExists(beside) {
		spec.JSON = beside
	}
	if out == "" {
		out = name + ".zip"
	}
	var buf bytes.Buffer
	entries, err := pluginzip.Pack(&buf, spec)
	if err != nil {
		return err
	}
	// A failure leaves no half zip.
	if err := atomicfile.Write(out, buf.Bytes()); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	fmt.Fprintf(c.stdout, "wrote %s (%s plugin %s): %s\n", out, kind, name, strings.Join(entries, ", "))
	return nil
}

// findBuilt looks for the .so kgen build wrote, in build/plugins/<kind>s/
// or plugins/<kind>s/ under the current folder and under dir.
func findBuilt(dir, name string, kind sdk.Kind, hasKind bool) (string, error) {
	kinds := sdk.Kinds
	if hasKind {
		kinds = []sdk.Kind{kind}
	}
	folders := make([]string, len(kinds))
	for i, k := range kinds {
		folders[i] = k.Dir()
	}
	searched, found := searchBuilt(dir, folders, func(d string, e os.DirEntry) bool {
		n, _, err := sdk.ParsePluginFileName(e.Name())
		return err == nil && !e.IsDir() && (name == "" || n == name)
	})
	switch len(found) {
	case 0:
		what := "no plugin file"
		if name != "" {
			what = "no plugin file for " + fmt.Sprintf("%q", name)
		}
		return "", fmt.Errorf("pack: %s in %s (run kgen build first, or give -so)", what, strings.Join(searched, ", "))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("pack: several plugin files: %s; pick one with -name or -so", strings.Join(found, ", "))
}

// searchBuilt lists the entries of build/plugins/<folder> and
// plugins/<folder> under the current folder and under dir (each folder
// once) that match: the folders searched, and the paths found, sorted.
func searchBuilt(dir string, folders []string, match func(folder string, e os.DirEntry) bool) (searched, found []string) {
	seen := map[string]bool{}
	for _, base := range []string{".", dir} {
		for _, sub := range []string{layout.BuildDir, layout.PluginsDir} {
			for _, f := range folders {
				d := filepath.Join(base, sub, f)
				abs, _ := filepath.Abs(d)
				if seen[abs] {
					continue
				}
				seen[abs] = true
				searched = append(searched, d)
				entries, _ := os.ReadDir(d)
				for _, e := range entries {
					if match(d, e) {
						found = append(found, filepath.Join(d, e.Name()))
					}
				}
			}
		}
	}
	slices.Sort(found)
	return searched, found
}

// metadataKind tells a plugin's kind from its metadata file.
func metadataKind(path string) (sdk.Kind, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return pluginmeta.KindOf(data)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
