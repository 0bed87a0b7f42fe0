package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kgen-dev/kgen/engine/plugin"
	"github.com/kgen-dev/kgen/engine/pluginzip"
	"github.com/kgen-dev/kgen/sdk"
)

// PluginBody is the body of POST /plugins/{type}, as in eKuiper.
type PluginBody struct {
	Name string `json:"name"`
	// File is the plugin zip: a file:// URL or an absolute path on the
	// engine's machine.
	File string `json:"file"`
	// ShellParas are the arguments of the zip's install.sh, which runs only
	// when etc/kgen.yaml sets plugins.allowInstallScripts: true.
	ShellParas []string `json:"shellParas,omitempty"`
}

// PluginInfo is the body of GET /plugins/{type}/{name}.
type PluginInfo struct {
	Name string `json:"name"`
	// Version is the version of the .so file name without its leading "v"
	// ("1.0.0" for Random@v1.0.0.so), as eKuiper reports it; "" when none.
	Version string `json:"version"`
	// File is the path of the .so on the engine's machine.
	File string `json:"file"`
	// Functions are the SQL functions of a function plugin.
	Functions []string `json:"functions,omitempty"`
	// Error is why the plugin could not be loaded; empty when it is loaded.
	Error string `json:"error,omitempty"`
	// Quarantined is the folder, relative to the engine root, its file was
	// moved to at startup because it failed to load (a panic in its init,
	// a crash, a build that does not match the engine); empty otherwise.
	Quarantined string `json:"quarantined,omitempty"`
}

// pluginServer serves /plugins. Installs and deletes take turns, so two
// requests never race on one plugin's files.
type pluginServer struct {
	*server
	mu sync.Mutex
}

func registerPluginRoutes(mux *http.ServeMux, s *server) {
	p := &pluginServer{server: s}
	mux.HandleFunc("POST /plugins/{type}", p.install)
	mux.HandleFunc("GET /plugins/{type}", p.list)
	mux.HandleFunc("GET /plugins/{type}/{name}", p.show)
	mux.HandleFunc("DELETE /plugins/{type}/{name}", p.delete)
}

func (p *pluginServer) kind(w http.ResponseWriter, r *http.Request) (sdk.Kind, bool) {
	k, err := sdk.ParseKind(r.PathValue("type"))
	if err != nil {
		p.fail(w, r, err, http.StatusNotFound)
		return 0, false
	}
	return k, true
}

func (p *pluginServer) install(w http.ResponseWriter, r *http.Request) {
	kind, ok := p.kind(w, r)
	if !ok {
		return
	}
	data, ok := p.readBody(w, r)
	if !ok {
		return
	}
	const want = `(want {"name": "random", "file": "file:///path/random.zip", "shellParas": []})`
	var body PluginBody
	if err := decodeObject(data, &body); err != nil {
		p.fail(w, r, fmt.Errorf("request body: %w %s", err, want), http.StatusBadRequest)
		return
	}
	path, ok := p.installZip(w, r, body.Name, body.File, want, kind.Dir()+" plugin")
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	mgr := p.e.Plugins()
	if slices.Contains(sdk.Registered(kind), body.Name) && !mgr.Owns(kind, body.Name) {
		p.fail(w, r, fmt.Errorf("install %s plugin %q: a built-in %s has that name; a plugin cannot replace an extension compiled into the engine", kind.Dir(), body.Name, kind), http.StatusConflict)
		return
	}
	_, err := pluginzip.InstallFile(p.e.Root(), kind, body.Name, path, pluginzip.Options{
		Load: func(k sdk.Kind, so string) error {
			known := slices.ContainsFunc(mgr.List(k), func(i plugin.Info) bool { return i.Name == body.Name })
			_, err := mgr.Load(k, so)
			if err != nil && !known {
				// The manager lists refused files; this one is rolled back.
				mgr.Forget(k, body.Name)
			}
			return err
		},
		AllowScripts:  p.e.Config().Plugins.AllowInstallScripts,
		ScriptTimeout: p.e.Config().Plugins.InstallScriptTimeout,
		ShellParas:    body.ShellParas,
		Logger:        p.logger.With("plugin", body.Name),
	})
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, fs.ErrExist) || errors.Is(err, plugin.ErrRestartNeeded) {
			status = http.StatusConflict
		}
		p.fail(w, r, err, status)
		return
	}
	p.logger.Info("plugin installed", "kind", kind, "name", body.Name)
	writeText(w, http.StatusCreated, fmt.Sprintf("%s plugin %s is created", kind.Dir(), body.Name))
}

