// Package jsonpos turns byte offsets in JSON documents into positions people
// can find.
package jsonpos

import "fmt"

// LineCol returns "line L, column C" (1-based, columns in bytes) for a byte
// offset into data; offsets past the end point just after the last byte.
func LineCol(data []byte, offset int64) string {
	offset = max(0, min(offset, int64(len(data))))
	line, col := 1, 1
	for _, b := range data[:offset] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
