package p

import "github.com/kgen-dev/kgen/sdk"

//kgen:source
type both struct{}

type Row struct{ N int }

func (both) Pull(ctx sdk.Context) ([]Row, error)             { return nil, nil }
func (both) Subscribe(ctx sdk.Context, emit func(Row)) error { return nil }
