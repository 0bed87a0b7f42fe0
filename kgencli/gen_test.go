package kgencli

import (
	"bytes"
	"context"
	"testing"
)

func TestGenCheck(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"gen", "-check", "../examples/..."}, nil, &stdout, &stderr)
	if err != nil || stdout.Len() != 0 {
		t.Fatalf("gen -check on the examples: %v\n%s", err, stdout.String())
	}
	err = Run(context.Background(), []string{"gen", "-check", "-clean"}, nil, &stdout, &stderr)
	if ExitCode(err) != 2 {
		t.Fatalf("-check -clean: %v (status %d), want a usage error", err, ExitCode(err))
	}
}
