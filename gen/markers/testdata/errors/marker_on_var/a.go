package p

//kgen:source
var x = 1
