package openapi

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/kgen-dev/kgen/sdk"
)

// initialisms are written in capitals when they are a whole word of a Go
// name, as Go code writes them.
var initialisms = map[string]bool{
	"API": true, "HTTP": true, "ID": true, "JSON": true, "SKU": true, "SQL": true,
	"URI": true, "URL": true, "UUID": true, "XML": true,
}

// goName makes an exported Go identifier of s: its words (split at
// non-alphanumerics and lower-to-upper case changes) capitalised, known
// initialisms in capitals ("petId" → "PetID", "X-Request-Id" →
// "XRequestID"), and an "X" before a leading digit.
func goName(s string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	var b strings.Builder
	for _, w := range words {
		if up := strings.ToUpper(w); initialisms[up] {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		b.WriteString(strings.ToUpper(string(r[0])) + string(r[1:]))
	}
	name := b.String()
	switch {
	case name == "":
		return "Empty"
	case unicode.IsDigit([]rune(name)[0]):
		return "X" + name
	}
	return name
}

// names are the identifiers a generated file declares besides the types
// of the document's schemas, computed once.
type names struct {
	// The server file.
	Handler       string // the interface an implementation satisfies
	NewHandler    string // serves a Handler over net/http
	HTTPError     string // returned by a Handler for a non-2xx answer
	Authenticator string // optionally implemented by a Handler
	document      string // the embedded document
	loadDocument  string // parses it once
	routes        string // the routes of NewHandler

	// The client file.
	client string // the *openapi client the functions share

	ops []*opNames
}

// opNames are the identifiers generated for one operation.
type opNames struct {
	Method string // the Handler method: the operationId as an exported Go name
	Params string // <Method>Params, the struct of its parameters and body
	serve  string // kgenServe<Method>: decodes a request and calls Method

	Function string // the function plugin: the operationId with a lower-case first letter
	Ctor     string // its exported constructor: sdk.SymbolName(Function)
	Impl     string // kgenFunction<Ctor>: the sdk.Function
}

// The helpers that every server or client file declares.
const (
	documentVar     = "kgenDocument"
	loadDocumentVar = "kgenLoadDocument"
	routesVar       = "kgenRoutes"
	clientVar       = "kgenClient"
	routeType       = "kgenRoute"
)

func newNames(kind Kind, d *declarations, ops []*operation) (*names, error) {
	n := &names{
		Handler: "Handler", NewHandler: "NewHandler", HTTPError: "HTTPError", Authenticator: "Authenticator",
		document: documentVar, loadDocument: loadDocumentVar, routes: routesVar, client: clientVar,
	}
	helpers := []string{n.document, n.loadDocument}
	if kind == KindServer {
		helpers = append(helpers, n.Handler, n.NewHandler, n.HTTPError, n.Authenticator, n.routes, routeType,
			"kgenWriteJSON", "kgenWriteError", "kgenScalar", "kgenArray", "kgenParamError")
		for _, p := range parsers {
			helpers = append(helpers, p.fn)
		}
	} else {
		helpers = append(helpers, n.client, "kgenCall", "kgenResolve")
	}
	for _, id := range helpers {
		if err := d.add(id, "a helper of the generated file"); err != nil {
			return nil, err
		}
	}
	for _, op := range ops {
		m := goName(op.ID)
		fn := lowerFirst(op.ID)
		on := &opNames{
			Method: m, Params: m + "Params", serve: "kgenServe" + m,
			Function: fn, Ctor: sdk.SymbolName(fn), Impl: "kgenFunction" + sdk.SymbolName(fn),
		}
		what := fmt.Sprintf("generated for operation %q", op.ID)
		var ids []string
		switch kind {
		case KindServer:
			ids = []string{on.serve}
			if op.hasParams() {
				ids = append(ids, on.Params)
			}
		case KindClient:
			if err := sdk.ValidateName(fn); err != nil {
				return nil, fmt.Errorf("%s: operation %q: function name: %w", op.where, op.ID, err)
			}
			ids = []string{on.Ctor, on.Impl}
		}
		for _, id := range ids {
			if err := d.add(id, what); err != nil {
				return nil, err
			}
		}
		op.names = on
		n.ops = append(n.ops, on)
	}
	return n, nil
}

func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return string(unicode.ToLower(r[0])) + string(r[1:])
}
