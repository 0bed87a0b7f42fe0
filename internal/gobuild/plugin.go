package gobuild

import (
	"cmp"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/engine/plugin"
	"github.com/kgen-dev/kgen/internal/atomicfile"
	"github.com/kgen-dev/kgen/internal/kgenmod"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/internal/pluginmeta"
	"github.com/kgen-dev/kgen/sdk"
)

// PluginOptions configure Plugin.
type PluginOptions struct {
	// Dir is the folder the package pattern is relative to ("" = cwd).
	Dir string
	// Package is the plugin package ("" = ".").
	Package string
	// Target is the engine the plugin is for (see ReadTarget).
	Target *Target
	// Out is the plugins folder: a plugin goes to <Out>/<kind>s/<Name>.so
	// ("" = layout.BuildDir).
	Out string
	// Name names a function plugin with several functions (default: the
	// package name).
	Name string
	// Progress receives one line per step; Verbose adds the go commands.
	Progress io.Writer
	Verbose  bool
	// Status, if not nil, is a terminal that shows what is being built and
	// for how long while go build runs (see StatusWriter).
	Status io.Writer
}

// Built is one plugin file Plugin wrote.
type Built struct {
	Kind      sdk.Kind
	Name      string
	File      string
	Functions []string
}

// BuildError is a build Plugin refused because it cannot match the engine.
type BuildError struct {
	Diffs []plugin.Diff
	// Why is a sentence on what could not be aligned.
	Why string
}

func (e *BuildError) Error() string {
	var b strings.Builder
	b.WriteString(e.Why)
	for _, d := range e.Diffs {
		b.WriteString("\n\t")
		b.WriteString(d.String())
	}
	return b.String()
}

// pluginTarget is one .so to build: the constructors it re-exports.
type pluginTarget struct {
	kind  sdk.Kind
	name  string
	ctors []string // exported constructor names in the package
}

// pkgInfo is what the go command says about the plugin package.
type pkgInfo struct {
	ImportPath string
	Dir        string
	Name       string
	GoFiles    []string
	Module     *module
}

// Plugin compiles the plugin package to Go plugins aligned with the target
// engine's build: the same Go toolchain, settings (-tags, -trimpath, -race,
// -gcflags, CGO_ENABLED, GOOS, GOARCH, GOAMD64, ...) and the engine's
// version of every module both link. It builds in a temporary workspace
// that uses the plugin's module (and the engine's kgen source folder when
// the engine was built from one) and replaces every other module the engine
// links by the engine's version. It refuses with a *BuildError when it
// cannot align, and checks the result again before keeping it.
func Plugin(ctx context.Context, opts PluginOptions) ([]Built, error) {
	if opts.Target == nil || opts.Target.Info == nil {
		return nil, errors.New("build plugin: no engine build info to align to")
	}
	target := opts.Target.Info
	g, progress := newGoCmd(ctx, opts.Progress, opts.Status, opts.Verbose)
	step := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }
	pkg := cmp.Or(opts.Package, ".")

	step("reading package %s", pkg)
	out, err := g.run(opts.Dir, nil, "list", "-json=ImportPath,Dir,Name,GoFiles,Module", pkg)
	if err != nil {
		return nil, fmt.Errorf("build plugin: read package %s: %w", pkg, err)
	}
	var p pkgInfo
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("build plugin: read package %s: %w", pkg, err)
	}
	if p.Module == nil {
		return nil, fmt.Errorf("build plugin: package %s is not in a module", p.ImportPath)
	}
	targets, err := findTargets(&p, opts.Name)
	if err != nil {
		return nil, fmt.Errorf("build plugin %s: %w", p.ImportPath, err)
	}

	step("checking the Go toolchain against the engine's %s", target.GoVersion)
	goVersion, err := g.run(opts.Dir, nil, "env", "GOVERSION")
	if err != nil {
		return nil, fmt.Errorf("build plugin: go env GOVERSION: %w", err)
	}
	if err := checkToolchain(strings.TrimSpace(string(goVersion)), target); err != nil {
		return nil, err
	}

	step("aligning module versions with the engine")
	graph, err := g.moduleGraph(p.Module.Dir)
	if err != nil {
		return nil, fmt.Errorf("build plugin: list modules: %w", err)
	}
	kgenDirs, replaces, err := alignModules(graph, target, step)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "kgen-build-")
	if err != nil {
		return nil, fmt.Errorf("build plugin: %w", err)
	}
	defer os.RemoveAll(work)
	ws := &workspace{goVersion: goLine(target.GoVersion), replace: replaces}
	ws.use = append([]string{p.Module.Dir}, kgenDirs...)
	ws.sum = workSum(ws.use, target)
	// Each plugin's main module joins the workspace.
	for _, t := range targets {
		dir := filepath.Join(work, t.kind.Dir(), t.name)
		if err := pluginMain(&p, t, ws.goVersion).write(dir); err != nil {
			return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
		}
		ws.use = append(ws.use, dir)
	}
	goWork, err := ws.write(work)
	if err != nil {
		return nil, fmt.Errorf("build plugin: %w", err)
	}
	env, flags := buildSettings(target)
	b := &pluginBuild{g: g, opts: opts, step: step, pkg: &p, goWork: goWork, env: env, flags: flags}

	var built []Built
	for _, t := range targets {
		one, err := b.build(filepath.Join(work, t.kind.Dir(), t.name), t)
		if err != nil {
			return built, err
		}
		built = append(built, *one)
	}
	return built, nil
}

