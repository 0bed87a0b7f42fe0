// Package fserr holds the two states callers across kgen branch on — a
// thing is missing, or is already there — as errors that read "not found"
// and "already exists" and match fs.ErrNotExist and fs.ErrExist. Streams,
// rules, plugins and services all report through them, so the REST layer
// maps them to 404 and 409 in one place, and a caller needs no package's
// private sentinel to tell the cases apart.
package fserr

import (
	"fmt"
	"io/fs"
)

var (
	// NotFound reads "not found" and matches fs.ErrNotExist.
	NotFound error = &state{"not found", fs.ErrNotExist}
	// Exists reads "already exists" and matches fs.ErrExist.
	Exists error = &state{"already exists", fs.ErrExist}
)

// Errorf returns an error that reads as the formatted message alone and
// matches kind (NotFound or Exists, and so the fs error they match).
func Errorf(kind error, format string, args ...any) error {
	return &message{msg: fmt.Sprintf(format, args...), kind: kind}
}

type state struct {
	msg string
	fs  error
}

func (e *state) Error() string        { return e.msg }
func (e *state) Is(target error) bool { return target == e.fs }

type message struct {
	msg  string
	kind error
}

func (e *message) Error() string { return e.msg }
func (e *message) Unwrap() error { return e.kind }
