package wordcount_test

import (
	"testing"

	"github.com/kgen-dev/kgen/internal/testutil/gentest"
)

// The committed generated files are what kgen gen (see generate.go) makes
// of this package today, and no file carries kgen's header that it no
// longer makes.
func TestGeneratedFilesAreFresh(t *testing.T) { gentest.Fresh(t, "./examples/wordcount") }
