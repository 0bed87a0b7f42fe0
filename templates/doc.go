// Package templates holds the text templates kgen renders, embedded in the
// binary so that kgen needs no files besides itself.
//
// new/ is what `kgen new <kind> <name>` scaffolds (gen/scaffold renders it):
// new/common/ for every kind, then new/<kind>/ (function, source, sink),
// whose files replace common ones of the same path. In a path, "{{name}}"
// stands for the extension name. A file whose name ends in ".tmpl" is a
// text/template and loses the suffix; any other file is copied as it is.
// Templates are named *.tmpl so that the go command never mistakes them for
// the project's own Go files or go.mod.
package templates

import "embed"

// FS holds the templates, rooted at this folder ("new/function/...").
//
//go:embed all:new
var FS embed.FS
