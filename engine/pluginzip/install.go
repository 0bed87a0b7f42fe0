package pluginzip

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/internal/fserr"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/sdk"
)

// Limits bound what Install accepts.
type Limits struct {
	// MaxEntries is the most entries (files and folders) a zip may have.
	MaxEntries int
	// MaxFileSize is the most bytes one entry may decompress to.
	MaxFileSize int64
	// MaxTotalSize is the most bytes all entries together may decompress to.
	MaxTotalSize int64
}

// DefaultLimits are the limits Install uses when Options.Limits is zero.
var DefaultLimits = Limits{MaxEntries: 1000, MaxFileSize: 100 << 20, MaxTotalSize: 200 << 20}

// DefaultScriptTimeout bounds install.sh when Options.ScriptTimeout is zero.
const DefaultScriptTimeout = 2 * time.Minute

// ScriptPath is the PATH install.sh runs with.
const ScriptPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// AllowScriptsSetting is the etc/kgen.yaml setting that lets install.sh run.
const AllowScriptsSetting = "plugins.allowInstallScripts"

// ErrScriptsOff is returned (wrapped) for a zip with an install.sh when
// Options.AllowScripts is false.
var ErrScriptsOff = errors.New("install scripts are off")

// Options tune Install.
type Options struct {
	// Load loads the plugin once its files are in place (the engine's plugin
	// manager). When it fails, the files are removed again and Install
	// returns its error. Nil skips loading.
	Load func(kind sdk.Kind, soPath string) error
	// AllowScripts lets a zip's install.sh run. Running it runs the zip's
	// code as the engine's user, so it is off unless the engine's settings
	// turn it on (plugins.allowInstallScripts); a zip holding install.sh is
	// refused otherwise.
	AllowScripts bool
	// ShellParas are the arguments of install.sh.
	ShellParas []string
	// RunScript runs install.sh in dir with args and the environment env
	// (see ScriptEnv); nil means RunShell.
	RunScript func(ctx context.Context, dir string, args, env []string, logger *slog.Logger) error
	// ScriptTimeout bounds install.sh; zero means DefaultScriptTimeout.
	ScriptTimeout time.Duration
	// Limits; the zero value means DefaultLimits.
	Limits Limits
	// Logger receives install.sh's output; nil discards it.
	Logger *slog.Logger
}

// Installed describes a successful install.
type Installed struct {
	Kind    sdk.Kind
	Name    string
	Version string // from the .so name ("v1.0.0"), or ""
	// Files are the paths the install created, relative to the root, with
	// slashes, sorted: the .so, the metadata, the source yaml and the
	// plugin's etc folder (one entry when the folder was new, else its new
	// files).
	Files []string
	// Kept are the configuration files the zip holds that the root had
	// already (kept by an earlier delete, or written by the user): the
	// install leaves them as they are.
	Kept []string
}

// InstallFile installs the plugin zip at zipPath; see Install.
func InstallFile(root string, kind sdk.Kind, name, zipPath string, opts Options) (*Installed, error) {
	f, st, err := OpenRegular(zipPath)
	if err != nil {
		return nil, fmt.Errorf("install %s plugin %q: %w", kind.Dir(), name, err)
	}
	defer f.Close()
	return Install(root, kind, name, f, st.Size(), opts)
}

// InstallBytes installs a plugin zip held in memory; see Install.
func InstallBytes(root string, kind sdk.Kind, name string, data []byte, opts Options) (*Installed, error) {
	return Install(root, kind, name, bytes.NewReader(data), int64(len(data)), opts)
}

// Install installs the plugin zip read from r (size bytes) as the plugin
// name of the given kind under the engine root folder. Errors read
// `install sources plugin "random": <reason>`; they match fs.ErrExist when the
// plugin or one of its files is already installed.
func Install(root string, kind sdk.Kind, name string, r io.ReaderAt, size int64, opts Options) (*Installed, error) {
	inst, err := install(root, kind, name, r, size, opts)
	if err != nil {
		return nil, fmt.Errorf("install %s plugin %q: %w", kind.Dir(), name, err)
	}
	return inst, nil
}

// plan is what a zip holds, once checked.
type plan struct {
	so      string // the .so entry name
	version string
	json    bool // <name>.json
	yaml    bool // <name>.yaml, sources only
	etc     bool // an etc/ folder
	script  bool // install.sh
}

// move is one file or folder going from the staging folder into place.
type move struct{ from, to string }

