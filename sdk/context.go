package sdk

import (
	"context"
	"log/slog"
)

// Context is what the engine hands every extension call.
//
// The state methods read and write key-value state scoped to one extension
// instance in one rule (for functions: one SQL call site). They are safe for
// concurrent use and work from Provision on.
type Context interface {
	context.Context

	// GetLogger returns a logger tagged with the rule and operator.
	GetLogger() *slog.Logger
	// GetRuleId returns the id of the rule the extension runs in.
	GetRuleId() string
	// GetOpId returns the id of the operator (source, function call or sink).
	GetOpId() string
	// GetInstanceId returns the index of this instance when an operator runs
	// several in parallel; 0 otherwise.
	GetInstanceId() int
	// GetRootPath returns the absolute path of the engine root folder.
	GetRootPath() string

	// PutState stores v under key, replacing what was there.
	PutState(key string, v any) error
	// GetState returns the value under key, or (nil, nil) when there is none.
	GetState(key string) (any, error)
	// IncrCounter adds amount to the counter under key, starting from 0. It
	// fails when key holds a value that is not a counter.
	IncrCounter(key string, amount int) error
	// GetCounter returns the counter under key, or (0, nil) when there is none.
	GetCounter(key string) (int, error)
	// DeleteState removes key; removing a missing key is not an error.
	DeleteState(key string) error
}

// FunctionContext is the Context of one SQL call site of a function.
type FunctionContext interface {
	Context
	// GetFuncId returns the index of the call site within the rule.
	GetFuncId() int
}
