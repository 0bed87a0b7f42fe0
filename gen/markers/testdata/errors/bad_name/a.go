package p

//kgen:function name=Word-Count
func wordCount(text string) int64 { return 0 }
