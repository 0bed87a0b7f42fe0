package kgentest_test

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	_ "github.com/kgen-dev/kgen/examples/wordcount" // accumulateWordCount, for the scripts' engines
	"github.com/kgen-dev/kgen/kgentest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kgen": kgentest.Main})
}

// TestScripts runs testdata/*.txtar with an engine that has the wordcount
// example compiled in: the test binary links it.
func TestScripts(t *testing.T) {
	kgentest.Run(t, "testdata")
}
