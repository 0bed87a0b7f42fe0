package p

//kgen:function
func wordCount(text string) int64 { return 0 }
