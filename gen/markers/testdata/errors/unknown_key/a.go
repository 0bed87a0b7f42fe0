package p

//kgen:function nmae=wordCount
func wordCount(text string) int64 { return 0 }
