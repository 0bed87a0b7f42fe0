package p

//kgen:state
type stats struct {
	Total int64 `kgen:"total,default=1"`
}
