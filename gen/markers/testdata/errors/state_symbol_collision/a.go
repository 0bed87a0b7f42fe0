package p

//kgen:state
type Stats struct {
	Total int64
}

//kgen:function
func statsState(n int64) int64 { return n }
