package p

// count is another function with the same plugin name.
//
//kgen:function name=wordCount
func count(text string) int64 { return 0 }