func install(root string, kind sdk.Kind, name string, r io.ReaderAt, size int64, opts Options) (_ *Installed, err error) {
	if err := sdk.ValidateName(name); err != nil {
		return nil, err
	}
	if !slices.Contains(sdk.Kinds, kind) {
		return nil, fmt.Errorf("unknown plugin kind %s", kind)
	}
	lim := opts.Limits
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	if file, version, ok, err := Find(root, kind, name); err != nil {
		return nil, err
	} else if ok {
		return nil, existsError(name, file, version)
	}

	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath comes with a usable reader; check reports
		// which entry is insecure, and why.
		return nil, fmt.Errorf("open zip: %w", err)
	}
	p, err := check(zr, kind, name, lim)
	if err != nil {
		return nil, err
	}
	if len(opts.ShellParas) > 0 && !p.script {
		return nil, fmt.Errorf("shell parameters %q given, but the zip has no install.sh", opts.ShellParas)
	}
	if p.script && !opts.AllowScripts {
		return nil, fmt.Errorf("the zip has an install.sh, and %w: running it would run the zip's code as the engine's user; "+
			"to allow it, set %s: true in etc/kgen.yaml and restart the engine, or remove install.sh from the zip", ErrScriptsOff, AllowScriptsSetting)
	}

	pluginsDir := filepath.Join(root, layout.PluginsDir)
	if err := os.MkdirAll(pluginsDir, 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(pluginsDir, ".install-"+name+"-")
	if err != nil {
		return nil, fmt.Errorf("staging folder: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(staging); rerr != nil && err == nil {
			err = fmt.Errorf("remove staging folder: %w", rerr)
		}
	}()
	if err := Extract(zr, staging, lim, false); err != nil {
		return nil, err
	}
	if p.script {
		if err := runScript(root, staging, opts); err != nil {
			return nil, err
		}
		// From here on a failure removes what the install wrote, but not
		// what the script did outside its folder: say so.
		defer func() {
			if err != nil {
				err = fmt.Errorf("%w (install.sh had run: the files of this install were removed, but changes the script made outside its folder are not undone)", err)
			}
		}()
	}

	l := installed{root: root, kind: kind, name: name}
	var moves []move
	var kept []string
	// Configuration the root has already is the user's: it stays, and
	// the zip's copy is dropped.
	if p.etc {
		etcMoves, etcKept, err := configMoves(filepath.Join(staging, "etc"), l.etcDir())
		if err != nil {
			return nil, err
		}
		moves = append(moves, etcMoves...)
		kept = append(kept, etcKept...)
	}
	if p.json {
		moves = append(moves, move{filepath.Join(staging, name+".json"), l.jsonFile()})
	}
	if p.yaml {
		if _, err := os.Lstat(l.yamlFile()); err == nil {
			kept = append(kept, l.yamlFile())
		} else {
			moves = append(moves, move{filepath.Join(staging, name+".yaml"), l.yamlFile()})
		}
	}
	// The .so goes last: once it is in plugins/, a restarting engine would
	// load it, so everything it needs must already be there.
	soPath := filepath.Join(l.soDir(), p.so)
	moves = append(moves, move{filepath.Join(staging, p.so), soPath})

	for _, m := range moves {
		if _, err := os.Lstat(m.to); err == nil {
			return nil, fserr.Errorf(fserr.Exists, "%s already exists; remove it first", l.rel(m.to))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if _, err := os.Lstat(m.from); err != nil {
			return nil, fmt.Errorf("install.sh removed %s", filepath.Base(m.from))
		}
	}
	// The manifest records what the install wrote, so that Delete removes
	// only those files, and only while they are unchanged.
	man, err := newManifest(l, moves)
	if err != nil {
		return nil, err
	}
	done, err := place(moves)
	if err != nil {
		return nil, errors.Join(err, rollback(done))
	}
	if err := man.write(l); err != nil {
		return nil, errors.Join(fmt.Errorf("write %s: %w", l.rel(l.manifestFile()), err), rollback(done))
	}
	if opts.Load != nil {
		if err := opts.Load(kind, soPath); err != nil {
			return nil, errors.Join(fmt.Errorf("load: %w", err), os.Remove(l.manifestFile()), rollback(done))
		}
	}
	inst := &Installed{Kind: kind, Name: name, Version: p.version}
	for _, m := range moves {
		inst.Files = append(inst.Files, l.rel(m.to))
	}
	for _, k := range kept {
		inst.Kept = append(inst.Kept, l.rel(k))
	}
	slices.Sort(inst.Files)
	slices.Sort(inst.Kept)
	return inst, nil
}

// configMoves moves the zip's etc folder into place: whole when the
// plugin's folder is new, else file by file, keeping the files that exist.
func configMoves(from, to string) (moves []move, kept []string, err error) {
	if _, err := os.Lstat(to); errors.Is(err, fs.ErrNotExist) {
		return []move{{from, to}}, nil, nil
	}
	err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if _, err := os.Lstat(dst); err == nil {
			kept = append(kept, dst)
			return nil
		}
		moves = append(moves, move{p, dst})
		return nil
	})
	return moves, kept, err
}

