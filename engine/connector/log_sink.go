package connector

import (
	"encoding/json"
	"fmt"

	"github.com/kgen-dev/kgen/sdk"
)

func init() {
	sdk.RegisterSink("log", func() sdk.Sink { return logSink{} })
}

// logSink logs every row as JSON at Info level through the rule's logger:
//
//	msg="sink output" row={"a":1}
//
// The logger from the Context already names the rule and the operator.
type logSink struct{}

// Provision takes eKuiper's common sink properties (ignored), nothing else.
func (logSink) Provision(ctx sdk.Context, props map[string]any) error {
	r := propReader{props: props}
	r.strict(ctx, CommonSinkProps)
	if r.err != nil {
		return fmt.Errorf("log sink: %w", r.err)
	}
	return nil
}
func (logSink) Connect(sdk.Context) error { return nil }
func (logSink) Close(sdk.Context) error   { return nil }

func (logSink) Collect(ctx sdk.Context, row map[string]any) error {
	b, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("log sink: encode row: %w", err)
	}
	ctx.GetLogger().InfoContext(ctx, "sink output", "row", string(b))
	return nil
}

func (s logSink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	for _, row := range rows {
		if err := s.Collect(ctx, row); err != nil {
			return err
		}
	}
	return nil
}
