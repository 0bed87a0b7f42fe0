// Package mosquitto runs a real mosquitto broker on a free loopback port for
// tests. Without mosquitto installed a test is skipped, unless $CI is set:
// CI must run it.
package mosquitto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
)

// Server is one mosquitto broker; it can be killed and started again on the
// same port.
type Server struct {
	t    testing.TB
	bin  string
	conf string
	addr string
	cmd  *exec.Cmd
	exit chan struct{}
}

// Start starts mosquitto and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, "")
}

// StartWith is Start with more lines of mosquitto configuration (for
// example "acl_file <path>\n") after the ones Start writes.
func StartWith(t testing.TB, conf string) *Server {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr == nil {
			bin, err = "/usr/sbin/mosquitto", nil
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mosquitto not found; CI must install it")
		}
		t.Skip("mosquitto not found (install it to run this test)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	file := filepath.Join(t.TempDir(), "mosquitto.conf")
	// No cap on the messages queued for a persistent session that is
	// offline: tests that kill an engine count every message.
	text := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n", port) + conf
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, conf: file, addr: addr}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// URL returns tcp://127.0.0.1:<port>.
func (s *Server) URL() string { return "tcp://" + s.addr }

// Addr returns 127.0.0.1:<port>.
func (s *Server) Addr() string { return s.addr }

// Start runs mosquitto and waits until its port accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-c", s.conf)
	var out syncbuf.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exit = make(chan struct{})
	go func(cmd *exec.Cmd, exit chan struct{}) {
		_ = cmd.Wait()
		close(exit)
	}(s.cmd, s.exit)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-s.exit:
			s.t.Fatalf("mosquitto exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mosquitto not accepting on %s within 10s: %v\n%s", s.addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops mosquitto abruptly (SIGKILL) and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}
