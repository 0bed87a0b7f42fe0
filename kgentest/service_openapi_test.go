package kgentest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgen-dev/kgen/svc/openapi"
)

const fixtureDoc = `openapi: 3.0.3
info: {title: fixture, version: "1"}
paths:
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: X-Price, in: header, schema: {type: string}}
      responses:
        "default": {description: error, content: {application/json: {schema: {type: object}}}}
        "200":
          description: the item
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  tags: {type: array, items: {type: string}}
                  ids: {type: array, items: {type: string}}
                  X-Price: {type: number}
                  on: {type: string, format: date}
                  kind: {type: string, enum: [a, b]}
                  size: {type: integer, default: 3}
                  node: {$ref: "#/components/schemas/Node"}
    delete:
      operationId: deleteItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "204": {description: gone}
  /things:
    post:
      operationId: makeThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string}
                count: {type: number}
                owner: {type: object, properties: {first: {type: string}}}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema:
                allOf:
                  - {type: object, properties: {name: {type: string}, count: {type: integer}}}
                  - {type: object, properties: {owner: {type: object, properties: {first: {type: string}, last: {type: string, example: Lovelace}}}}}
        "202": {description: accepted, content: {application/json: {schema: {type: array, items: {type: string}}}}}
  /hello:
    get:
      operationId: hello
      responses:
        "2XX":
          description: a greeting
          content:
            text/plain:
              schema: {type: string}
              examples:
                b: {value: "bye"}
                a: {value: "hello"}
components:
  schemas:
    Node:
      type: object
      properties:
        next: {$ref: "#/components/schemas/Node"}
`

// The OpenAPI fixture answers each operation's first 2xx response, built
// from the request and the schema, and refuses invalid requests with 400.
func TestOpenAPIFixture(t *testing.T) {
	doc, err := openapi.Load([]byte(fixtureDoc), "fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h, err := newFixture(doc, "fixture.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	node := `{"next":{"next":{"next":{"next":{"next":{"next":{"next":{}}}}}}}}`
	for _, c := range []struct {
		method, path, header, body string
		want                       string
	}{
		{"GET", "/items/7?tags=x&tags=y&ids=1,2", "3.5", "",
			`200 application/json {"X-Price":3.5,"id":"7","ids":["1","2"],"kind":"a","node":` + node + `,"on":"1970-01-01","size":3,"tags":["x","y"]}`},
		{"GET", "/items/7", "cheap", "",
			`200 application/json {"X-Price":0,"id":"7","ids":[""],"kind":"a","node":` + node + `,"on":"1970-01-01","size":3,"tags":[""]}`},
		{"DELETE", "/items/7", "", "", "204  "},
		{"POST", "/things", "", `{"name": "ada", "count": 2.0, "owner": {"first": "Ada"}}`, `201 application/json {"count":2,"name":"ada","owner":{"first":"Ada","last":"Lovelace"}}`},
		{"GET", "/hello", "", "", "200 text/plain hello"},
		{"GET", "/items/x", "", "", `400 application/json {"error":"parameter \"id\" in path has an error: value x: an invalid integer: invalid syntax"}` + "\n"},
		{"GET", "/items/1?ids=1,b", "", "", `400 application/json {"error":"parameter \"ids\" in query has an error: path 1: value b: an invalid integer: invalid syntax"}` + "\n"},
		{"POST", "/things", "", `{"count": 1}`, `400 application/json {"error":"request body has an error: doesn't match schema: /name: property \"name\" is missing"}` + "\n"},
		{"POST", "/things", "", ``, `400 application/json {"error":"request body has an error: value is required but missing"}` + "\n"},
		{"PUT", "/things", "", ``, "405 text/plain; charset=utf-8 Method Not Allowed\n"},
	} {
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.header != "" {
			req.Header.Set("X-Price", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join([]string{resp.Status[:3], resp.Header.Get("Content-Type"), string(body)}, " "); got != c.want {
			t.Errorf("%s %s:\ngot  %s\nwant %s", c.method, c.path, got, c.want)
		}
	}
}
