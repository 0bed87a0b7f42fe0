package plugin

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/sdk"
)

// kgenModule is the module path of kgen.
const kgenModule = "github.com/kgen-dev/kgen"

// BuildOptions configure Build.
type BuildOptions struct {
	// Dir is the folder the package pattern is relative to ("" = cwd).
	Dir string
	// Package is the plugin package ("" = ".").
	Package string
	// Target is the build info of the engine the plugin is for.
	Target *debug.BuildInfo
	// TargetFile is the engine binary Target came from, when there is one:
	// the built plugin's package hashes are then checked against it too.
	TargetFile string
	// Out is the plugins folder: a plugin goes to <Out>/<kind>s/<Name>.so.
	Out string
	// Name names a function plugin with several functions (default: the
	// package name).
	Name string
	// Progress receives one line per step; Verbose adds the go commands.
	Progress io.Writer
	Verbose  bool
}

// Built is one plugin file Build wrote.
type Built struct {
	Kind      sdk.Kind
	Name      string
	File      string
	Functions []string
}

// BuildError is a build Build refused because it cannot match the engine.
type BuildError struct {
	Diffs []Diff
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

// target is one .so to build: the constructors it re-exports.
type target struct {
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
	Module     *struct {
		Path, Dir, GoVersion, GoMod string
	}
}

// Build compiles the plugin package to Go plugins aligned with the target
// engine's build: the same Go toolchain, settings (-tags, -trimpath, -race,
// -gcflags, CGO_ENABLED, GOOS, GOARCH, GOAMD64, ...) and the engine's
// version of every module both link. It builds in a temporary workspace
// that uses the plugin's module (and the engine's kgen source folder when
// the engine was built from one) and replaces every other module the engine
// links by the engine's version. It refuses with a *BuildError when it
// cannot align, and checks the result again before keeping it.
func Build(ctx context.Context, opts BuildOptions) ([]Built, error) {
	if opts.Target == nil {
		return nil, errors.New("build plugin: no engine build info to align to")
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	step := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }
	b := &builder{ctx: ctx, opts: opts, step: step}
	pkg := cmpOr(opts.Package, ".")

	step("reading package %s", pkg)
	var p pkgInfo
	if err := b.goJSON(opts.Dir, &p, "list", "-json=ImportPath,Dir,Name,GoFiles,Module", pkg); err != nil {
		return nil, fmt.Errorf("build plugin: %w", err)
	}
	if p.Module == nil {
		return nil, fmt.Errorf("build plugin: package %s is not in a module", p.ImportPath)
	}
	targets, err := findTargets(&p, opts.Name)
	if err != nil {
		return nil, fmt.Errorf("build plugin %s: %w", p.ImportPath, err)
	}

	step("checking the Go toolchain against the engine's %s", opts.Target.GoVersion)
	goVersion, err := b.goOutput(opts.Dir, "env", "GOVERSION")
	if err != nil {
		return nil, fmt.Errorf("build plugin: %w", err)
	}
	if goVersion != opts.Target.GoVersion {
		return nil, &BuildError{Why: "build plugin: cannot align the build with the engine:", Diffs: []Diff{{
			What: "go version", Host: opts.Target.GoVersion, Plugin: goVersion,
			Fix: "put " + opts.Target.GoVersion + " first on PATH (or build the engine with " + goVersion + ")",
		}}}
	}

	step("aligning module versions with the engine")
	work, err := b.workspace(&p)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work.dir)

	var out []Built
	for _, t := range targets {
		built, err := b.buildOne(&p, work, t)
		if err != nil {
			return out, err
		}
		out = append(out, *built)
	}
	return out, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type builder struct {
	ctx  context.Context
	opts BuildOptions
	step func(string, ...any)
}

func (b *builder) command(dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(b.ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b.opts.Verbose {
		fmt.Fprintf(b.opts.Progress, "\t%sgo %s\n", strings.Join(env, " ")+map[bool]string{true: " ", false: ""}[len(env) > 0], strings.Join(args, " "))
	}
	return cmd
}

func (b *builder) run(cmd *exec.Cmd) ([]byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if b.ctx.Err() != nil {
		return nil, b.ctx.Err()
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("go %s: %s", strings.Join(cmd.Args[1:3], " "), msg)
	}
	return out, nil
}

func (b *builder) goOutput(dir string, args ...string) (string, error) {
	out, err := b.run(b.command(dir, nil, args...))
	return strings.TrimSpace(string(out)), err
}

func (b *builder) goJSON(dir string, v any, args ...string) error {
	out, err := b.run(b.command(dir, nil, args...))
	if err != nil {
		return err
	}
	return json.Unmarshal(out, v)
}

// findTargets reads the package's exported constructors, func Name()
// sdk.Source|sdk.Sink|sdk.Function (what kgen gen writes): one .so per
// source and sink, one for all the functions.
func findTargets(p *pkgInfo, name string) ([]target, error) {
	if p.Name == "main" {
		return nil, errors.New("a plugin package must not be package main (kgen build writes the main package)")
	}
	fset := token.NewFileSet()
	var fns []string
	var targets []target
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		sdkName := ""
		for _, imp := range file.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == kgenModule+"/sdk" {
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
			plugin := sdk.NameFromSymbol(fd.Name.Name)
			switch sel.Sel.Name {
			case "Source":
				targets = append(targets, target{sdk.KindSource, plugin, []string{fd.Name.Name}})
			case "Sink":
				targets = append(targets, target{sdk.KindSink, plugin, []string{fd.Name.Name}})
			case "Function":
				fns = append(fns, fd.Name.Name)
			}
		}
	}
	if len(fns) > 0 {
		slices.Sort(fns)
		t := target{kind: sdk.KindFunction, name: sdk.NameFromSymbol(fns[0]), ctors: fns}
		if len(fns) > 1 {
			t.name = cmpOr(name, p.Name)
		}
		if err := sdk.ValidateName(t.name); err != nil {
			return nil, fmt.Errorf("function plugin name: %w (set one with -name)", err)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, errors.New("no plugin constructors: want exported func Name() sdk.Source, sdk.Sink or sdk.Function (run kgen gen)")
	}
	slices.SortFunc(targets, func(a, b target) int { return strings.Compare(a.kind.String()+a.name, b.kind.String()+b.name) })
	return targets, nil
}

type workspace struct {
	dir   string
	goVer string
	env   []string
	flags []string
}

// listedModule is one module of `go list -m -json all`.
type listedModule struct {
	Path, Version, Dir string
	Main               bool
	Replace            *struct{ Path, Version, Dir string }
}

// listModules lists the module graph of the module in dir. Listing may need
// checksums the module's go.sum lacks, so it works on a copy of go.mod and
// go.sum (-modfile): the plugin project's files are never changed.
func (b *builder) listModules(dir string) ([]listedModule, error) {
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
	out, err := b.run(b.command(dir, []string{"GOFLAGS=-mod=mod", "GOWORK=off"}, "list", "-modfile="+filepath.Join(tmp, "go.mod"), "-m", "-json", "all"))
	if err != nil {
		return nil, err
	}
	var mods []listedModule
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m listedModule
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// workspace writes the build workspace: go.work uses the plugin's module
// and, for an engine built from a kgen source folder, that folder (so that
// -trimpath gives kgen's files the same names on both sides); it replaces
// every other module the engine links by the engine's version.
func (b *builder) workspace(p *pkgInfo) (*workspace, error) {
	t := b.opts.Target
	mods, err := b.listModules(p.Module.Dir)
	if err != nil {
		return nil, fmt.Errorf("build plugin: list modules: %w", err)
	}
	host := modules(t)
	use := []string{p.Module.Dir}
	var replaces []string
	var diffs []Diff
	for _, m := range mods {
		if m.Main {
			continue
		}
		h, linked := host[m.Path]
		if !linked {
			continue
		}
		pv := m.Version
		if m.Replace != nil {
			pv = cmpOr(m.Replace.Version, Local)
		}
		switch {
		case h.version == Local && m.Path == kgenModule && pv == Local:
			use = append(use, m.Replace.Dir)
			b.step("\t%s: using the source folder %s, as the engine does", m.Path, m.Replace.Dir)
		case h.version == Local:
			diffs = append(diffs, Diff{What: "module " + m.Path, Host: Local, Plugin: pv,
				Fix: "the engine was built from a source folder of " + m.Path + "; replace it with that folder in the plugin's go.mod"})
		case pv == Local:
			diffs = append(diffs, Diff{What: "module " + m.Path, Host: h.version, Plugin: Local,
				Fix: "the plugin's go.mod replaces " + m.Path + " with a folder; drop the replace (the engine uses " + h.version + ")"})
		case pv != h.version:
			b.step("\t%s %s -> %s (the engine's)", m.Path, pv, h.version)
			fallthrough
		default:
			to := h.version // "path version" when the engine's is replaced by another path
			if !strings.Contains(to, " ") {
				to = m.Path + " " + to
			}
			replaces = append(replaces, m.Path+" => "+to)
		}
	}
	if len(diffs) > 0 {
		return nil, &BuildError{Why: "build plugin: cannot align the module versions with the engine:", Diffs: diffs}
	}
	dir, err := os.MkdirTemp("", "kgen-build-")
	if err != nil {
		return nil, err
	}
	goVer := strings.TrimPrefix(t.GoVersion, "go")
	if i := strings.IndexAny(goVer, " -+"); i > 0 {
		goVer = goVer[:i]
	}
	var work strings.Builder
	fmt.Fprintf(&work, "go %s\n\nuse (\n", goVer)
	for _, u := range use {
		fmt.Fprintf(&work, "\t%s\n", strconv.Quote(u))
	}
	work.WriteString(")\n")
	if len(replaces) > 0 {
		work.WriteString("\nreplace (\n")
		for _, r := range replaces {
			fmt.Fprintf(&work, "\t%s\n", r)
		}
		work.WriteString(")\n")
	}
	// The checksums: the plugin's and kgen's go.sum, and the engine's own.
	var sums strings.Builder
	for _, u := range use {
		if data, err := os.ReadFile(filepath.Join(u, "go.sum")); err == nil {
			sums.Write(data)
		}
	}
	for _, d := range t.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Sum != "" && m.Version != "" {
			fmt.Fprintf(&sums, "%s %s %s\n", m.Path, m.Version, m.Sum)
		}
	}
	files := map[string]string{"go.work": work.String(), "go.work.sum": sums.String()}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	w := &workspace{dir: dir, goVer: goVer}
	w.env, w.flags = buildSettings(t)
	w.env = append(w.env, "GOWORK="+filepath.Join(dir, "go.work"), "GOFLAGS=")
	return w, nil
}

// buildSettings turns the engine's build settings into the go command's
// environment and flags.
func buildSettings(t *debug.BuildInfo) (env, flags []string) {
	s := settingMap(t)
	for _, k := range settings {
		v, ok := s[k]
		if !ok {
			continue
		}
		switch {
		case !strings.HasPrefix(k, "-"):
			env = append(env, k+"="+v)
		case v == "true":
			flags = append(flags, k)
		case v == "false" || k == "-compiler":
		default:
			flags = append(flags, k+"="+v)
		}
	}
	if _, ok := s["CGO_ENABLED"]; !ok {
		env = append(env, "CGO_ENABLED=1")
	}
	return env, flags
}

// buildOne writes the main package of one plugin and builds it.
func (b *builder) buildOne(p *pkgInfo, w *workspace, t target) (*Built, error) {
	mainDir := filepath.Join(w.dir, t.kind.Dir(), t.name)
	if err := os.MkdirAll(mainDir, 0o755); err != nil {
		return nil, err
	}
	var src strings.Builder
	src.WriteString("// Code generated by kgen. DO NOT EDIT.\n\n// Command " + t.name + " is the Go plugin kgen build makes of " + p.ImportPath + ".\npackage main\n\n")
	fmt.Fprintf(&src, "import (\n\tp %s\n\t\"%s/sdk\"\n)\n\n", strconv.Quote(p.ImportPath), kgenModule)
	iface := map[sdk.Kind]string{sdk.KindSource: "Source", sdk.KindSink: "Sink", sdk.KindFunction: "Function"}[t.kind]
	for _, c := range t.ctors {
		fmt.Fprintf(&src, "func %s() sdk.%s { return p.%s() }\n\n", c, iface, c)
	}
	src.WriteString("func main() {}\n")
	files := map[string]string{
		"go.mod":  "module kgenplugin/" + t.kind.Dir() + "/" + t.name + "\n\ngo " + w.goVer + "\n",
		"main.go": src.String(),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(mainDir, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	// Each plugin's main module joins the workspace.
	work, _ := os.ReadFile(filepath.Join(w.dir, "go.work"))
	work = bytes.Replace(work, []byte("use (\n"), []byte("use (\n\t"+strconv.Quote(mainDir)+"\n"), 1)
	if err := os.WriteFile(filepath.Join(w.dir, "go.work"), work, 0o644); err != nil {
		return nil, err
	}

	outDir := filepath.Join(cmpOr(b.opts.Out, filepath.Join("build", "plugins")), t.kind.Dir())
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(outDir, sdk.PluginFileName(t.name, ""))
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	tmp := abs + ".tmp"
	b.step("building %s plugin %q -> %s", t.kind, t.name, file)
	args := append([]string{"build", "-buildmode=plugin", "-buildvcs=false"}, w.flags...)
	args = append(args, "-o", tmp, ".")
	if _, err := b.run(b.command(mainDir, w.env, args...)); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("build plugin %q: %w", t.name, err)
	}

	b.step("checking %s against the engine", file)
	if err := b.verify(t.name, tmp); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	built := &Built{Kind: t.kind, Name: t.name, File: file}
	if t.kind == sdk.KindFunction {
		for _, c := range t.ctors {
			built.Functions = append(built.Functions, sdk.NameFromSymbol(c))
		}
		if err := writeFunctionsJSON(p.Dir, outDir, t.name, built.Functions); err != nil {
			return nil, err
		}
	}
	return built, nil
}

// verify checks a built plugin like the engine will before opening it.
func (b *builder) verify(name, file string) error {
	bi, err := buildinfo.ReadFile(file)
	if err != nil {
		return fmt.Errorf("build plugin %q: read build info: %w", name, err)
	}
	if diffs := Compare(b.opts.Target, bi); len(diffs) > 0 {
		return &BuildError{Why: fmt.Sprintf("build plugin %q: the result still differs from the engine, so it was deleted:", name), Diffs: diffs}
	}
	if b.opts.TargetFile == "" {
		return nil
	}
	host, err := packageHashes(b.opts.TargetFile)
	if err != nil {
		return fmt.Errorf("build plugin %q: read the engine's package hashes: %w", name, err)
	}
	hashes, err := packageHashes(file)
	if err != nil {
		return fmt.Errorf("build plugin %q: read package hashes: %w", name, err)
	}
	var diffs []Diff
	for _, pkg := range slices.Sorted(maps.Keys(hashes)) {
		if h, ok := host[pkg]; ok && h != hashes[pkg] {
			diffs = append(diffs, Diff{What: "package " + pkg, Host: h, Plugin: hashes[pkg],
				Fix: "module " + moduleOf(pkg, bi) + " was compiled from different sources than the engine's"})
		}
	}
	if len(diffs) > 0 {
		return &BuildError{Why: fmt.Sprintf("build plugin %q: the result still differs from the engine, so it was deleted:", name), Diffs: diffs}
	}
	return nil
}

// writeFunctionsJSON writes <name>.json beside a function plugin: the
// metadata kgen gen wrote for its functions (<fn>.json in the package), its
// "functions" lists merged, so that the engine registers every function.
func writeFunctionsJSON(pkgDir, outDir, name string, fns []string) error {
	var merged map[string]any
	var list []any
	for _, fn := range fns {
		data, err := os.ReadFile(filepath.Join(pkgDir, fn+".json"))
		var meta map[string]any
		if err != nil || json.Unmarshal(data, &meta) != nil {
			list = append(list, map[string]any{"name": fn})
			continue
		}
		if merged == nil {
			merged = meta
		}
		if l, ok := meta["functions"].([]any); ok {
			list = append(list, l...)
		}
	}
	if merged == nil {
		merged = map[string]any{}
	}
	merged["name"] = name
	merged["functions"] = list
	data, err := json.MarshalIndent(merged, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, name+".json"), append(data, '\n'), 0o644)
}
