package openapi

import (
	"maps"
	"slices"
	"testing"
)

func TestRouteAndSuccessCodes(t *testing.T) {
	doc, err := Load([]byte(`openapi: 3.0.3
info: {title: r, version: "1"}
paths:
  /items/{item-id}/parts/{n}:
    get:
      operationId: part
      parameters:
        - {name: item-id, in: path, required: true, schema: {type: string}}
        - {name: n, in: path, required: true, schema: {type: integer}}
      responses:
        default: {description: other}
        "204": {description: none}
        2XX: {description: any}
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
  /items/:
    get:
      operationId: items
      responses:
        "200": {description: ok}
  /files/{name}.json:
    get:
      operationId: file
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: ok}
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"part": "GET /items/{p2}/parts/{n}", "items": "GET /items/{$}"} {
		pattern, wildcards, err := doc.Operation(id).Route()
		if err != nil || pattern != want {
			t.Errorf("%s: route %q, %v; want %q", id, pattern, err, want)
		}
		if id == "part" && !maps.Equal(wildcards, map[string]string{"item-id": "p2", "n": "n"}) {
			t.Errorf("part: wildcards %v", wildcards)
		}
	}
	if _, _, err := doc.Operation("file").Route(); err == nil || err.Error() != `path segment "{name}.json": want a parameter to fill a whole segment` {
		t.Errorf("file: %v", err)
	}
	if got, want := doc.Operation("part").SuccessCodes(), []string{"200", "204", "2XX", "default"}; !slices.Equal(got, want) {
		t.Errorf("success codes %v, want %v", got, want)
	}
}
