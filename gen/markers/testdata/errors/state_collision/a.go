package p

//kgen:state
type stats struct {
	Total int64
}

func newStatsState() {}
