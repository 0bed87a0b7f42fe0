package p

//kgen:function
func wordCount(text string) int64 { return 0 }

func kgenToString(v any) (string, error) { return "", nil }
