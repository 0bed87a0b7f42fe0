package p

import "github.com/kgen-dev/kgen/sdk"

//kgen:sink
type alert struct {
	Level int8 `kgen:"level,default=300"`
}

type Row struct{ Level int64 }

func (alert) Collect(ctx sdk.Context, r Row) error { return nil }
