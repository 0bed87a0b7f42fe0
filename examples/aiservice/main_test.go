package aiservice_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/examples/aiservice"
)

// childEnv makes the test binary serve the example instead of testing:
// benchmarks measure calls to a server in a process of its own.
const childEnv = "KGEN_AISERVICE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := serveChild(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "aiservice child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild serves gRPC and REST on 127.0.0.1, writes "<grpc addr>
// <rest url>" as its first line, and stops when stdin closes.
func serveChild(stdin io.Reader, stdout io.Writer) error {
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, stdin)
		cancel()
	}()
	fmt.Fprintf(stdout, "%s http://%s\n", gl.Addr(), hl.Addr())
	return aiservice.NewServer().Serve(ctx, aiservice.Listeners{GRPC: gl, HTTP: hl})
}

// serveOutOfProcess starts the example server in a child process and
// returns its gRPC address and REST URL; it stops at the end of the test.
func serveOutOfProcess(t testing.TB) (grpcAddr, httpURL string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("aiservice child: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("aiservice child: still running 10s after stdin closed")
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("aiservice child: read addresses: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		t.Fatalf("aiservice child: want \"<grpc addr> <rest url>\", got %q", line)
	}
	return f[0], f[1]
}
