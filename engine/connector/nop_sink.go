package connector

import (
	"fmt"

	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSink("nop", func() sdk.Sink { return nopSink{} })
}

// nopSink discards every row. It measures the engine without a sink's cost:
// an empty struct, no allocation, no locking.
type nopSink struct{}

func (nopSink) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	r.strict(ctx, CommonSinkProps)
	if r.err != nil {
		return fmt.Errorf("nop sink: %w", r.err)
	}
	return nil
}
func (nopSink) Connect(sdk.Context) error                       { return nil }
func (nopSink) Collect(sdk.Context, map[string]any) error       { return nil }
func (nopSink) CollectList(sdk.Context, []map[string]any) error { return nil }
func (nopSink) Close(sdk.Context) error                         { return nil }
