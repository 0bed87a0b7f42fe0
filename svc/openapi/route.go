package openapi

import (
	"fmt"
	"go/token"
	"slices"
	"strings"
)

// Route is where a server serves op: a net/http.ServeMux pattern ("GET
// /items/{id}") and the wildcard of each path parameter, by name. A
// parameter whose name is not a Go identifier gets the wildcard p<i> (i its
// segment); a path ending in "/" matches only itself ({$}). Each parameter
// must fill a whole segment. Generated servers and test fixtures route by it.
func (op *Operation) Route() (pattern string, wildcards map[string]string, err error) {
	wildcards = map[string]string{}
	segs := strings.Split(op.Path, "/")
	for i, seg := range segs {
		open, close := strings.IndexByte(seg, '{'), strings.LastIndexByte(seg, '}')
		if open < 0 && close < 0 {
			continue
		}
		if open != 0 || close != len(seg)-1 || strings.Count(seg, "{") != 1 {
			return "", nil, fmt.Errorf("path segment %q: want a parameter to fill a whole segment", seg)
		}
		name := seg[1 : len(seg)-1]
		w := name
		if !token.IsIdentifier(w) {
			w = fmt.Sprintf("p%d", i)
		}
		wildcards[name] = w
		segs[i] = "{" + w + "}"
	}
	path := strings.Join(segs, "/")
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	return op.Method + " " + path, wildcards, nil
}

// SuccessCodes lists the success responses op declares, in the order they
// are looked up: each 2xx code in ascending order, then 2XX, 2xx and
// default.
func (op *Operation) SuccessCodes() []string {
	if op.Spec == nil || op.Spec.Responses == nil {
		return nil
	}
	rs := op.Spec.Responses.Map()
	var codes []string
	for code := range rs {
		if len(code) == 3 && code[0] == '2' && code[1] != 'X' {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for _, extra := range []string{"2XX", "2xx", "default"} {
		if _, ok := rs[extra]; ok {
			codes = append(codes, extra)
		}
	}
	return codes
}
