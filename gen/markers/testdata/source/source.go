// Package source is a golden fixture: a pull source with typed
// properties, bounded by returning io.EOF.
package source

import (
	"fmt"
	"io"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// counter emits count readings, one per pull, then ends.
//
//kgen:source
type counter struct {
	// Count is how many readings to emit.
	Count int `kgen:"count,default=3"`
	// Mode says whether values go up or down.
	Mode string `kgen:"mode,default=up,oneof=up|down"`
	// Prefix starts every reading's id.
	Prefix string `kgen:",required"`
	// Interval is the time between pulls.
	Interval time.Duration `kgen:"interval,default=10ms"`
	// Scale multiplies the values.
	Scale float64 `json:"scale"`

	sent int
}

// Reading is one row of the counter.
type Reading struct {
	ID    string `kgen:"id"`
	Value int64  `kgen:"value"`
	Ratio float32
	Odd   bool `json:"odd"`
}

func (c *counter) Connect(ctx sdk.Context) error {
	c.sent = 0
	return nil
}

func (c *counter) Pull(ctx sdk.Context) ([]Reading, error) {
	if c.sent >= c.Count {
		return nil, fmt.Errorf("counted to %d: %w", c.Count, io.EOF)
	}
	c.sent++
	v := int64(c.sent)
	if c.Mode == "down" {
		v = int64(c.Count - c.sent + 1)
	}
	return []Reading{{ID: fmt.Sprintf("%s%d", c.Prefix, c.sent), Value: v, Ratio: float32(v) / 2, Odd: v%2 == 1}}, nil
}
