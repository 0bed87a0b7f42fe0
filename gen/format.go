package gen

import (
	"fmt"
	"go/format"
	"strings"
)

// FormatGo gofmts the generated Go file name. A file that does not format
// is a bug in the generator: the error shows src with line numbers.
func FormatGo(name string, src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("format generated %s: %w\n%s", name, err, numbered(src))
	}
	return out, nil
}

// numbered prefixes each line of src with its number.
func numbered(src []byte) string {
	var b strings.Builder
	for i, line := range strings.Split(string(src), "\n") {
		fmt.Fprintf(&b, "%5d  %s\n", i+1, line)
	}
	return b.String()
}
