// Package pushsource is a golden fixture: a push source delivering typed
// rows from a goroutine.
package pushsource

import (
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

// ticker emits one row per word, as soon as it is subscribed.
//
//kgen:source name=ticker
type tickerSource struct {
	// Words are the texts to emit, in order.
	Words []string `kgen:"words,required"`
	// Level is attached to every row.
	Level uint16 `kgen:"level,default=2,oneof=1|2|3"`
	// Verbose adds the word length.
	Verbose bool `kgen:"verbose,default=true"`
	stop    chan struct{}
}

// Tick is a row of the ticker.
type Tick struct {
	N     int    `kgen:"n"`
	Word  string `kgen:"word"`
	Level uint16 `kgen:"level"`
	Meta  Meta   `kgen:"meta"`
	At    time.Time
}

// Meta is nested in Tick.
type Meta struct {
	Length int `kgen:"length"`
}

func (t *tickerSource) Subscribe(ctx sdk.Context, emit func(Tick)) error {
	t.stop = make(chan struct{})
	go func() {
		for i, w := range t.Words {
			tick := Tick{N: i, Word: w, Level: t.Level}
			if t.Verbose {
				tick.Meta.Length = len(w)
			}
			select {
			case <-t.stop:
				return
			case <-ctx.Done():
				return
			default:
				emit(tick)
			}
		}
	}()
	return nil
}

func (t *tickerSource) Close(ctx sdk.Context) error {
	if t.stop != nil {
		close(t.stop)
	}
	return nil
}
