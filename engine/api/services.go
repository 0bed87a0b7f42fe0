package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"sync"
)

// ServiceBody is the JSON body of POST /services and PUT /services/{name},
// as in eKuiper: File is the service zip (<name>.json plus schemas/**), a
// file:// URL or an absolute path on the engine's machine. A client on
// another machine sends the zip itself instead, as the body with
// Content-Type application/zip (POST then takes the name from ?name=).
type ServiceBody struct {
	Name string `json:"name"`
	File string `json:"file"`
}

// MaxServiceZipSize bounds an uploaded service zip (64 MiB).
const MaxServiceZipSize = 64 << 20

type serviceServer struct {
	*server
	mu sync.Mutex // adds, updates and deletes take turns
}

func registerServiceRoutes(mux *http.ServeMux, s *server) {
	v := &serviceServer{server: s}
	mux.HandleFunc("POST /services", v.create)
	mux.HandleFunc("GET /services", v.list)
	mux.HandleFunc("GET /services/functions", v.functions)
	mux.HandleFunc("GET /services/functions/{name}", v.function)
	mux.HandleFunc("GET /services/{name}", v.show)
	mux.HandleFunc("PUT /services/{name}", v.update)
	mux.HandleFunc("DELETE /services/{name}", v.delete)
}

// zipOf reads the service zip of a POST or PUT: the body itself when it is
// application/zip, else the file the JSON body names. name is the name in
// the URL ("" for POST); the returned name is the service's.
func (v *serviceServer) zipOf(w http.ResponseWriter, r *http.Request, name string) (string, []byte, bool) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/zip" {
		if name == "" {
			name = r.URL.Query().Get("name")
		}
		if name == "" {
			v.fail(w, r, errors.New(`a zip body needs the service name: POST /services?name=<name>`), http.StatusBadRequest)
			return "", nil, false
		}
		data, ok := v.readBodyLimit(w, r, MaxServiceZipSize)
		return name, data, ok
	}
	data, ok := v.readBody(w, r)
	if !ok {
		return "", nil, false
	}
	const want = `(want {"name": "sample", "file": "file:///path/sample.zip"}, or the zip itself as application/zip)`
	var body ServiceBody
	if err := decodeObject(data, &body); err != nil {
		v.fail(w, r, fmt.Errorf("request body: %w %s", err, want), http.StatusBadRequest)
		return "", nil, false
	}
	switch {
	case name == "" && body.Name == "":
		v.fail(w, r, fmt.Errorf(`request body: "name" is required %s`, want), http.StatusBadRequest)
		return "", nil, false
	case name != "" && body.Name != "" && body.Name != name:
		v.fail(w, r, fmt.Errorf("request body: name %q does not match the URL's %q", body.Name, name), http.StatusBadRequest)
		return "", nil, false
	case body.File == "":
		v.fail(w, r, fmt.Errorf(`request body: "file" is required %s`, want), http.StatusBadRequest)
		return "", nil, false
	}
	if name == "" {
		name = body.Name
	}
	path, err := zipPath(body.File)
	if err != nil {
		v.fail(w, r, fmt.Errorf("service %q: %w", name, err), http.StatusBadRequest)
		return "", nil, false
	}
	zipData, err := readLimited(path, MaxServiceZipSize)
	if err != nil {
		v.fail(w, r, fmt.Errorf("service %q: %w", name, err), http.StatusBadRequest)
		return "", nil, false
	}
	return name, zipData, true
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

func (v *serviceServer) create(w http.ResponseWriter, r *http.Request) {
	v.put(w, r, "", v.e.Services().AddZip, "added", http.StatusCreated, "service %s is created")
}

func (v *serviceServer) update(w http.ResponseWriter, r *http.Request) {
	v.put(w, r, r.PathValue("name"), v.e.Services().UpdateZip, "updated", http.StatusOK,
		"service %s is updated; rules started from now on use it")
}

// put registers the zip of a POST or PUT with apply (AddZip or UpdateZip).
func (v *serviceServer) put(w http.ResponseWriter, r *http.Request, urlName string, apply func(name string, zip []byte) error,
	verb string, status int, reply string) {
	name, data, ok := v.zipOf(w, r, urlName)
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := apply(name, data); err != nil {
		v.fail(w, r, err, statusFor(err))
		return
	}
	v.logger.Info("service "+verb, "name", name)
	writeText(w, status, fmt.Sprintf(reply, name))
}

func (v *serviceServer) delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.e.Services().Delete(name); err != nil {
		v.fail(w, r, err, statusFor(err))
		return
	}
	v.logger.Info("service deleted", "name", name)
	writeText(w, http.StatusOK, fmt.Sprintf("service %s is deleted; running rules keep it until they restart", name))
}

func (v *serviceServer) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(v.e.Services().Services()))
}

func (v *serviceServer) show(w http.ResponseWriter, r *http.Request) {
	d, err := v.e.Services().Get(r.PathValue("name"))
	if err != nil {
		v.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (v *serviceServer) functions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(v.e.Services().Functions()))
}

func (v *serviceServer) function(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, f := range v.e.Services().Functions() {
		if f.FuncName == name {
			writeJSON(w, http.StatusOK, f)
			return
		}
	}
	v.fail(w, r, fmt.Errorf("service function %q: not found", name), http.StatusNotFound)
}
