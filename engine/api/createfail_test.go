package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A rule that is created but fails to start (its file sink cannot make its
// folder) is not reported as created and fine: the 201 says why it failed.
func TestCreatedRuleThatFailsToStart(t *testing.T) {
	s := newServer(t)
	root := s.e.Root()
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if status, body := s.call(t, "POST", "/streams", `{"sql":"CREATE STREAM s (n BIGINT) WITH (DATASOURCE=\"in/s\", TYPE=\"memory\")"}`); status != 201 {
		t.Fatalf("create stream: %d %s", status, body)
	}
	status, body := s.call(t, "POST", "/rules", `{"id":"r","sql":"SELECT n FROM s","actions":[{"file":{"path":"data/blocker/out.jsonl"}}]}`)
	if status != 201 || !strings.HasPrefix(body, "Rule r was created but failed to start: ") || !strings.Contains(body, "blocker") {
		t.Fatalf("create rule: %d %s", status, body)
	}
	status, body = s.call(t, "POST", "/rules", `{"id":"ok","sql":"SELECT n FROM s","actions":[{"nop":{}}]}`)
	if status != 201 || body != "Rule ok was created successfully." {
		t.Fatalf("create a fine rule: %d %s", status, body)
	}
}
