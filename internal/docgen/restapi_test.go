package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const restPage = "docs/rest-api.md"

// apiRoutes lists the ServeMux patterns engine/api registers with
// Handle and HandleFunc, as "METHOD /path" ("any /path" without a method).
func apiRoutes(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(repo, "engine", "api")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var routes []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route pattern that is not a literal", fset.Position(call.Pos()))
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				method, path = "any", pattern
			}
			routes = append(routes, method+" "+strings.TrimSuffix(path, "{$}"))
			return true
		})
	}
	return routes
}

// TestRESTRoutes checks that docs/rest-api.md's route tables list exactly
// the routes engine/api serves, each once.
func TestRESTRoutes(t *testing.T) {
	routes := apiRoutes(t)
	if len(routes) < 30 {
		t.Fatalf("engine/api: found %d routes: %q", len(routes), routes)
	}
	var documented []string
	for _, tb := range tables(readRepo(t, restPage)) {
		if len(tb.header) == 0 || tb.header[0] != "method" {
			continue
		}
		pathCol := tb.column(t, restPage, "path")
		for _, row := range tb.rows {
			r := row[0] + " " + code(row[pathCol])
			if slices.Contains(documented, r) {
				t.Errorf("%s: %s is listed twice", restPage, r)
			}
			documented = append(documented, r)
			if !slices.Contains(routes, r) {
				t.Errorf("%s: %s is not a route of engine/api", restPage, r)
			}
		}
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("%s: route %s is missing", restPage, r)
		}
	}
}