// pluginMain is the main package of one plugin: -buildmode=plugin needs
// one. It re-exports the package's constructors under their own names,
// which are the symbols the engine looks up.
func pluginMain(p *pkgInfo, t pluginTarget, goVersion string) *mainModule {
	iface := map[sdk.Kind]string{sdk.KindSource: "Source", sdk.KindSink: "Sink", sdk.KindFunction: "Function"}[t.kind]
	var body strings.Builder
	for _, c := range t.ctors {
		fmt.Fprintf(&body, "func %s() sdk.%s { return p.%s() }\n\n", c, iface, c)
	}
	body.WriteString("func main() {}\n")
	return &mainModule{
		path:      "kgenplugin/" + t.kind.Dir() + "/" + t.name,
		goVersion: goVersion,
		doc:       t.name + " is the Go plugin kgen build makes of " + p.ImportPath,
		imports:   [][]string{{"p " + strconv.Quote(p.ImportPath)}, {strconv.Quote(kgenmod.Path + "/sdk")}},
		body:      body.String(),
	}
}

// pluginBuild is what the builds of a package's plugins share.
type pluginBuild struct {
	g      goCmd
	opts   PluginOptions
	step   func(string, ...any)
	pkg    *pkgInfo
	goWork string
	env    []string
	flags  []string
}

// build builds one plugin in its main module folder, checks it and, when it
// matches the engine, writes it to the output folder.
func (b *pluginBuild) build(mainDir string, t pluginTarget) (*Built, error) {
	outDir := filepath.Join(cmp.Or(b.opts.Out, layout.BuildDir), t.kind.Dir())
	file := filepath.Join(outDir, sdk.PluginFileName(t.name, ""))
	so := filepath.Join(mainDir, sdk.PluginFileName(t.name, ""))
	b.step("building %s plugin %q -> %s", t.kind, t.name, file)
	flags := append([]string{"-buildmode=plugin"}, b.flags...)
	if err := b.g.build(fmt.Sprintf("building %s plugin %q", t.kind, t.name), mainDir, b.goWork, flags, b.env, so); err != nil {
		return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
	}

	b.step("checking %s against the engine", file)
	if err := b.verify(t.name, so); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(so)
	if err != nil {
		return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
	}
	if err := atomicfile.Write(file, data); err != nil {
		return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
	}
	built := &Built{Kind: t.kind, Name: t.name, File: file}
	if t.kind == sdk.KindFunction {
		for _, c := range t.ctors {
			built.Functions = append(built.Functions, sdk.NameFromSymbol(c))
		}
		if err := writeFunctionsJSON(b.pkg.Dir, outDir, t.name, built.Functions); err != nil {
			return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
		}
	}
	return built, nil
}