// installZip checks the name and file of an install request's body and
// returns the local path of the zip; want shows the body expected, what
// names the install ("sinks plugin") in an error about the file.
func (s *server) installZip(w http.ResponseWriter, r *http.Request, name, file, want, what string) (string, bool) {
	switch {
	case name == "":
		s.fail(w, r, fmt.Errorf(`request body: "name" is required %s`, want), http.StatusBadRequest)
		return "", false
	case file == "":
		s.fail(w, r, fmt.Errorf(`request body: "file" is required %s`, want), http.StatusBadRequest)
		return "", false
	}
	path, err := zipPath(file)
	if err != nil {
		s.fail(w, r, fmt.Errorf("install %s %q: %w", what, name, err), http.StatusBadRequest)
		return "", false
	}
	return path, true
}

// zipPath turns the "file" of a request into a local path.
func zipPath(file string) (string, error) {
	if strings.Contains(file, "://") {
		u, err := url.Parse(file)
		if err != nil {
			return "", fmt.Errorf("file %q: %w", file, err)
		}
		if u.Scheme != "file" {
			return "", fmt.Errorf("file %q: want a file:// URL or an absolute path on the engine's machine", file)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("file %q: a file:// URL must name a local file (file:///path)", file)
		}
		file = u.Path
	}
	if !filepath.IsAbs(file) {
		return "", fmt.Errorf("file %q: want an absolute path or a file:// URL (the engine's working folder is not the client's)", file)
	}
	return filepath.Clean(file), nil
}

// infos lists the plugins of a kind the manager knows, one per name: the
// loaded one if any.
func (p *pluginServer) infos(kind sdk.Kind) []plugin.Info {
	var out []plugin.Info
	for _, info := range p.e.Plugins().List(kind) {
		i := slices.IndexFunc(out, func(o plugin.Info) bool { return o.Name == info.Name })
		switch {
		case i < 0:
			out = append(out, info)
		case out[i].Err != "" && info.Err == "":
			out[i] = info
		}
	}
	slices.SortFunc(out, func(a, b plugin.Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (p *pluginServer) list(w http.ResponseWriter, r *http.Request) {
	kind, ok := p.kind(w, r)
	if !ok {
		return
	}
	names := []string{}
	for _, info := range p.infos(kind) {
		names = append(names, info.Name)
	}
	writeJSON(w, http.StatusOK, names)
}

func (p *pluginServer) show(w http.ResponseWriter, r *http.Request) {
	kind, ok := p.kind(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	for _, info := range p.infos(kind) {
		if info.Name == name {
			writeJSON(w, http.StatusOK, PluginInfo{
				Name:        info.Name,
				Version:     strings.TrimPrefix(info.Version, "v"),
				File:        info.File,
				Functions:   info.Functions,
				Error:       info.Err,
				Quarantined: info.Quarantined,
			})
			return
		}
	}
	p.fail(w, r, fmt.Errorf("%s plugin %q is not installed", kind.Dir(), name), http.StatusNotFound)
}

func (p *pluginServer) delete(w http.ResponseWriter, r *http.Request) {
	kind, ok := p.kind(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		var err error
		if force, err = strconv.ParseBool(v); err != nil {
			p.fail(w, r, fmt.Errorf("query parameter force=%q: want true or false", v), http.StatusBadRequest)
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	infos := p.e.Plugins().List(kind)
	i := slices.IndexFunc(infos, func(i plugin.Info) bool { return i.Name == name })
	if i >= 0 && !force {
		if users := p.e.PluginUsers(kind, name, infos[i].Functions); len(users) > 0 {
			p.fail(w, r, fmt.Errorf("delete %s plugin %q: used by %s; delete or change them first, or delete with ?force=true (running rules keep the plugin's code until they stop)",
				kind.Dir(), name, strings.Join(users, ", ")), http.StatusConflict)
			return
		}
	}
	deleted, err := pluginzip.Delete(p.e.Root(), kind, name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && i >= 0:
		// The files are gone already; forget the plugin all the same.
		deleted = &pluginzip.Deleted{}
	case errors.Is(err, fs.ErrNotExist):
		p.fail(w, r, err, http.StatusNotFound)
		return
	case err != nil:
		p.fail(w, r, err, http.StatusBadRequest)
		return
	}
	p.e.Plugins().Forget(kind, name)
	p.logger.Info("plugin deleted", "kind", kind, "name", name, "removed", deleted.Removed, "kept", deleted.Kept)
	msg := fmt.Sprintf("%s plugin %s is deleted", kind.Dir(), name)
	if len(deleted.Kept) > 0 {
		msg += fmt.Sprintf("; kept the configuration changed or added since the install: %s", strings.Join(deleted.Kept, ", "))
	}
	msg += "; rules already using it keep it until they stop, as Go cannot unload a plugin"
	writeText(w, http.StatusOK, msg)
}
