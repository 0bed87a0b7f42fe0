package jsonpos

import "testing"

func TestLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": x\n}")
	cases := map[int64]string{0: "line 1, column 1", 1: "line 1, column 2", 2: "line 2, column 1", 9: "line 2, column 8", 99: "line 3, column 2", -1: "line 1, column 1"}
	for off, want := range cases {
		if got := LineCol(data, off); got != want {
			t.Errorf("LineCol(%d) = %q, want %q", off, got, want)
		}
	}
}
