package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/engine/portable"
	"github.com/kgen-dev/kgen/engine/sql"
	"github.com/kgen-dev/kgen/sdk"
)

// PortableBody is the body of POST /plugins/portables and PUT
// /plugins/portables/{name}, as in eKuiper.
type PortableBody struct {
	Name string `json:"name"`
	// File is the plugin zip (kgen pack -portable): a file:// URL or an
	// absolute path on the engine's machine.
	File string `json:"file"`
}

// PortableStatus is the body of GET /plugins/portables/{name}: the
// manifest of the installed version, its process, and the replaced
// versions that running rules still call.
type PortableStatus = portable.Status

// registerPortableRoutes serves /plugins/portables. Its routes are more
// specific than /plugins/{type}'s, so they take precedence.
func registerPortableRoutes(mux *http.ServeMux, s *server) {
	mux.HandleFunc("POST /plugins/portables", s.installPortable(false))
	mux.HandleFunc("GET /plugins/portables", s.listPortables)
	mux.HandleFunc("GET /plugins/portables/{name}", s.showPortable)
	mux.HandleFunc("GET /plugins/portables/{name}/status", s.showPortable)
	mux.HandleFunc("PUT /plugins/portables/{name}", s.installPortable(true))
	mux.HandleFunc("DELETE /plugins/portables/{name}", s.deletePortable)
}

// installPortable installs a plugin (POST) or installs it again (PUT): rules
// planned afterwards use the new version, running rules keep the old one
// until they restart.
func (s *server) installPortable(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, ok := s.readBody(w, r)
		if !ok {
			return
		}
		const want = `(want {"name": "greet", "file": "file:///path/greet.zip"})`
		var body PortableBody
		if err := decodeObject(data, &body); err != nil {
			s.fail(w, r, fmt.Errorf("request body: %w %s", err, want), http.StatusBadRequest)
			return
		}
		if replace {
			name := r.PathValue("name")
			if body.Name != "" && body.Name != name {
				s.fail(w, r, fmt.Errorf("request body: \"name\" is %q, the path's %q", body.Name, name), http.StatusBadRequest)
				return
			}
			body.Name = name
		}
		path, ok := s.installZip(w, r, body.Name, body.File, want, "portable plugin")
		if !ok {
			return
		}
		inst, err := s.e.Portable().InstallFile(body.Name, path, portable.InstallOptions{
			Replace: replace,
			Check:   s.checkPortableNames,
		})
		if err != nil {
			status := http.StatusBadRequest
			if errors.Is(err, fs.ErrExist) {
				status = http.StatusConflict
			}
			s.fail(w, r, err, status)
			return
		}
		s.logger.Info("portable plugin installed", "name", body.Name, "version", inst.Manifest.Version)
		if !replace {
			writeText(w, http.StatusCreated, fmt.Sprintf("portable plugin %s is created", body.Name))
			return
		}
		if inst.Replaced == nil {
			writeText(w, http.StatusCreated, fmt.Sprintf("portable plugin %s is created", body.Name))
			return
		}
		msg := fmt.Sprintf("portable plugin %s is updated", body.Name)
		if v := inst.Manifest.Version; v != "" {
			msg += fmt.Sprintf(" to version %q", v)
		}
		if inst.Retired > 0 {
			msg += fmt.Sprintf("; running rules keep the old version (%q, %d call sites) until they restart", inst.Replaced.Version, inst.Retired)
		}
		writeText(w, http.StatusOK, msg)
	}
}

// checkPortableNames refuses names the engine resolves before portable
// plugins: a SQL built-in function, a compiled-in source, sink or
// function, a Go plugin's.
func (s *server) checkPortableNames(man *portable.Manifest) error {
	for _, f := range man.Functions {
		if sql.IsBuiltin(f) {
			return fmt.Errorf("function %q is a SQL built-in; a plugin function cannot replace it", f)
		}
	}
	for _, c := range []struct {
		kind     sdk.Kind
		names    []string
		goPlugin func(string) bool
	}{
		{sdk.KindSource, man.Sources, func(n string) bool { _, ok := s.e.Plugins().Source(n); return ok }},
		{sdk.KindSink, man.Sinks, func(n string) bool { _, ok := s.e.Plugins().Sink(n); return ok }},
		{sdk.KindFunction, man.Functions, func(n string) bool { _, ok := s.e.Plugins().Function(n); return ok }},
	} {
		for _, n := range c.names {
			if slices.Contains(sdk.Registered(c.kind), n) && !s.e.Plugins().Owns(c.kind, n) {
				return fmt.Errorf("%s %q is compiled into the engine; a plugin %s cannot replace it", c.kind, n, c.kind)
			}
			if c.goPlugin(n) {
				return fmt.Errorf("%s %q is a Go plugin's (GET /plugins/%ss); delete that one first", c.kind, n, c.kind)
			}
		}
	}
	return nil
}

func (s *server) listPortables(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.e.Portable().Installed())
}

func (s *server) showPortable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	st, ok := s.e.Portable().Status(name)
	if !ok {
		s.fail(w, r, fmt.Errorf("portable plugin %q is not installed", name), http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// deletePortable uninstalls a plugin. One that rules call is refused,
// naming them, unless ?force=true; running rules then keep its process
// until they stop.
func (s *server) deletePortable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		var err error
		if force, err = strconv.ParseBool(v); err != nil {
			s.fail(w, r, fmt.Errorf("query parameter force=%q: want true or false", v), http.StatusBadRequest)
			return
		}
	}
	if st, ok := s.e.Portable().Status(name); ok && !force {
		var users []string
		for _, n := range st.Sources {
			users = append(users, s.e.PluginUsers(sdk.KindSource, n, nil)...)
		}
		for _, n := range st.Sinks {
			users = append(users, s.e.PluginUsers(sdk.KindSink, n, nil)...)
		}
		users = append(users, s.e.PluginUsers(sdk.KindFunction, name, st.Functions)...)
		slices.Sort(users)
		if users = slices.Compact(users); len(users) > 0 {
			s.fail(w, r, fmt.Errorf("delete portable plugin %q: used by %s; delete or change them first, or delete with ?force=true (running rules keep the plugin's process until they stop)",
				name, strings.Join(users, ", ")), http.StatusConflict)
			return
		}
	}
	n, err := s.e.Portable().Delete(name)
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	s.logger.Info("portable plugin deleted", "name", name, "running_call_sites", n)
	msg := fmt.Sprintf("portable plugin %s is deleted", name)
	if n > 0 {
		msg += fmt.Sprintf("; running rules keep it (%d call sites) until they stop", n)
	}
	writeText(w, http.StatusOK, msg)
}
