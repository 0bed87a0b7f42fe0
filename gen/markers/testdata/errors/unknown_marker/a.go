package p

//kgen:fucntion
func wordCount(text string) int64 { return 0 }
