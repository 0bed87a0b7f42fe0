package p

import "time"

//kgen:state
type stats struct {
	Every time.Duration
	Tags  []string
	Ch    chan int
	Ok    []any
}
