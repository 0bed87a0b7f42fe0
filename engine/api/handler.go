package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/internal/jsonpos"
	"github.com/kgen-dev/kgen/sdk"
)

// MaxBodySize bounds request bodies (1 MiB).
const MaxBodySize = 1 << 20

// Error codes of the JSON error body. 1000 and 1002 are eKuiper's.
const (
	CodeGeneral  = 1000
	CodeExists   = 1001
	CodeNotFound = 1002
)

// ErrorBody is the JSON body of a failed request.
type ErrorBody struct {
	Error   int    `json:"error"`
	Message string `json:"message"`
}

// Info is the body of GET / and GET /ping.
type Info struct {
	// Version is the kgen version the engine was built from ("(devel)" for a
	// build from a source tree).
	Version       string `json:"version"`
	SDKVersion    string `json:"sdkVersion"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	UpTimeSeconds int64  `json:"upTimeSeconds"`
}

type server struct {
	e       *engine.Engine
	logger  *slog.Logger
	started time.Time
}

// NewHandler returns the REST API of e. A nil logger discards the logs.
// It refuses requests whose Host is not an address of the engine or a
// name in rest.allowedHosts, and requests whose Origin is not the API's
// own or one of rest.allowedOrigins (403); with rest.token set, it
// requires "Authorization: Bearer <token>" of all but GET /ping (401).
func NewHandler(e *engine.Engine, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{e: e, logger: logger, started: time.Now()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.info)
	mux.HandleFunc("GET /ping", s.info)
	mux.HandleFunc("GET /version", s.version)

	mux.HandleFunc("POST /streams", s.createStream)
	mux.HandleFunc("GET /streams", s.listStreams)
	mux.HandleFunc("GET /streams/{name}", s.describeStream)
	mux.HandleFunc("PUT /streams/{name}", s.replaceStream)
	mux.HandleFunc("DELETE /streams/{name}", s.dropStream)

	mux.HandleFunc("POST /rules", s.createRule)
	mux.HandleFunc("POST /rules/validate", s.validateRule)
	mux.HandleFunc("GET /rules", s.listRules)
	mux.HandleFunc("GET /rules/{id}", s.showRule)
	mux.HandleFunc("PUT /rules/{id}", s.updateRule)
	mux.HandleFunc("DELETE /rules/{id}", s.deleteRule)
	mux.HandleFunc("POST /rules/{id}/start", s.ruleAction(engineStart, "Rule %s was started"))
	mux.HandleFunc("POST /rules/{id}/stop", s.ruleAction(engineStop, "Rule %s was stopped."))
	mux.HandleFunc("POST /rules/{id}/restart", s.ruleAction(engineRestart, "Rule %s was restarted"))
	mux.HandleFunc("GET /rules/{id}/status", s.ruleStatus)
	mux.HandleFunc("GET /rules/{id}/topo", s.ruleTopo)
	mux.HandleFunc("GET /rules/{id}/state", s.ruleState)
	mux.HandleFunc("DELETE /rules/{id}/state", s.resetRuleState)

	mux.HandleFunc("GET /sources", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, engine.SourceTypes()) })
	mux.HandleFunc("GET /sinks", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, engine.SinkTypes()) })
	mux.HandleFunc("GET /functions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(sdk.Registered(sdk.KindFunction)))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.Metrics(), promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	registerPluginRoutes(mux, s)
	registerPortableRoutes(mux, s)
	registerServiceRoutes(mux, s)
	return s.logRequests(newGuard(mux, e.Config().REST))
}

// logRequests logs each request at debug level, failures at info.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 400 {
			level = slog.LevelInfo
		}
		s.logger.Log(r.Context(), level, "rest request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Info{
		Version:       CurrentBuild().KgenVersion,
		SDKVersion:    sdk.Version,
		OS:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		UpTimeSeconds: int64(time.Since(s.started).Seconds()),
	})
}

func (s *server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, CurrentBuild())
}

// streamBody is the body of POST /streams and PUT /streams/{name}.
type streamBody struct {
	SQL string `json:"sql"`
}

func (s *server) readStreamBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	data, ok := s.readBody(w, r)
	if !ok {
		return "", false
	}
	var body streamBody
	if err := decodeObject(data, &body); err != nil {
		s.fail(w, r, fmt.Errorf(`request body: %w (want {"sql": "CREATE STREAM ..."})`, err), http.StatusBadRequest)
		return "", false
	}
	if body.SQL == "" {
		s.fail(w, r, errors.New(`request body: "sql" is required (want {"sql": "CREATE STREAM ..."})`), http.StatusBadRequest)
		return "", false
	}
	return body.SQL, true
}

func (s *server) createStream(w http.ResponseWriter, r *http.Request) {
	text, ok := s.readStreamBody(w, r)
	if !ok {
		return
	}
	info, err := s.e.CreateStream(text)
	if err != nil {
		s.fail(w, r, err, statusForBody(err))
		return
	}
	writeText(w, http.StatusCreated, fmt.Sprintf("Stream %s is created.", info.Name))
}

func (s *server) listStreams(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(s.e.Streams()))
}

func (s *server) describeStream(w http.ResponseWriter, r *http.Request) {
	info, err := s.e.DescribeStream(r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *server) replaceStream(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.e.DescribeStream(name); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	text, ok := s.readStreamBody(w, r)
	if !ok {
		return
	}
	if _, err := s.e.ReplaceStream(name, text); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("Stream %s is updated.", name))
}

func (s *server) dropStream(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.e.DropStream(name); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("Stream %s is dropped.", name))
}

func (s *server) createRule(w http.ResponseWriter, r *http.Request) {
	data, ok := s.readBody(w, r)
	if !ok {
		return
	}
	def, err := s.e.CreateRule(data)
	if err != nil {
		s.fail(w, r, err, statusForBody(err))
		return
	}
	// Created is not fine when it did not start: say why, so a client
	// does not take a rule that failed for one that runs.
	if st, err := s.e.RuleStatus(def.ID); err == nil && st.Status == "failed" {
		writeText(w, http.StatusCreated, fmt.Sprintf("Rule %s was created but failed to start: %s. It is saved; fix the cause and restart it.", def.ID, st.Message))
		return
	}
	writeText(w, http.StatusCreated, fmt.Sprintf("Rule %s was created successfully.", def.ID))
}

// Validation is the body of a successful POST /rules/validate.
type Validation struct {
	Valid bool `json:"valid"`
	// Ignored names the eKuiper keys of the rule kgen accepts but does not
	// implement ("options.sendError").
	Ignored []string `json:"ignored,omitempty"`
}

// validateRule checks a rule without creating it: 200 {"valid": true}, or
// 422 with the error.
func (s *server) validateRule(w http.ResponseWriter, r *http.Request) {
	data, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ignored, err := s.e.ValidateRule(data)
	if err != nil {
		s.fail(w, r, err, http.StatusUnprocessableEntity)
		return
	}
	writeJSON(w, http.StatusOK, Validation{Valid: true, Ignored: ignored})
}

func (s *server) listRules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(s.e.Rules()))
}

func (s *server) showRule(w http.ResponseWriter, r *http.Request) {
	def, err := s.e.Rule(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, def)
}

func (s *server) updateRule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	// Look the rule up first: a not-found error from UpdateRule may be about
	// a stream the new definition reads, which is a bad request.
	if _, err := s.e.Rule(id); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	data, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if err := s.e.UpdateRule(id, withID(data, id)); err != nil {
		s.fail(w, r, err, statusForBody(err))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("Rule %s was updated successfully.", id))
}

// withID adds "id" to a rule object that has none, as eKuiper takes the id
// of PUT /rules/{id} from the path. Anything else is returned as is, for
// the rule parser to report.
func withID(data []byte, id string) []byte {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return data
	}
	if _, ok := obj["id"]; ok {
		return data
	}
	obj["id"], _ = json.Marshal(id)
	out, err := json.Marshal(obj)
	if err != nil {
		return data
	}
	return out
}

func (s *server) deleteRule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.e.DeleteRule(id); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("Rule %s is dropped.", id))
}

type ruleOp func(e *engine.Engine, id string) error

var (
	engineStart   ruleOp = (*engine.Engine).StartRule
	engineStop    ruleOp = (*engine.Engine).StopRule
	engineRestart ruleOp = (*engine.Engine).RestartRule
)

func (s *server) ruleAction(op ruleOp, format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := s.e.Rule(id); err != nil {
			s.fail(w, r, err, statusFor(err))
			return
		}
		if err := op(s.e, id); err != nil {
			s.fail(w, r, err, statusForBody(err))
			return
		}
		writeText(w, http.StatusOK, fmt.Sprintf(format, id))
	}
}

func (s *server) ruleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.e.RuleStatus(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) ruleTopo(w http.ResponseWriter, r *http.Request) {
	topo, err := s.e.RuleTopo(r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, topo)
}

// readBody reads the whole body, at most MaxBodySize bytes.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	return s.readBodyLimit(w, r, MaxBodySize)
}

// readBodyLimit is readBody for bodies of up to limit bytes.
func (s *server) readBodyLimit(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.fail(w, r, fmt.Errorf("request body is larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		s.fail(w, r, fmt.Errorf("read request body: %w", err), http.StatusBadRequest)
		return nil, false
	}
	return data, true
}

// decodeObject decodes one JSON object, naming the position of a syntax
// error.
func decodeObject(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("%s: %v", jsonpos.LineCol(data, syn.Offset-1), syn)
		case errors.As(err, &typ):
			if typ.Field == "" {
				return fmt.Errorf("want a JSON object, got %s", typ.Value)
			}
			return fmt.Errorf("%s: field %q: want %s, got %s", jsonpos.LineCol(data, typ.Offset), typ.Field, typ.Type, typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%s: unexpected end of JSON input", jsonpos.LineCol(data, int64(len(data))))
		}
		return err
	}
	if dec.More() {
		return fmt.Errorf("%s: unexpected data after the JSON object", jsonpos.LineCol(data, dec.InputOffset()))
	}
	return nil
}

// statusFor maps an error about the resource in the path (a stream, rule
// or service).
func statusFor(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrExist):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// statusForBody maps an error about a request body: something it names
// that does not exist makes it a bad request.
func statusForBody(err error) int {
	if errors.Is(err, fs.ErrExist) {
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	code := CodeGeneral
	switch status {
	case http.StatusNotFound:
		code = CodeNotFound
	case http.StatusConflict:
		code = CodeExists
	}
	s.logger.Debug("rest request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, status, ErrorBody{Error: code, Message: err.Error()})
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(ErrorBody{Error: CodeGeneral, Message: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
