package p

// WordCount is the author's own.
type WordCount struct{}

//kgen:function
func wordCount(text string) int64 { return 0 }
