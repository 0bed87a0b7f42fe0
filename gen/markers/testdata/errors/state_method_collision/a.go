package p

//kgen:state
type stats struct {
	Total    int64
	SetTotal int64
	Reset    bool
}
