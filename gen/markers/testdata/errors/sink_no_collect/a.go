package p

//kgen:sink
type alert struct {
	Topic string
}