func existsError(name, file, version string) error {
	if version != "" {
		return fserr.Errorf(fserr.Exists, "plugin %q is already installed (%s); delete it first", name, version)
	}
	return fserr.Errorf(fserr.Exists, "plugin %q is already installed (%s); delete it first", name, file)
}

// soNames is the hint for a plugin file name.
func soNames(name string) string {
	return fmt.Sprintf("%s.so, %s.so or %s@<version>.so", name, sdk.SymbolName(name), sdk.SymbolName(name))
}

// CheckEntries checks what a zip's headers say, before anything is
// decompressed: the number of entries, each entry's path and type
// (EntryPath), the names against each other (Names), and the sizes the
// headers declare against lim. It calls visit with each entry that passes,
// and stops at the first error, its own or visit's. Plugin, portable and
// service zips are all checked by it (Extract then counts what really
// decompresses).
func CheckEntries(zr *zip.Reader, lim Limits, visit func(f *zip.File, clean string, isDir bool) error) error {
	if n := len(zr.File); n > lim.MaxEntries {
		return fmt.Errorf("zip has %d entries, more than the limit of %d", n, lim.MaxEntries)
	}
	var declared uint64
	var names Names
	for _, f := range zr.File {
		clean, isDir, err := EntryPath(f)
		if err != nil {
			return err
		}
		if err := names.Add(f, clean, isDir); err != nil {
			return err
		}
		if f.UncompressedSize64 > uint64(lim.MaxFileSize) {
			return fmt.Errorf("zip entry %q: larger than the limit of %d bytes", f.Name, lim.MaxFileSize)
		}
		if declared += f.UncompressedSize64; declared > uint64(lim.MaxTotalSize) {
			return fmt.Errorf("zip contents are larger than the limit of %d bytes", lim.MaxTotalSize)
		}
		if err := visit(f, clean, isDir); err != nil {
			return err
		}
	}
	return nil
}

