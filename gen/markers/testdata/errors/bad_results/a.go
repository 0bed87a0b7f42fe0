package p

//kgen:function
func wordCount(text string) (int64, string) { return 0, "" }
