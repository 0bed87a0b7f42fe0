package kgencli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/gobuild"
	"github.com/kgen-dev/kgen/sdk"
)

// describeTimeout bounds the start of a built portable plugin that kgen
// build -portable asks for its functions.
const describeTimeout = 30 * time.Second

// buildPortable is kgen build -portable: go build of the plugin's main
// package into <out>/portable/<name>/, and its manifest beside it: the
// package's <name>.json, checked against what the executable serves, or
// one written from what it serves.
func buildPortable(c *cli, pkg, out, name, version string, verbose bool) error {
	pkgDir, err := gobuild.PortablePackage(c.ctx, "", pkg)
	if err != nil {
		return fmt.Errorf("build portable plugin: %w", err)
	}
	if name == "" {
		name = filepath.Base(pkgDir)
	}
	if err := sdk.ValidateName(name); err != nil {
		return usageErrorf("plugin name %q (the package folder's, or -name): %v", name, err)
	}
	srcManifest := filepath.Join(pkgDir, name+".json")
	var man *portable.Manifest
	data, err := os.ReadFile(srcManifest)
	switch {
	case err == nil:
		man = &portable.Manifest{}
		if err := json.Unmarshal(data, man); err != nil {
			return fmt.Errorf("build portable plugin %q: %s: %w", name, srcManifest, err)
		}
		if man.Name != "" && man.Name != name {
			return fmt.Errorf("build portable plugin %q: %s: name: the manifest is for plugin %q", name, srcManifest, man.Name)
		}
		man.Name = name
		if version != "" && version != man.Version {
			return usageErrorf("-version %q: the package's manifest %s has version %q; -version is for a plugin without a manifest", version, srcManifest, man.Version)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("build portable plugin %q: %w", name, err)
	}
	opts := gobuild.PortableOptions{Package: pkg, Out: out, Name: name, Progress: c.stdout, Verbose: verbose, Status: gobuild.StatusWriter(c.stderr)}
	if man != nil {
		opts.Executable = man.Executable
	}
	exe, err := gobuild.Portable(c.ctx, opts)
	if err != nil {
		return err
	}
	served, err := portable.Describe(exe, man, describeTimeout)
	if err != nil {
		if man != nil {
			return fmt.Errorf("build portable plugin %q: %s: %w", name, srcManifest, err)
		}
		return fmt.Errorf("build portable plugin %q: %w", name, err)
	}
	if man == nil {
		man = &portable.Manifest{Name: name, Version: version, Language: "go", Executable: filepath.Base(exe),
			Sources: served.Sources, Sinks: served.Sinks, Functions: served.Functions}
		written := struct {
			Name       string   `json:"name"`
			Version    string   `json:"version,omitempty"`
			Language   string   `json:"language"`
			Executable string   `json:"executable"`
			Sources    []string `json:"sources,omitempty"`
			Sinks      []string `json:"sinks,omitempty"`
			Functions  []string `json:"functions,omitempty"`
		}{man.Name, man.Version, man.Language, man.Executable, man.Sources, man.Sinks, man.Functions}
		if data, err = json.MarshalIndent(written, "", "  "); err != nil {
			return err
		}
		data = append(data, '\n')
	}
	dir := filepath.Dir(exe)
	if err := atomicfile.Write(filepath.Join(dir, name+".json"), data); err != nil {
		return fmt.Errorf("build portable plugin %q: %w", name, err)
	}
	if _, err := portable.ReadManifest(dir); err != nil {
		return fmt.Errorf("build portable plugin %q: %w", name, err)
	}
	fmt.Fprintf(c.stdout, "built %s (portable plugin %s: %s)\n", exe, name, served)
	return nil
}

// packPortable is kgen pack -portable: the zip of a plugin kgen build
// -portable wrote, with the per-extension files and etc/ of its package
// folder dir.
func packPortable(c *cli, dir, out, name string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("pack: %s is not a folder", dir)
	}
	built, err := findBuiltPortable(dir, name)
	if err != nil {
		return err
	}
	name = filepath.Base(built)
	var buf bytes.Buffer
	entries, err := portable.Pack(&buf, built, dir)
	if err != nil {
		return err
	}
	if out == "" {
		out = name + ".zip"
	}
	if err := atomicfile.Write(out, buf.Bytes()); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	fmt.Fprintf(c.stdout, "wrote %s (portable plugin %s): %s\n", out, name, strings.Join(entries, ", "))
	return nil
}

// findBuiltPortable looks for the plugin folder kgen build -portable
// wrote, in build/plugins/portable/ or plugins/portable/ under the
// current folder and under dir.
func findBuiltPortable(dir, name string) (string, error) {
	searched, found := searchBuilt(dir, []string{"portable"}, func(d string, e os.DirEntry) bool {
		n := e.Name()
		return e.IsDir() && !strings.HasPrefix(n, ".") && (name == "" || n == name) && fileExists(filepath.Join(d, n, n+".json"))
	})
	switch len(found) {
	case 0:
		what := "no portable plugin"
		if name != "" {
			what = fmt.Sprintf("no portable plugin %q", name)
		}
		return "", fmt.Errorf("pack: %s in %s (run kgen build -portable first)", what, strings.Join(searched, ", "))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("pack: several portable plugins: %s; pick one with -name", strings.Join(found, ", "))
}