// verify checks a built plugin like the engine will before opening it:
// its build info, and its package hashes when the engine binary is known.
func (b *pluginBuild) verify(name, file string) error {
	bi, err := buildinfo.ReadFile(file)
	if err != nil {
		return fmt.Errorf("build plugin %q: read build info: %w", name, err)
	}
	diffs := plugin.Compare(b.opts.Target.Info, bi)
	if len(diffs) == 0 && b.opts.Target.File != "" {
		if diffs, err = plugin.ComparePackages(b.opts.Target.File, file); err != nil {
			return fmt.Errorf("build plugin %q: %w", name, err)
		}
	}
	if len(diffs) > 0 {
		return &BuildError{Why: fmt.Sprintf("build plugin %q: the result still differs from the engine, so it was deleted:", name), Diffs: diffs}
	}
	return nil
}

// findTargets reads the package's exported constructors, func Name()
// sdk.Source|sdk.Sink|sdk.Function (what kgen gen writes): one .so per
// source and sink, one for all the functions.
func findTargets(p *pkgInfo, name string) ([]pluginTarget, error) {
	if p.Name == "main" {
		return nil, errors.New("a plugin package must not be package main (kgen build writes the main package)")
	}
	fset := token.NewFileSet()
	var fns []string
	var targets []pluginTarget
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		sdkName := ""
		for _, imp := range file.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == kgenmod.Path+"/sdk" {
				sdkName = "sdk"
				if imp.Name != nil {
					sdkName = imp.Name.Name
				}
			}
		}
		if sdkName == "" {
			continue
		}
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.TypeParams != nil ||
				len(fd.Type.Params.List) != 0 || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
				continue
			}
			sel, ok := fd.Type.Results.List[0].Type.(*ast.SelectorExpr)
			if !ok || len(fd.Type.Results.List[0].Names) > 1 {
				continue
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != sdkName {
				continue
			}
			name := sdk.NameFromSymbol(fd.Name.Name)
			switch sel.Sel.Name {
			case "Source":
				targets = append(targets, pluginTarget{sdk.KindSource, name, []string{fd.Name.Name}})
			case "Sink":
				targets = append(targets, pluginTarget{sdk.KindSink, name, []string{fd.Name.Name}})
			case "Function":
				fns = append(fns, fd.Name.Name)
			}
		}
	}
	if len(fns) > 0 {
		slices.Sort(fns)
		t := pluginTarget{kind: sdk.KindFunction, name: sdk.NameFromSymbol(fns[0]), ctors: fns}
		if len(fns) > 1 {
			t.name = cmp.Or(name, p.Name)
		}
		if err := sdk.ValidateName(t.name); err != nil {
			return nil, fmt.Errorf("function plugin name: %w (set one with -name)", err)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, errors.New("no plugin constructors: want exported func Name() sdk.Source, sdk.Sink or sdk.Function (run kgen gen)")
	}
	slices.SortFunc(targets, func(a, b pluginTarget) int {
		return strings.Compare(a.kind.String()+a.name, b.kind.String()+b.name)
	})
	return targets, nil
}

// writeFunctionsJSON writes <name>.json beside a function plugin: the
// metadata kgen gen wrote for its functions (<fn>.json in the package), its
// "functions" lists merged, so that the engine registers every function.
func writeFunctionsJSON(pkgDir, outDir, name string, fns []string) error {
	files := make([][]byte, len(fns))
	for i, fn := range fns {
		if data, err := os.ReadFile(filepath.Join(pkgDir, fn+".json")); err == nil {
			files[i] = data
		}
	}
	data, err := pluginmeta.Merge(name, fns, files)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(outDir, name+".json"), data)
}
