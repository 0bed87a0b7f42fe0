package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// childProc is a subject running in a child process (see child.go).
type childProc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan childEvent // closed when stdout ends
	exited chan struct{}   // closed once the process has been waited for

	// Read only once exited is closed.
	stderr  bytes.Buffer
	other   []string // stdout lines that are not events
	waitErr error
}

// startChild runs exe -child name args.
func startChild(exe, name string, args []string) (*childProc, error) {
	c := &childProc{name: name, events: make(chan childEvent, 8), exited: make(chan struct{})}
	c.cmd = exec.Command(exe, append([]string{"-child", name}, args...)...)
	c.cmd.SysProcAttr = sysProcAttr()
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s child: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev childEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event == "" {
				c.other = append(c.other, sc.Text())
				continue
			}
			select {
			case c.events <- ev:
			default: // a child sends three events; more is a bug, not a reason to hang
				c.other = append(c.other, sc.Text())
			}
		}
		close(c.events)
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// expect waits for the child's next event, which must be want.
func (c *childProc) expect(ctx context.Context, want string, timeout time.Duration) (childEvent, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ev, ok := <-c.events:
		if !ok {
			<-c.exited
			return ev, c.failure("exited before " + want)
		}
		if ev.Event != want {
			return ev, fmt.Errorf("%s child: got event %q, want %q", c.name, ev.Event, want)
		}
		return ev, nil
	case <-t.C:
		c.kill()
		return childEvent{}, c.failure(fmt.Sprintf("no %s within %v", want, timeout))
	case <-ctx.Done():
		return childEvent{}, ctx.Err()
	}
}

// send writes a command line to the child.
func (c *childProc) send(format string, args ...any) error {
	if _, err := fmt.Fprintf(c.stdin, format+"\n", args...); err != nil {
		return fmt.Errorf("%s child: %w", c.name, err)
	}
	return nil
}

// stop closes the child's stdin, which ends it, and kills it if it is
// still there after a while (an engine draining its rule takes a moment).
func (c *childProc) stop() {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.kill()
	}
}

func (c *childProc) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// failure describes an exited child, with the end of what it wrote.
func (c *childProc) failure(what string) error {
	out := strings.TrimSpace(c.stderr.String() + strings.Join(c.other, "\n"))
	if len(out) > 2000 {
		out = "…" + out[len(out)-2000:]
	}
	return fmt.Errorf("%s child: %s (%v)\n%s", c.name, what, c.waitErr, out)
}

// mosquitto is a mosquitto broker on a free loopback port, with a
// generated configuration.
type mosquitto struct {
	cmd    *exec.Cmd
	addr   string
	out    bytes.Buffer // read once exited is closed
	exited chan struct{}
}

// mosquittoConf: no limit on queued messages and no persistence, so that
// the broker neither drops nor writes to disk. set_tcp_nodelay turns
// Nagle's algorithm off as Go's sockets (and so the embedded broker) have
// it: with it on, a message now and then waits for the client's delayed
// ACK, 40 ms, which makes the latency p99 the kernel's. user keeps
// mosquitto from dropping root, which would clear the parent-death signal
// that ends it with the harness.
const mosquittoConf = `listener %s 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
set_tcp_nodelay true
user %s
log_type error
log_type warning
`

// lookMosquitto finds mosquitto on PATH or where Debian installs it.
func lookMosquitto() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

// startMosquitto starts bin with its configuration in dir and waits until
// it accepts connections. Another process may take the free port before
// mosquitto binds it; then it tries another.
func startMosquitto(ctx context.Context, bin, dir string) (*mosquitto, error) {
	var err error
	for range 3 {
		var m *mosquitto
		if m, err = tryMosquitto(ctx, bin, dir); err == nil {
			return m, nil
		}
	}
	return nil, err
}

func tryMosquitto(ctx context.Context, bin, dir string) (*mosquitto, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, fmt.Appendf(nil, mosquittoConf, port, u.Username), 0o644); err != nil {
		return nil, err
	}
	m := &mosquitto{addr: addr, exited: make(chan struct{})}
	m.cmd = exec.Command(bin, "-c", conf)
	m.cmd.SysProcAttr = sysProcAttr()
	m.cmd.Stdout, m.cmd.Stderr = &m.out, &m.out
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mosquitto: %w", err)
	}
	go func() {
		_ = m.cmd.Wait()
		close(m.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return m, nil
		}
		select {
		case <-m.exited:
			return nil, fmt.Errorf("mosquitto exited: %s", strings.TrimSpace(m.out.String()))
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("mosquitto not accepting on %s within 10s: %w", addr, err)
		}
	}
}

// URL returns tcp://127.0.0.1:<port>.
func (m *mosquitto) URL() string { return "tcp://" + m.addr }

// cpu is the CPU time mosquitto has used so far.
func (m *mosquitto) cpu() (time.Duration, error) { return processCPU(m.cmd.Process.Pid) }

// stop kills mosquitto: it holds nothing worth a clean shutdown.
func (m *mosquitto) stop() {
	_ = m.cmd.Process.Kill()
	<-m.exited
}

// errNoMosquitto is returned when the mosquitto broker is asked for and not
// installed.
var errNoMosquitto = errors.New("mosquitto not found on PATH or at /usr/sbin/mosquitto: install it, pass -mosquitto PATH, or run with -brokers embedded")
