package portable

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/kgen-dev/kgen/portable/python"
)

// DefaultPythonBin is the interpreter of Python plugins, looked up on PATH.
const DefaultPythonBin = "python3"

// PythonDir is where the engine puts the Python SDK (kgen_portable) that
// Python plugins import, under the data folder.
func PythonDir(root string) string { return filepath.Join(SocketDir(root), "python") }

// pythonSDK writes the Python SDK under the engine root, once per manager
// (again after a failure).
type pythonSDK struct {
	mu   sync.Mutex
	done bool
}

func (s *pythonSDK) vendor(root string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := PythonDir(root)
	if !s.done {
		if err := python.Vendor(dir); err != nil {
			return "", err
		}
		s.done = true
	}
	return dir, nil
}

// command returns the command that runs the plugin: its executable, or
// for a Python plugin, the interpreter with the script and the SDK on
// PYTHONPATH. It runs in the plugin's folder with the engine's
// environment.
func (p *Plugin) command() (*exec.Cmd, error) {
	exe := filepath.Join(p.dir, p.man.Executable)
	env := os.Environ()
	var cmd *exec.Cmd
	switch p.man.Language {
	case "python":
		bin, err := exec.LookPath(p.m.opts.PythonBin)
		if err != nil {
			return nil, fmt.Errorf("python interpreter %q (portable.pythonBin): %w", p.m.opts.PythonBin, err)
		}
		sdk, err := p.m.python.vendor(p.m.opts.Root)
		if err != nil {
			return nil, err
		}
		path := sdk
		if old := os.Getenv("PYTHONPATH"); old != "" {
			path += string(os.PathListSeparator) + old
		}
		// Later entries win: the SDK comes first on the plugin's path,
		// and its logs are not held in a buffer.
		env = append(env, "PYTHONPATH="+path, "PYTHONUNBUFFERED=1")
		cmd = exec.Command(bin, exe)
	default:
		cmd = exec.Command(exe)
	}
	cmd.Dir = p.dir
	cmd.Env = env
	return cmd, nil
}
