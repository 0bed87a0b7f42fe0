package sql

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Pos is a position in SQL text: a 1-based line and a 1-based column
// counted in bytes from the start of the line, as the Go toolchain counts.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// Error is every error with a position in the SQL text: syntax errors from
// Parse, semantic errors from Compile and the run-time errors of Match and
// Project. Error() reads "line:col: msg".
type Error struct {
	Line, Col int
	Msg       string
	// Err is the cause when the error wraps one (an Env.Function error, a
	// plugin function's error), so that errors.Is sees through; it may be nil.
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnknownFunction is what Env.Function wraps when it does not know a
// name; Compile then reports `unknown function "name"` and keeps the chain.
var ErrUnknownFunction = errors.New("unknown function")

// errorf returns an *Error at pos.
func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}
}

// wrapAt returns an *Error at pos whose message is prefix followed by err,
// keeping err in the chain.
func wrapAt(pos Pos, prefix string, err error) *Error {
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) { // the error may name its function itself
		msg = prefix + msg
	}
	return &Error{Line: pos.Line, Col: pos.Col, Msg: msg, Err: err}
}
