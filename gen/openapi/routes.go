package openapi

import (
	"fmt"
	"net/http"
)

// route is where the generated server serves an operation: a
// net/http.ServeMux pattern, and the wildcard of each path parameter.
type route struct {
	pattern   string            // "GET /items/{id}"
	wildcards map[string]string // path parameter name → wildcard name
}

// routeOf maps op's path template to a ServeMux pattern. Wildcards must
// fill whole segments; a parameter whose name is not a Go identifier gets
// the wildcard p<i>; a path ending in "/" matches only itself ({$}).
func routeOf(op *operation) (*route, error) {
	pattern, wildcards, err := op.Route()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.where, err)
	}
	return &route{pattern: pattern, wildcards: wildcards}, nil
}

// checkRoutes fails when two operations' patterns conflict (neither is
// more specific than the other), which would make ServeMux panic.
func checkRoutes(ops []*operation) (err error) {
	mux := http.NewServeMux()
	var cur *operation
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: operation %q: %v", cur.where, cur.ID, p)
		}
	}()
	for _, op := range ops {
		r, err := routeOf(op)
		if err != nil {
			return err
		}
		cur = op
		mux.Handle(r.pattern, http.NotFoundHandler())
	}
	return nil
}
