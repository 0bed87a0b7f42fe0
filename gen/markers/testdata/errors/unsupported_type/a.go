package p

//kgen:function
func wordCount(text string, sep chan int) int64 { return 0 }
