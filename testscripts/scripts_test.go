package testscripts

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/kgentest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kgen": kgentest.Main})
}

func TestScripts(t *testing.T) {
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	kgentest.Run(t, ".", kgentest.WithSetup(func(env *testscript.Env) error {
		env.Setenv("KGEN_REPO", repo)
		return nil
	}))
}
