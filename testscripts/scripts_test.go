package testscripts

import (
	"os"
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
	p := testscript.Params{
		Dir:                 ".",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("KGEN_UPDATE") != "",
		Cmds:                kgentest.Commands(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("KGEN_REPO", repo)
			return nil
		},
	}
	if err := kgentest.Setup(&p); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, p)
}
