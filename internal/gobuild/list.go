package gobuild

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/version"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// module is one module as go list -m -json describes it.
type module struct {
	Path, Version, Dir, GoVersion string
	Main                          bool
	Replace                       *module
}

// listModules is the module lister: it runs go list -m -json with args in
// dir, with env (KEY=value) added to the environment.
func (g goCmd) listModules(dir string, env []string, args ...string) ([]module, error) {
	out, err := g.run(dir, env, append([]string{"list", "-m", "-json"}, args...)...)
	if err != nil {
		return nil, err
	}
	var mods []module
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode go list -m -json: %w", err)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// moduleGraph lists every module the module in dir builds with. Listing may
// need checksums the module's go.sum lacks, so it works on a copy of go.mod
// and go.sum (-modfile): the project's files are never changed.
func (g goCmd) moduleGraph(dir string) ([]module, error) {
	tmp, err := os.MkdirTemp("", "kgen-modlist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) && name == "go.sum" {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	return g.listModules(dir, []string{"GOFLAGS=-mod=mod", "GOWORK=off"}, "-modfile="+filepath.Join(tmp, "go.mod"), "all")
}

// userWorkspace returns the module folders a build of packages from the
// modules in modDirs uses: those modules and, for one in a workspace, every
// module of that workspace, so that the build gets the module versions the
// user's own builds get; and the highest go line among them (at least
// 1.22). The folders are sorted.
func (g goCmd) userWorkspace(modDirs []string) (use []string, goVersion string, err error) {
	goVersion = "1.22"
	for _, modDir := range modDirs {
		// Without "all", go list -m lists the main modules: the one in
		// modDir, or the workspace's.
		mods, err := g.listModules(modDir, nil)
		if err != nil {
			return nil, "", fmt.Errorf("list modules of %s: %w", modDir, err)
		}
		if !slices.Contains(use, modDir) {
			use = append(use, modDir)
		}
		for _, m := range mods {
			if m.Dir != "" && !slices.Contains(use, m.Dir) {
				use = append(use, m.Dir)
			}
			if m.GoVersion != "" && version.Compare("go"+m.GoVersion, "go"+goVersion) > 0 {
				goVersion = m.GoVersion
			}
		}
	}
	slices.Sort(use)
	return use, goVersion, nil
}

// pluginPackage is a package a plugin pattern matched.
type pluginPackage struct {
	path    string // import path
	modPath string
	modDir  string
}

// listPackages lists the importable, non-main packages that pattern matches
// with the go command run in dir. Internal packages are left out: a blank
// import of one from the generated module is not allowed, and the plugin
// packages that use it link it in. flags (like -tags) and env (KEY=value,
// like GOOS) select files as for go build.
func (g goCmd) listPackages(dir, pattern string, flags, env []string) ([]pluginPackage, error) {
	const format = `{{if and (ne .Name "main") (or .GoFiles .CgoFiles)}}` +
		`{{.ImportPath}}{{"\t"}}{{with .Module}}{{.Path}}{{"\t"}}{{.Dir}}{{end}}{{end}}`
	args := append(append([]string{"list"}, flags...), "-f", format, pattern)
	out, err := g.run(dir, env, args...)
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	var pkgs []pluginPackage
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) == 1 && f[0] == "" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("list packages: package %s is not in a module", f[0])
		}
		if !isInternal(f[0]) {
			pkgs = append(pkgs, pluginPackage{path: f[0], modPath: f[1], modDir: f[2]})
		}
	}
	return pkgs, nil
}

func isInternal(importPath string) bool {
	return strings.HasSuffix(importPath, "/internal") || strings.Contains(importPath, "/internal/") ||
		importPath == "internal" || strings.HasPrefix(importPath, "internal/")
}
