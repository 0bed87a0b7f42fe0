package portable

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/status"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

// stateServer serves plugins the state of their instances: each call
// reaches the Context the engine gave that function call site, source or
// sink.
type stateServer struct {
	contexts sync.Map // instance id (uint64) → sdk.Context
}

func newStateServer() *stateServer { return &stateServer{} }

func (s *stateServer) bind(id uint64, ctx sdk.Context) {
	if ctx != nil {
		s.contexts.Store(id, ctx)
	}
}

func (s *stateServer) unbind(id uint64) { s.contexts.Delete(id) }

func (s *stateServer) ctx(id uint64) (sdk.Context, error) {
	c, ok := s.contexts.Load(id)
	if !ok {
		return nil, fmt.Errorf("no state for instance %d: it has not been called by a rule", id)
	}
	return c.(sdk.Context), nil
}

func (s *stateServer) PutState(_ context.Context, req *portablev1.PutStateRequest) (*portablev1.PutStateResponse, error) {
	c, err := s.ctx(req.GetInstanceId())
	if err == nil {
		err = c.PutState(req.GetKey(), portablev1.FromValue(req.GetValue()))
	}
	return &portablev1.PutStateResponse{}, err
}

func (s *stateServer) GetState(_ context.Context, req *portablev1.GetStateRequest) (*portablev1.GetStateResponse, error) {
	c, err := s.ctx(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	v, err := c.GetState(req.GetKey())
	if err != nil {
		return nil, err
	}
	pv, err := portablev1.ToValue(v)
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", req.GetKey(), err)
	}
	return &portablev1.GetStateResponse{Value: pv}, nil
}

func (s *stateServer) IncrCounter(_ context.Context, req *portablev1.IncrCounterRequest) (*portablev1.IncrCounterResponse, error) {
	c, err := s.ctx(req.GetInstanceId())
	if err == nil {
		err = c.IncrCounter(req.GetKey(), int(req.GetAmount()))
	}
	return &portablev1.IncrCounterResponse{}, err
}

func (s *stateServer) GetCounter(_ context.Context, req *portablev1.GetCounterRequest) (*portablev1.GetCounterResponse, error) {
	c, err := s.ctx(req.GetInstanceId())
	if err != nil {
		return nil, err
	}
	n, err := c.GetCounter(req.GetKey())
	return &portablev1.GetCounterResponse{Value: int64(n)}, err
}

func (s *stateServer) DeleteState(_ context.Context, req *portablev1.DeleteStateRequest) (*portablev1.DeleteStateResponse, error) {
	c, err := s.ctx(req.GetInstanceId())
	if err == nil {
		err = c.DeleteState(req.GetKey())
	}
	return &portablev1.DeleteStateResponse{}, err
}

// rpcErr is err without grpc's "rpc error: code = … desc =" wrapping.
func rpcErr(err error) error {
	if st, ok := status.FromError(err); ok {
		return fmt.Errorf("%s", st.Message())
	}
	return err
}
