package p

//kgen:state
type stats struct {
	Total int64 `kgen:"total"`
	Sum   int64 `json:"total,omitempty"`
}
