package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repo is the repository root, from this package's folder.
const repo = "../.."

func readRepo(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCLIPage(t *testing.T) {
	want, err := cliDoc(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("KGEN_UPDATE") != "" {
		if err := os.WriteFile(filepath.Join(repo, cliPage), want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if have := readRepo(t, cliPage); !bytes.Equal([]byte(have), want) {
		t.Errorf("%s is stale: run go run ./internal/docgen (or KGEN_UPDATE=1 go test ./internal/docgen)", cliPage)
	}
	// The page documents every command kgen knows, so a command added to
	// the table shows up here, and in the README's pointer to it.
	names, _, err := commandNames(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"serve", "stream", "rule", "pub", "sub", "help"} {
		if !slices.Contains(names, must) {
			t.Errorf("kgen help does not list %q: %q", must, names)
		}
	}
	for _, n := range names {
		if !bytes.Contains(want, []byte("\n## kgen "+n+"\n\n```text\nUsage:\n\n\tkgen "+n+" ")) {
			t.Errorf("%s: no usage section for kgen %s", cliPage, n)
		}
	}
}

func TestRunCheck(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, true); err == nil || err.Error() != "run from the repository root (no go.mod here)" {
		t.Errorf("run outside the repository: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, true); err == nil || err.Error() != "docs/cli.md is stale: run go run ./internal/docgen" {
		t.Errorf("run -check with no page: %v", err)
	}
	if err := run(dir, false); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, true); err != nil {
		t.Errorf("run -check after writing: %v", err)
	}
}

// table is a Markdown table and the heading it sits under.
type table struct {
	heading string
	header  []string
	rows    [][]string
	line    int // of the header, 1-based
}

// tables reads the pipe tables of a Markdown page.
func tables(md string) []table {
	var (
		out     []table
		heading string
		cur     *table
	)
	lines := strings.Split(md, "\n")
	fenced := false
	for i, line := range lines {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced {
			continue
		}
		if strings.HasPrefix(line, "#") {
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
		if !strings.HasPrefix(line, "|") {
			cur = nil
			continue
		}
		cells := splitRow(line)
		switch {
		case cur == nil:
			out = append(out, table{heading: heading, header: cells, line: i + 1})
			cur = &out[len(out)-1]
		case strings.HasPrefix(line, "| ---"):
		default:
			cur.rows = append(cur.rows, cells)
		}
	}
	return out
}

// splitRow splits "| a | b \| c |" into ["a", "b | c"].
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(strings.TrimSuffix(line, "|"), "|")
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// code is the first code span of a cell, or "".
func code(cell string) string {
	m := codeSpan.FindStringSubmatch(cell)
	if m == nil {
		return ""
	}
	return m[1]
}

// column is the index of a header cell.
func (tb table) column(t *testing.T, page, name string) int {
	t.Helper()
	i := slices.Index(tb.header, name)
	if i < 0 {
		t.Fatalf("%s:%d: table under %q has no %q column: %q", page, tb.line, tb.heading, name, tb.header)
	}
	return i
}
