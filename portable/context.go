package portable

import (
	"context"
	"errors"
	"log/slog"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
)

// funcContext is the sdk.FunctionContext of one CallFunction: its state
// methods call the engine's State service for the call's instance.
type funcContext struct {
	context.Context
	state  *portablev1.StateClient
	root   string
	inst   *portablev1.Instance
	logger *slog.Logger
}

var errNoState = errors.New("no state channel: the engine did not complete the handshake")

func (c *funcContext) GetLogger() *slog.Logger { return c.logger }
func (c *funcContext) GetRuleId() string       { return c.inst.GetRuleId() }
func (c *funcContext) GetOpId() string         { return c.inst.GetOpId() }
func (c *funcContext) GetInstanceId() int      { return int(c.inst.GetInstanceIndex()) }
func (c *funcContext) GetRootPath() string     { return c.root }
func (c *funcContext) GetFuncId() int          { return int(c.inst.GetFuncId()) }

func (c *funcContext) PutState(key string, v any) error {
	if c.state == nil {
		return errNoState
	}
	pv, err := portablev1.ToValue(v)
	if err != nil {
		return err
	}
	_, err = c.state.PutState(c, &portablev1.PutStateRequest{InstanceId: c.inst.GetId(), Key: key, Value: pv})
	return err
}

func (c *funcContext) GetState(key string) (any, error) {
	if c.state == nil {
		return nil, errNoState
	}
	resp, err := c.state.GetState(c, &portablev1.GetStateRequest{InstanceId: c.inst.GetId(), Key: key})
	if err != nil {
		return nil, err
	}
	return portablev1.FromValue(resp.GetValue()), nil
}

func (c *funcContext) IncrCounter(key string, amount int) error {
	if c.state == nil {
		return errNoState
	}
	_, err := c.state.IncrCounter(c, &portablev1.IncrCounterRequest{InstanceId: c.inst.GetId(), Key: key, Amount: int64(amount)})
	return err
}

func (c *funcContext) GetCounter(key string) (int, error) {
	if c.state == nil {
		return 0, errNoState
	}
	resp, err := c.state.GetCounter(c, &portablev1.GetCounterRequest{InstanceId: c.inst.GetId(), Key: key})
	if err != nil {
		return 0, err
	}
	return int(resp.GetValue()), nil
}

func (c *funcContext) DeleteState(key string) error {
	if c.state == nil {
		return errNoState
	}
	_, err := c.state.DeleteState(c, &portablev1.DeleteStateRequest{InstanceId: c.inst.GetId(), Key: key})
	return err
}