// check validates every entry of the zip and returns what it holds.
func check(zr *zip.Reader, kind sdk.Kind, name string, lim Limits) (*plan, error) {
	p := &plan{}
	err := CheckEntries(zr, lim, func(f *zip.File, clean string, isDir bool) error {
		top, _, nested := strings.Cut(clean, "/")
		switch {
		case top == "etc" && (nested || isDir):
			p.etc = true
		case top == "etc":
			return fmt.Errorf("zip entry %q: etc must be a folder", f.Name)
		case nested || isDir:
			// Scratch for install.sh.
		case strings.HasSuffix(top, ".so"):
			n, v, err := sdk.ParsePluginFileName(top)
			if err != nil || n != name {
				return fmt.Errorf("zip entry %q: want %s for plugin %q", f.Name, soNames(name), name)
			}
			if p.so != "" {
				return fmt.Errorf("zip holds two plugin files, %q and %q", p.so, top)
			}
			p.so, p.version = top, v
		case top == name+".json":
			p.json = true
		case top == name+".yaml" && kind == sdk.KindSource:
			p.yaml = true
		case top == "install.sh":
			p.script = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if p.so == "" {
		return nil, fmt.Errorf("zip has no plugin file: want %s at its root", soNames(name))
	}
	if kind == sdk.KindSource && !p.yaml {
		return nil, fmt.Errorf("zip has no %s.yaml: a source plugin needs its configuration", name)
	}
	return p, nil
}

// EntryPath checks a zip entry's name and type (no absolute paths,
// backslashes, "..", links or special files) and returns its path without
// a trailing slash. Service zips are checked by it too.
func EntryPath(f *zip.File) (clean string, isDir bool, err error) {
	n := f.Name
	switch {
	case n == "":
		return "", false, errors.New("zip entry with an empty name")
	case strings.HasPrefix(n, "/") || strings.HasPrefix(n, `\`) || (len(n) >= 2 && n[1] == ':'):
		return "", false, fmt.Errorf("zip entry %q: absolute paths are not allowed", n)
	case strings.Contains(n, `\`):
		return "", false, fmt.Errorf("zip entry %q: backslashes are not allowed", n)
	}
	clean, isDir = strings.CutSuffix(n, "/")
	elems := strings.Split(clean, "/")
	switch {
	case strings.ContainsRune(n, 0):
		return "", false, fmt.Errorf("zip entry %q: a name must not hold a NUL byte", n)
	case slices.Contains(elems, ".."):
		return "", false, fmt.Errorf(`zip entry %q: ".." is not allowed`, n)
	case !fs.ValidPath(clean) || clean == ".":
		return "", false, fmt.Errorf("zip entry %q: invalid path", n)
	case len(elems) > MaxDepth:
		return "", false, fmt.Errorf("zip entry %q: nested %d deep, more than the limit of %d", Shorten(n), len(elems), MaxDepth)
	}
	for _, e := range elems {
		if len(e) > MaxNameLen {
			return "", false, fmt.Errorf("zip entry %q: a file or folder name of %d bytes, more than the limit of %d", Shorten(n), len(e), MaxNameLen)
		}
	}
	mode := f.Mode()
	switch {
	case mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0:
		return "", false, fmt.Errorf("zip entry %q: setuid, setgid and sticky bits are not allowed (mode %v)", n, mode)
	case mode&fs.ModeSymlink != 0:
		return "", false, fmt.Errorf("zip entry %q: symbolic links are not allowed", n)
	case mode.IsDir():
		isDir = true
	case isDir:
		return "", false, fmt.Errorf("zip entry %q: a file name must not end in /", n)
	case !mode.IsRegular():
		return "", false, fmt.Errorf("zip entry %q: only files and folders are allowed, not %s", n, mode.Type())
	}
	return clean, isDir, nil
}

// MaxNameLen is the longest file or folder name a zip entry may have, in
// bytes (most file systems' limit), and MaxDepth the most names a zip
// entry's path may have.
const (
	MaxNameLen = 255
	MaxDepth   = 32
)

// Shorten cuts an entry name or path longer than MaxNameLen for an error
// message.
func Shorten(n string) string {
	if len(n) <= MaxNameLen {
		return n
	}
	return n[:40] + "..." + n[len(n)-37:]
}

// Names checks the names of a zip's entries against each other: no name
// twice, no two names that differ only in case (one file on a
// case-insensitive file system, and a way to make what is checked differ
// from what is used), and no path that is both a file and a folder. The
// zero value is ready to use.
type Names struct {
	entries map[string]bool   // path of each entry, with a "/" for a folder
	folded  map[string]string // lower-case path of each file and folder → the path
	files   map[string]string // file path → entry name
	dirs    map[string]string // folder path, given or implied → entry name
}

// Add checks the entry f, whose path EntryPath returned as clean and isDir.
func (s *Names) Add(f *zip.File, clean string, isDir bool) error {
	if s.entries == nil {
		s.entries, s.folded = map[string]bool{}, map[string]string{}
		s.files, s.dirs = map[string]string{}, map[string]string{}
	}
	key := clean
	if isDir {
		key += "/"
	}
	if _, ok := s.entries[key]; ok {
		return fmt.Errorf("zip entry %q: duplicate entry", f.Name)
	}
	s.entries[key] = true
	for p := clean; p != "."; p = path.Dir(p) {
		low := strings.ToLower(p)
		if q, ok := s.folded[low]; ok && q != p {
			return fmt.Errorf("zip entry %q: %q differs only in case from %q", f.Name, p, q)
		}
		s.folded[low] = p
	}
	if prev, ok := s.dirs[clean]; ok && !isDir {
		return fmt.Errorf("zip entry %q: %q is both a file and a folder (entry %q)", f.Name, clean, prev)
	}
	if prev, ok := s.files[clean]; ok && isDir {
		return fmt.Errorf("zip entry %q: %q is both a file (entry %q) and a folder", f.Name, clean, prev)
	}
	if isDir {
		s.dirs[clean] = f.Name
	} else {
		s.files[clean] = f.Name
	}
	for d := path.Dir(clean); d != "."; d = path.Dir(d) {
		if prev, ok := s.files[d]; ok {
			return fmt.Errorf("zip entry %q: %q is both a file (entry %q) and a folder", f.Name, d, prev)
		}
		s.dirs[d] = f.Name
	}
	return nil
}

// Extract writes every entry under dir, through an os.Root so that no
// entry can land outside it whatever its name, and counts the bytes that
// are really decompressed. With keepExec, an entry with an executable bit
// is written 0755 (a portable plugin's executable), else every file is
// 0644.
func Extract(zr *zip.Reader, dir string, lim Limits, keepExec bool) error {
	rt, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer rt.Close()
	var total int64
	for _, f := range zr.File {
		clean, isDir, err := EntryPath(f)
		if err != nil {
			return err
		}
		if isDir {
			if err := rt.MkdirAll(clean, 0o755); err != nil {
				return fmt.Errorf("zip entry %q: %w", f.Name, err)
			}
			continue
		}
		if d := path.Dir(clean); d != "." {
			if err := rt.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("zip entry %q: %w", f.Name, err)
			}
		}
		mode := fs.FileMode(0o644)
		if keepExec && f.Mode()&0o111 != 0 {
			mode = 0o755
		}
		n, err := extractFile(rt, f, clean, mode, lim.MaxFileSize, lim.MaxTotalSize-total)
		total += n
		if err != nil {
			return err
		}
	}
	return nil
}

func extractFile(rt *os.Root, f *zip.File, name string, mode fs.FileMode, maxFile, remaining int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := rt.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return 0, fmt.Errorf("zip entry %q: duplicate entry", f.Name)
	}
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	limit := min(maxFile, remaining)
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case n > maxFile:
		return n, fmt.Errorf("zip entry %q: larger than the limit of %d bytes", f.Name, maxFile)
	case n > remaining:
		return n, errors.New("zip contents are larger than the limit of the total size")
	case err != nil:
		return n, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	if mode&0o111 != 0 {
		if err := rt.Chmod(name, mode); err != nil { // not narrowed by the umask
			return n, fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
	}
	return n, nil
}

func runScript(root, dir string, opts Options) error {
	timeout := opts.ScriptTimeout
	if timeout == 0 {
		timeout = DefaultScriptTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	run := opts.RunScript
	if run == nil {
		run = RunShell
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := run(ctx, dir, opts.ShellParas, ScriptEnv(root, dir), logger)
	if ctx.Err() != nil {
		return fmt.Errorf("install.sh: did not finish within %v (plugins.installScriptTimeout)", timeout)
	}
	if err != nil {
		return fmt.Errorf("install.sh: %w", err)
	}
	return nil
}

// ScriptEnv is the whole environment install.sh runs with: nothing of the
// engine's own (no tokens, no proxies) but PATH=ScriptPath, HOME=dir (the
// folder the zip was extracted to, its working folder) and KGEN_ROOT=root.
func ScriptEnv(root, dir string) []string {
	return []string{"PATH=" + ScriptPath, "HOME=" + dir, "KGEN_ROOT=" + root}
}

// maxScriptOutput is how much of install.sh's output is kept for the log:
// the last bytes.
const maxScriptOutput = 64 << 10

// RunShell runs `/bin/sh install.sh args...` in dir with the environment
// env, and logs its output (the last 64 KiB). When ctx ends, the script and
// every process it started in its process group are killed. A failure's
// error ends with the last lines of the output.
func RunShell(ctx context.Context, dir string, args, env []string, logger *slog.Logger) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"install.sh"}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = time.Second
	ownGroup(cmd)
	out := &tailBuffer{max: maxScriptOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	text := out.String()
	logger.Info("install.sh ran", "dir", dir, "args", args, "output", text, "err", err)
	if err != nil {
		if tail := lastLines(text, 5); tail != "" {
			return fmt.Errorf("%w: %s", err, tail)
		}
		return err
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.cut = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut {
		return "[...]" + string(b.buf)
	}
	return string(b.buf)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// place renames each move into place and returns those that were done.
func place(moves []move) ([]move, error) {
	var done []move
	for _, m := range moves {
		if err := os.MkdirAll(filepath.Dir(m.to), 0o755); err != nil {
			return done, err
		}
		if err := os.Rename(m.from, m.to); err != nil {
			return done, err
		}
		done = append(done, m)
	}
	return done, nil
}

// rollback moves placed files back, newest first.
func rollback(done []move) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		if err := os.Rename(done[i].to, done[i].from); err != nil {
			// Cannot move it back: delete it rather than leave half a plugin.
			if rerr := os.RemoveAll(done[i].to); rerr != nil {
				errs = append(errs, fmt.Errorf("roll back: %w", rerr))
			}
		}
	}
	return errors.Join(errs...)
}
