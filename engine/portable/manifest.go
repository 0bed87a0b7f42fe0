package portable

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/kgen-dev/kgen/sdk"
)

// Manifest is <root>/plugins/portable/<name>/<name>.json, eKuiper's
// portable plugin descriptor. Language is "go" (Executable is a program)
// or "python" (Executable is a .py script the engine runs with
// Options.PythonBin).
type Manifest struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Language   string   `json:"language"`
	Executable string   `json:"executable"`
	Sources    []string `json:"sources"`
	Sinks      []string `json:"sinks"`
	Functions  []string `json:"functions"`
}

// ReadManifest reads and checks the manifest of the plugin in dir, whose
// name is dir's base name.
func ReadManifest(dir string) (*Manifest, error) {
	name := filepath.Base(dir)
	file := filepath.Join(dir, name+".json")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := m.check(name, dir); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &m, nil
}

func (m *Manifest) check(name, dir string) error {
	switch {
	case m.Name == "":
		m.Name = name
	case m.Name != name:
		return fmt.Errorf("name: want %q (the folder's name), got %q", name, m.Name)
	}
	switch m.Language {
	case "":
		return errors.New("language: missing")
	case "go", "python":
	default:
		return fmt.Errorf("language: %q is not supported; want \"go\" or \"python\"", m.Language)
	}
	if m.Executable == "" {
		return errors.New("executable: missing")
	}
	if filepath.Base(m.Executable) != m.Executable {
		return fmt.Errorf("executable: %q must be a file name in the plugin folder", m.Executable)
	}
	st, err := os.Stat(filepath.Join(dir, m.Executable))
	switch {
	case err != nil:
		return fmt.Errorf("executable: %w", err)
	case m.Language == "python" && (st.IsDir() || filepath.Ext(m.Executable) != ".py"):
		// The engine runs it with its Python interpreter.
		return fmt.Errorf("executable: %q is not a .py file", m.Executable)
	case m.Language == "go" && (st.IsDir() || st.Mode()&0o111 == 0):
		return fmt.Errorf("executable: %q is not an executable file", m.Executable)
	}
	if len(m.Functions)+len(m.Sources)+len(m.Sinks) == 0 {
		return errors.New("want at least one of sources, sinks or functions")
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"sources", m.Sources}, {"sinks", m.Sinks}, {"functions", m.Functions}} {
		for i, n := range list.names {
			if err := sdk.ValidateName(n); err != nil {
				return fmt.Errorf("%s/%d: %q: %w", list.key, i, n, err)
			}
			if slices.Contains(list.names[:i], n) {
				return fmt.Errorf("%s/%d: %q is listed twice", list.key, i, n)
			}
		}
	}
	return nil
}
