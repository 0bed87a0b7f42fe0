package p

//kgen:state prefix=level.
type level int
