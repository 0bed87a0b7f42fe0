package openapi

import (
	"fmt"
	"go/token"
	"net/http"
	"strings"
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
	r := &route{wildcards: map[string]string{}}
	segs := strings.Split(op.Path, "/")
	for i, seg := range segs {
		open, close := strings.IndexByte(seg, '{'), strings.LastIndexByte(seg, '}')
		if open < 0 && close < 0 {
			continue
		}
		if open != 0 || close != len(seg)-1 || strings.Count(seg, "{") != 1 {
			return nil, fmt.Errorf("%s: path segment %q: want a parameter to fill a whole segment", op.where, seg)
		}
		name := seg[1 : len(seg)-1]
		w := name
		if !token.IsIdentifier(w) {
			w = fmt.Sprintf("p%d", i)
		}
		r.wildcards[name] = w
		segs[i] = "{" + w + "}"
	}
	path := strings.Join(segs, "/")
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	r.pattern = op.Method + " " + path
	return r, nil
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
