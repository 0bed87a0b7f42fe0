package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

const quickstartScript = "testscripts/readme_quickstart.txtar"

// scriptOnlyFlags may be added to a README command in the script: they
// give the engine free ports and let the script wait for a command.
var scriptOnlyFlags = []string{"-rest", "-mqtt", "-ready"}

// quickStart is what the README's quick start shows.
type quickStart struct {
	commands [][]string        // each sh line, split into words
	lines    []string          // the same, as written
	files    map[string]string // ```json file=NAME blocks
	output   string            // the ```text output block
}

func parseQuickStart(readme string) (*quickStart, error) {
	_, rest, ok := strings.Cut(readme, "\n<!-- quickstart")
	if !ok {
		return nil, fmt.Errorf("README.md: no <!-- quickstart --> marker")
	}
	body, _, ok := strings.Cut(rest, "\n<!-- /quickstart -->")
	if !ok {
		return nil, fmt.Errorf("README.md: no <!-- /quickstart --> marker")
	}
	qs := &quickStart{files: map[string]string{}}
	lines := strings.Split(body, "\n")
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
		}
		if i == len(lines) {
			return nil, fmt.Errorf("README.md quick start: block %q is not closed", info)
		}
		block := strings.Join(lines[start:i], "\n") + "\n"
		kind, attr, _ := strings.Cut(info, " ")
		switch {
		case kind == "sh" && attr == "":
			for _, l := range lines[start:i] {
				if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				words, err := splitWords(l)
				if err != nil {
					return nil, fmt.Errorf("README.md quick start: %q: %w", l, err)
				}
				qs.commands = append(qs.commands, words)
				qs.lines = append(qs.lines, l)
			}
		case strings.HasPrefix(attr, "file="):
			qs.files[strings.TrimPrefix(attr, "file=")] = block
		case attr == "output":
			qs.output = block
		default:
			return nil, fmt.Errorf("README.md quick start: block %q: want sh, <lang> file=NAME or text output", info)
		}
	}
	return qs, nil
}

// splitWords splits a command line as sh and testscript both do for the
// README's commands: words, with '...' and "..." quoting.
func splitWords(line string) ([]string, error) {
	var (
		words []string
		word  strings.Builder
		in    bool // inside a word
		quote byte
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			word.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, word.String())
				word.Reset()
				in = false
			}
		default:
			word.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c", quote)
	}
	if in {
		words = append(words, word.String())
	}
	return words, nil
}

// scriptCommands returns the exec lines of a script, without exec, the
// background marker and the script-only flags.
func scriptCommands(script string) ([][]string, error) {
	var out [][]string
	for n, line := range strings.Split(script, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "exec ")
		if !ok {
			continue
		}
		words, err := splitWords(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if last := words[len(words)-1]; strings.HasPrefix(last, "&") && strings.HasSuffix(last, "&") {
			words = words[:len(words)-1]
		}
		var kept []string
		for i := 0; i < len(words); i++ {
			if slices.Contains(scriptOnlyFlags, words[i]) && i+1 < len(words) {
				i++
				continue
			}
			kept = append(kept, words[i])
		}
		out = append(out, kept)
	}
	return out, nil
}

