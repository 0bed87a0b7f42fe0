package api_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/engine/api"
)

// bodied says, for every POST and PUT route of the API, the most bytes of
// body it reads (0: it reads none).
var bodied = map[string]int64{
	"POST /streams":                 api.MaxBodySize,
	"PUT /streams/{name}":           api.MaxBodySize,
	"POST /rules":                   api.MaxBodySize,
	"POST /rules/validate":          api.MaxBodySize,
	"PUT /rules/{id}":               api.MaxBodySize,
	"POST /rules/{id}/start":        0,
	"POST /rules/{id}/stop":         0,
	"POST /rules/{id}/restart":      0,
	"POST /plugins/{type}":          api.MaxBodySize,
	"POST /plugins/portables":       api.MaxBodySize,
	"PUT /plugins/portables/{name}": api.MaxBodySize,
	"POST /services":                api.MaxBodySize,
	"PUT /services/{name}":          api.MaxBodySize,
}

// routes lists the POST and PUT patterns the package registers, read from
// its source, so that a new route cannot miss the table above.
func routes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`HandleFunc\("((?:POST|PUT) [^"]+)"`)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// Every route that takes a body stops reading at its limit with a 413 that
// says the limit, and a JSON body nested 300,000 deep is a 400 found in its
// first 10,000 levels; routes that take no body do not read one.
func TestRequestBodiesAreBounded(t *testing.T) {
	s := newServer(t)
	got := routes(t)
	want := slices.Sorted(func(yield func(string) bool) {
		for r := range bodied {
			if !yield(r) {
				return
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("POST and PUT routes:\n%s\nthe table has:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Updates of things that exist, so that the body is what is checked.
	ctx := t.Context()
	if _, err := s.cl.CreateStream(ctx, `CREATE STREAM x (n BIGINT) WITH (DATASOURCE="in/x", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cl.CreateRule(ctx, []byte(`{"id":"x","sql":"SELECT n FROM x","actions":[{"nop":{}}]}`)); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{name}", "x", "{id}", "x", "{type}", "functions")
	deep := []byte(`{"sql": ` + strings.Repeat("[", 300_000) + strings.Repeat("]", 300_000) + `}`)
	for _, route := range got {
		method, pattern, _ := strings.Cut(route, " ")
		url := s.srv.URL + fill.Replace(pattern)
		limit := bodied[route]
		big := bytes.Repeat([]byte(" "), int(max(limit, api.MaxBodySize))+1)
		status, body := send(t, method, url, "application/json", big)
		if limit > 0 {
			if wantBody := `"request body is larger than ` + strconv.FormatInt(limit, 10) + ` bytes"`; status != http.StatusRequestEntityTooLarge || !strings.Contains(body, wantBody) {
				t.Errorf("%s with %d bytes: %d %s, want 413 %s", route, len(big), status, body, wantBody)
			}
			status, body = send(t, method, url, "application/json", deep)
			wantStatus := http.StatusBadRequest
			if route == "POST /rules/validate" {
				wantStatus = http.StatusUnprocessableEntity // its answer to any bad rule
			}
			if status != wantStatus || !strings.Contains(body, "exceeded max depth") {
				t.Errorf("%s with JSON 300,000 deep: %d %s, want %d exceeded max depth", route, status, body, wantStatus)
			}
		} else if status == http.StatusRequestEntityTooLarge {
			t.Errorf("%s read its body: %d %s", route, status, body)
		}
	}
	// A service zip sent as the body has a limit of its own.
	big := make([]byte, api.MaxServiceZipSize+1)
	if status, body := send(t, "POST", s.srv.URL+"/services?name=x", "application/zip", big); status != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, `"request body is larger than `+strconv.Itoa(api.MaxServiceZipSize)+` bytes"`) {
		t.Errorf("POST /services with a %d-byte zip: %d %s", len(big), status, body)
	}
}

func send(t *testing.T, method, url, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	return res.StatusCode, out.String()
}
