// Package redistest runs a real redis-server on a free loopback port for
// tests. Without redis-server installed a test is skipped, unless $CI is
// set: CI must run it.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/internal/testutil/syncbuf"
)

// Server is one redis-server, keeping nothing on disk; it can be killed and
// started again on the same port (empty again).
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	exit chan struct{}
	out  *syncbuf.Buffer
}

// Start starts redis-server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not found; CI must install it")
		}
		t.Skip("redis-server not found (install it to run this test)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), addr: addr}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Addr returns 127.0.0.1:<port>.
func (s *Server) Addr() string { return s.addr }

// Start runs redis-server and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.addr)
	s.cmd = exec.Command(s.bin,
		"--port", port,
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
	)
	s.out = new(syncbuf.Buffer)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
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
		err := ping(s.addr)
		if err == nil {
			return
		}
		select {
		case <-s.exit:
			s.t.Fatalf("redis-server exited: %s", s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server not answering PING on %s within 10s: %v\n%s", s.addr, err, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops redis-server abruptly (SIGKILL) and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// ping sends PING and wants +PONG: the port accepting connections is not
// enough, as redis-server may still be loading.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