// TestReadmeQuickStart ties the README's quick start to the script that
// runs it (TestScripts in testscripts): the same commands in the same
// order, the same files, the same output.
func TestReadmeQuickStart(t *testing.T) {
	readme := readRepo(t, "README.md")
	qs, err := parseQuickStart(readme)
	if err != nil {
		t.Fatal(err)
	}
	ar := txtar.Parse([]byte(readRepo(t, quickstartScript)))
	script, err := scriptCommands(string(ar.Comment))
	if err != nil {
		t.Fatalf("%s: %v", quickstartScript, err)
	}
	if len(qs.commands) < 6 {
		t.Fatalf("README.md quick start: %d commands, want serve, stream, rule, sub, pub and more", len(qs.commands))
	}
	for i, cmd := range qs.commands {
		if i >= len(script) {
			t.Errorf("%s runs %d commands; the README's %d is missing: %s", quickstartScript, len(script), i+1, qs.lines[i])
			continue
		}
		if !slices.Equal(cmd, script[i]) {
			t.Errorf("README.md quick start command %d:\n\t%s\n%s runs (script-only flags %q removed):\n\t%q", i+1, qs.lines[i], quickstartScript, scriptOnlyFlags, script[i])
		}
	}
	if len(script) > len(qs.commands) {
		t.Errorf("%s runs %d commands the README does not show, from %q", quickstartScript, len(script)-len(qs.commands), script[len(qs.commands)])
	}

	archived := map[string]string{}
	for _, f := range ar.Files {
		archived[f.Name] = string(f.Data)
	}
	if len(qs.files) == 0 {
		t.Error("README.md quick start shows no file")
	}
	for name, data := range qs.files {
		if archived[name] != data {
			t.Errorf("README.md quick start shows %s as\n%s\n%s has\n%s", name, data, quickstartScript, archived[name])
		}
	}
	if qs.output == "" || archived["sub.out"] != qs.output {
		t.Errorf("README.md quick start shows the output\n%s\n%s's sub.out is\n%s", qs.output, quickstartScript, archived["sub.out"])
	}

	// The install comes first: the quick start's commands need kgen.
	install := strings.Index(readme, "\ngo install ./cmd/kgen")
	if install < 0 || install > strings.Index(readme, "\n<!-- quickstart") {
		t.Error("README.md: go install ./cmd/kgen must come before the quick start's commands")
	}
}

// TestReadmeSetUp keeps the README's two set-up commands true: the first is
// the command testscripts/readme_example.txtar runs, the second a script
// that exists.
func TestReadmeSetUp(t *testing.T) {
	readme := readRepo(t, "README.md")
	_, setUp, ok := strings.Cut(readme, "\n## Set up\n")
	if !ok {
		t.Fatal("README.md: no Set up section")
	}
	setUp, _, _ = strings.Cut(setUp, "\n## ")
	var cmds []string
	for line := range strings.Lines(setUp) {
		if c, ok := strings.CutPrefix(line, "    "); ok {
			cmds = append(cmds, strings.TrimSpace(c))
		}
	}
	if want := []string{"go run ./cmd/kgen run examples/wordcount", "bash scripts/test.sh"}; !slices.Equal(cmds, want) {
		t.Fatalf("README.md Set up commands %q, want %q", cmds, want)
	}
	if example := readRepo(t, "testscripts/readme_example.txtar"); !strings.Contains(example, "\nexec kgen run $KGEN_REPO/examples/wordcount\n") {
		t.Error("testscripts/readme_example.txtar no longer runs the README's first command")
	}
	if _, err := os.Stat(filepath.Join(repo, "scripts", "test.sh")); err != nil {
		t.Errorf("README.md's second command: %v", err)
	}
}

func TestParseQuickStartErrors(t *testing.T) {
	for _, tc := range []struct{ readme, want string }{
		{"# x\n", "README.md: no <!-- quickstart --> marker"},
		{"\n<!-- quickstart -->\n", "README.md: no <!-- /quickstart --> marker"},
		{"\n<!-- quickstart -->\n```sh\nkgen x\n\n<!-- /quickstart -->\n", `README.md quick start: block "sh" is not closed`},
		{"\n<!-- quickstart -->\n```go\nx\n```\n<!-- /quickstart -->\n", `README.md quick start: block "go": want sh, <lang> file=NAME or text output`},
		{"\n<!-- quickstart -->\n```sh\nkgen 'x\n```\n<!-- /quickstart -->\n", `README.md quick start: "kgen 'x": unclosed '`},
	} {
		if _, err := parseQuickStart(tc.readme); err == nil || err.Error() != tc.want {
			t.Errorf("parseQuickStart(%q): %v, want %q", tc.readme, err, tc.want)
		}
	}
}
