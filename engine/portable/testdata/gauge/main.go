// Command gauge is a portable plugin written against the sdk interfaces
// directly, without markers:
//
//   - the gauge source is pulled: every pull ingests {"v": start, …}
//     counting up, as a row on odd pulls and as raw JSON bytes on even
//     ones, with the meta {"unit": "C"} and the trigger as its time; it
//     reports itself connected through its status handler;
//   - the picky sink keeps rows in memory and fails a row whose "v" is
//     negative (retryably when "retry" is true).
package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/kgen-dev/kgen/portable"
	"github.com/kgen-dev/kgen/sdk"
)

type gauge struct {
	next   int64
	pulls  int
	status sdk.StatusHandler
}

func (g *gauge) SetStatusHandler(h sdk.StatusHandler) { g.status = h }

func (g *gauge) Provision(_ sdk.Context, props map[string]any) error {
	switch v := props["start"].(type) {
	case nil:
	case int64:
		g.next = v
	default:
		return fmt.Errorf("property %q: want an integer, got %T", "start", v)
	}
	return nil
}

func (g *gauge) Connect(sdk.Context) error {
	g.status(sdk.StatusConnected, "gauge ready")
	return nil
}

func (g *gauge) Pull(ctx sdk.Context, trigger time.Time, ingest sdk.Ingest, _ sdk.ErrorIngest) {
	g.pulls++
	meta := map[string]any{"unit": "C"}
	if g.pulls%2 == 1 {
		ingest(ctx, map[string]any{"v": g.next}, meta, trigger)
	} else {
		ingest(ctx, []byte(fmt.Sprintf(`{"v":%d}`, g.next)), meta, trigger)
	}
	g.next++
}

func (g *gauge) Close(sdk.Context) error { return nil }

type picky struct{ kept []map[string]any }

func (p *picky) Provision(sdk.Context, map[string]any) error { return nil }
func (p *picky) Connect(sdk.Context) error                   { return nil }
func (p *picky) Close(sdk.Context) error                     { return nil }

func (p *picky) Collect(_ sdk.Context, row map[string]any) error {
	if v, _ := row["v"].(int64); v < 0 {
		err := fmt.Errorf("picky: v %d is negative", v)
		if row["retry"] == true {
			return sdk.Retryable(err)
		}
		return err
	}
	p.kept = append(p.kept, row)
	return nil
}

func (p *picky) CollectList(ctx sdk.Context, rows []map[string]any) error {
	var errs []error
	for _, r := range rows {
		errs = append(errs, p.Collect(ctx, r))
	}
	return errors.Join(errs...)
}

func main() {
	sdk.RegisterSource("gauge", func() sdk.Source { return &gauge{} })
	sdk.RegisterSink("picky", func() sdk.Sink { return &picky{} })
	portable.Serve()
}
