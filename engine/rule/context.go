package rule

import (
	"context"
	"log/slog"

	"github.com/kgen-dev/kgen/engine/state"
	"github.com/kgen-dev/kgen/sdk"
)

// extContext is the sdk.Context (and sdk.FunctionContext) the engine hands
// one extension instance. Its state is the instance's own scope.
type extContext struct {
	context.Context
	*state.Scope
	logger   *slog.Logger
	rule     string
	op       string
	instance int
	root     string
	funcID   int
}

var (
	_ sdk.Context         = (*extContext)(nil)
	_ sdk.FunctionContext = (*extContext)(nil)
)

func (c *extContext) GetLogger() *slog.Logger { return c.logger }
func (c *extContext) GetRuleId() string       { return c.rule }
func (c *extContext) GetOpId() string         { return c.op }
func (c *extContext) GetInstanceId() int      { return c.instance }
func (c *extContext) GetRootPath() string     { return c.root }
func (c *extContext) GetFuncId() int          { return c.funcID }

// newContext builds the context of one operator of a rule. Its state scope
// id is "<rule>/<op>" so state survives rule restarts and engine restarts,
// and is dropped with the rule.
func (r *Rule) newContext(parent context.Context, op string, instance, funcID int) *extContext {
	return &extContext{
		Context:  parent,
		Scope:    r.env.States.Scope(r.def.ID + "/" + op),
		logger:   r.logger.With("op", op),
		rule:     r.def.ID,
		op:       op,
		instance: instance,
		root:     r.env.Root,
		funcID:   funcID,
	}
}
