package p

import "github.com/kgen-dev/kgen/sdk"

//kgen:sink
type alert struct {
	Topic string `kgen:"topic,requried"`
}

type Row struct{ Level int64 }

func (alert) Collect(ctx sdk.Context, r Row) error { return nil }
