package portable

import (
	"strings"
	"testing"
)

func TestSocketsFit(t *testing.T) {
	if !socketsFit("/var/lib/kgen/data/portable") {
		t.Error("a usual root does not fit")
	}
	long := "/tmp/" + strings.Repeat("x", 60) + "/data/portable"
	if socketsFit(long) {
		t.Errorf("%d bytes fit", len(long))
	}
}
