package p

//kgen:function aggregate
func total(values []float64, factor int64) float64 { return 0 }
