package portable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/kgen-dev/kgen/portable"
	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
)

// Plugin is one installed portable plugin and its process, when running.
type Plugin struct {
	m   *Manager
	dir string
	man *Manifest

	mu       sync.Mutex
	proc     *process
	failures int       // failed starts and exits in a row
	lastErr  error     // why the plugin is down
	retryAt  time.Time // no start before this

	// live are the source and sink instances between Provision and
	// Close; a new process gets them provisioned again (connector.go).
	live map[uint64]*instance
	// stopped is set by Manager.Close: the plugin is not started again.
	stopped bool
}

// process is a running plugin executable.
type process struct {
	client *plugin.Client
	conn   *portable.Conn
	funcs  map[string]*portablev1.Extension
	// sources and sinks are what Describe listed of those kinds.
	sources, sinks map[string]*portablev1.Extension
	health         healthpb.HealthClient
	pid            int
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.man.Name }

// Manifest returns the plugin's manifest.
func (p *Plugin) Manifest() Manifest { return *p.man }

// Pid returns the process id of the running plugin, 0 when it is not
// running.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.client.Exited() {
		return 0
	}
	return p.proc.pid
}

// running returns the running process, starting it when it is not running
// and its back-off has passed.
func (p *Plugin) running() (*process, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && !p.proc.client.Exited() {
		return p.proc, nil
	}
	if p.stopped {
		return nil, fmt.Errorf("portable plugin %q: the engine is closing", p.Name())
	}
	if p.proc != nil {
		p.downLocked(p.proc, errors.New("the process exited"))
	}
	if wait := time.Until(p.retryAt); wait > 0 {
		return nil, fmt.Errorf("portable plugin %q is down (%v); next start in %v", p.Name(), p.lastErr, wait.Round(time.Millisecond))
	}
	proc, err := p.start()
	if err != nil {
		err = fmt.Errorf("portable plugin %q: start: %w", p.Name(), err)
		p.failures++
		p.lastErr, p.retryAt = err, time.Now().Add(p.backoff())
		p.m.logger.Error("portable plugin did not start", "plugin", p.Name(), "err", err)
		return nil, err
	}
	p.proc = proc
	p.m.logger.Info("portable plugin started", "plugin", p.Name(), "pid", proc.pid)
	return proc, nil
}

// down records that proc failed with err (it exited, or a call could not
// reach it): it is killed and the next start waits for the back-off.
func (p *Plugin) down(proc *process, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downLocked(proc, err)
}

func (p *Plugin) downLocked(proc *process, err error) {
	if p.proc != proc {
		return // already handled
	}
	proc.kill(false)
	p.proc = nil
	p.failures++
	p.lastErr, p.retryAt = err, time.Now().Add(p.backoff())
	p.m.logger.Error("portable plugin is down", "plugin", p.Name(), "err", err, "restart_in", p.backoff())
}

// backoff is the wait before the next start after p.failures failures.
func (p *Plugin) backoff() time.Duration {
	d := p.m.opts.RestartBackoff
	for i := 1; i < p.failures && d < p.m.opts.MaxRestartBackoff; i++ {
		d *= 2
	}
	return min(d, p.m.opts.MaxRestartBackoff)
}

// succeeded resets the back-off once a call went through.
func (p *Plugin) succeeded() {
	p.mu.Lock()
	p.failures = 0
	p.mu.Unlock()
}

func (p *Plugin) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.proc != nil {
		p.proc.kill(true)
		p.proc = nil
	}
}

// killGrace is how long a graceful stop may take before the process is
// killed outright.
const killGrace = 3 * time.Second

// kill ends the process. go-plugin's Kill first asks the plugin to shut
// down and waits for that answer without a time limit, so a plugin that
// no longer answers (hung, or stopped) would hold it forever: a process
// that is not stopped gracefully, or does not end within killGrace, is
// killed outright first.
func (proc *process) kill(graceful bool) {
	hard := func() {
		if proc.pid > 0 && !proc.client.Exited() {
			if op, err := os.FindProcess(proc.pid); err == nil {
				_ = op.Kill()
			}
		}
	}
	if !graceful {
		hard()
	}
	done := make(chan struct{})
	go func() {
		proc.client.Kill()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(killGrace):
		hard()
		<-done
	}
}

