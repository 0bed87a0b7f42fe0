// Package aggregate is a golden fixture: an aggregate function, whose
// parameters are slices with one element per row.
package aggregate

// spread is the difference between the largest and the smallest value of
// the group, scaled by factor.
//
//kgen:function aggregate
func spread(values []float64, factor []int64) float64 {
	if len(values) == 0 {
		return 0
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = min(lo, v), max(hi, v)
	}
	return (hi - lo) * float64(factor[0])
}
