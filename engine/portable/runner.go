package portable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin/runner"
)

// cmdRunner runs a plugin's command for go-plugin: what go-plugin does for
// a ClientConfig.Cmd, given as a RunnerFunc so that go-plugin hands the
// plugin a socket folder under the engine root.
type cmdRunner struct {
	cmd            *exec.Cmd
	name           string // the plugin's executable, for logs
	stdout, stderr io.ReadCloser
	pid            int
}

var _ runner.Runner = (*cmdRunner)(nil)

func newCmdRunner(cmd *exec.Cmd, name string) (*cmdRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &cmdRunner{cmd: cmd, name: name, stdout: stdout, stderr: stderr}, nil
}

func (r *cmdRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

func (r *cmdRunner) Wait(context.Context) error { return r.cmd.Wait() }

func (r *cmdRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *cmdRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *cmdRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *cmdRunner) Name() string          { return r.name }
func (r *cmdRunner) ID() string            { return fmt.Sprint(r.pid) }

func (r *cmdRunner) Diagnose(context.Context) string {
	return "the plugin did not print go-plugin's handshake line first on its stdout"
}

func (r *cmdRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *cmdRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// maxSocketPath is the longest unix socket path every platform takes
// (sun_path holds 104 bytes on macOS and the BSDs, 108 on Linux, with the
// final NUL).
const maxSocketPath = 103

// socketsFit reports whether the sockets go-plugin and a plugin make in a
// folder of their own under dir ("plugin-dir<n>/plugin<n>", n up to ten
// digits) have paths short enough.
func socketsFit(dir string) bool {
	return len(dir)+len("/plugin-dir4294967295/plugin4294967295") <= maxSocketPath
}

// lastLine keeps the last non-empty line a plugin wrote to its stderr (go-plugin
// writes it line by line), for the error of a start that failed.
type lastLine struct {
	mu   sync.Mutex
	line string
}

func (l *lastLine) Write(p []byte) (int, error) {
	if s := strings.TrimSpace(string(p)); s != "" {
		l.mu.Lock()
		l.line = s
		l.mu.Unlock()
	}
	return len(p), nil
}

func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.line
}