// start runs the executable and completes both handshakes and Describe
// within the init timeout.
func (p *Plugin) start() (_ *process, err error) {
	opts := p.m.opts
	sockets := SocketDir(opts.Root)
	if err := os.MkdirAll(sockets, 0o700); err != nil {
		return nil, err
	}
	if !socketsFit(sockets) {
		p.m.logger.Warn("the engine root is too long for unix socket paths under it; the plugin's sockets go to the system's temporary folder",
			"plugin", p.Name(), "folder", sockets)
		sockets = ""
	}
	cmd, err := p.command()
	if err != nil {
		return nil, err
	}
	logger := p.m.logger.With("plugin", p.Name())
	stderr := &lastLine{}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: portable.Handshake,
		Plugins:         plugin.PluginSet{portable.PluginKey: &portable.GRPCPlugin{}},
		// Through RunnerFunc, go-plugin makes the socket folder under
		// TempDir and hands it to the plugin ($PLUGIN_UNIX_SOCKET_DIR), so
		// both ends' sockets stay under the engine root; with Cmd they go
		// to the system's temporary folder.
		RunnerFunc: func(l hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			cmd.Env = append(cmd.Env, spec.Env...)
			return newCmdRunner(cmd, filepath.Join(p.dir, p.man.Executable))
		},
		SkipHostEnv:      true, // p.command passes the engine's environment
		Stderr:           stderr,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     opts.InitTimeout,
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: sockets},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "portable",
			Output: logWriter{logger},
			Level:  hclog.Info,
		}),
	})
	defer func() {
		if err != nil {
			client.Kill()
		}
	}()
	deadline := time.Now().Add(opts.InitTimeout)
	rpc, err := client.Client()
	if err != nil {
		if time.Now().After(deadline) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no handshake within the init timeout of %v", opts.InitTimeout)
		}
		client.Kill() // waits until the plugin's stderr is read to the end
		if line := stderr.String(); line != "" {
			// go-plugin's error goes on for lines; the plugin's last words
			// say why.
			first, _, _ := strings.Cut(err.Error(), "\n")
			return nil, fmt.Errorf("%s; its last words: %s", strings.TrimRight(first, ": "), line)
		}
		return nil, err
	}
	raw, err := rpc.Dispense(portable.PluginKey)
	if err != nil {
		return nil, err
	}
	conn := raw.(*portable.Conn)
	stateID := conn.Broker.NextId()
	go conn.Broker.AcceptAndServe(stateID, func(o []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(o...)
		portablev1.RegisterStateServer(s, p.m.state)
		return s
	})
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	hs, err := conn.Plugin.Handshake(ctx, &portablev1.HandshakeRequest{
		ProtocolVersion: portablev1.ProtocolVersion_PROTOCOL_VERSION_1,
		StateBrokerId:   stateID,
		RootPath:        opts.Root,
		PluginName:      p.Name(),
	})
	if err != nil {
		return nil, initErr("handshake", ctx, opts.InitTimeout, err)
	}
	if hs.GetProtocolVersion() != portablev1.ProtocolVersion_PROTOCOL_VERSION_1 {
		return nil, fmt.Errorf("handshake: protocol version %d is not supported; want %d", hs.GetProtocolVersion(), portablev1.ProtocolVersion_PROTOCOL_VERSION_1)
	}
	desc, err := conn.Plugin.Describe(ctx, &portablev1.DescribeRequest{})
	if err != nil {
		return nil, initErr("describe", ctx, opts.InitTimeout, err)
	}
	proc := &process{client: client, conn: conn, funcs: map[string]*portablev1.Extension{},
		sources: map[string]*portablev1.Extension{}, sinks: map[string]*portablev1.Extension{}}
	if cmd.Process != nil {
		proc.pid = cmd.Process.Pid
	}
	if gc, ok := rpc.(*plugin.GRPCClient); ok {
		proc.health = healthpb.NewHealthClient(gc.Conn)
	}
	for _, x := range desc.GetExtensions() {
		switch x.GetKind() {
		case portablev1.Kind_KIND_FUNCTION:
			proc.funcs[x.GetName()] = x
		case portablev1.Kind_KIND_SOURCE:
			proc.sources[x.GetName()] = x
		case portablev1.Kind_KIND_SINK:
			proc.sinks[x.GetName()] = x
		}
	}
	for _, want := range []struct {
		kind   string
		names  []string
		served map[string]*portablev1.Extension
	}{{"function", p.man.Functions, proc.funcs}, {"source", p.man.Sources, proc.sources}, {"sink", p.man.Sinks, proc.sinks}} {
		for _, n := range want.names {
			if want.served[n] == nil {
				return nil, fmt.Errorf("describe: %s %q of the manifest is not served by the executable", want.kind, n)
			}
		}
	}
	logger.Info("portable plugin handshake", "sdk", hs.GetSdk())
	return proc, nil
}

// initErr names the step of the start that failed, and the init timeout
// when that is why.
func initErr(step string, ctx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: no answer within the init timeout of %v", step, timeout)
	}
	return fmt.Errorf("%s: %w", step, rpcErr(err))
}
