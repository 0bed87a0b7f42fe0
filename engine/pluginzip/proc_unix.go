//go:build unix

package pluginzip

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own and, when its context
// ends, kills the whole group: what install.sh started in the background
// goes with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
