package kgentest

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/internal/gobuild"
	"github.com/kgen-dev/kgen/internal/layout"
)

// script is what kgentest keeps for one running script.
type script struct {
	pkgDir string // the package under test (the test's folder)
	file   scriptFile
	work   string
	root   string
	logs   *ring
	cap    *capture

	qos      byte
	input    string
	broker   string // "embedded" or "mosquitto"
	mosq     *exec.Cmd
	mosqURL  string
	eng      *running
	statuses string   // the rules' status when the engine last stopped
	updates  []update // expected files to rewrite (KGEN_UPDATE)
	built    bool     // the .so plugins are in the root
	token    string   // rest.token of the engine, from engine start -token
}

// running is a started engine: in-process (e set) or a process (cmd set).
type running struct {
	host, mqtt string
	token      string // the REST API's token, if it wants one
	e          *engine.Engine
	stopREST   context.CancelFunc
	restDone   chan error
	cmd        *exec.Cmd
	cmdDone    chan error
	stopCap    func()
}

func newScript(e *testscript.Env, pkgDir string, sf scriptFile) *script {
	s := &script{
		pkgDir: pkgDir, file: sf, work: e.WorkDir,
		root: filepath.Join(e.WorkDir, ".kgen"),
		logs: newRing(40), cap: newCapture(), qos: 1,
	}
	if data, err := os.ReadFile(sf.path); err == nil {
		script, _, _ := strings.Cut(string(data), "\n-- ")
		s.cap.memory = memoryTopics(script)
	}
	e.Defer(func() {
		s.stop()
		if s.mosq != nil {
			s.mosq.Process.Kill()
			s.mosq.Wait()
		}
		s.applyUpdates()
	})
	if tb, ok := e.T().(interface {
		Cleanup(func())
		Failed() bool
		Log(...any)
	}); ok {
		tb.Cleanup(func() {
			if tb.Failed() {
				tb.Log(s.report())
			}
		})
	}
	return s
}

// report is what a failed script adds to testscript's log.
func (s *script) report() string {
	var b strings.Builder
	if lines := s.logs.lines(); len(lines) > 0 {
		fmt.Fprintf(&b, "kgentest: the engine's last %d log lines:\n", len(lines))
		for _, l := range lines {
			b.WriteString("\t" + l + "\n")
		}
	}
	if s.statuses != "" {
		b.WriteString("kgentest: rule status when the engine stopped:\n" + s.statuses)
	}
	return b.String()
}

var engineUsage = "usage: engine start [-qos N] [-broker embedded|mosquitto] [-input DIR] [-token T] [-timeout D] | engine stop | engine restart"

func cmdEngine(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptOf(ts, "engine")
	if neg || len(args) == 0 {
		ts.Fatalf("%s", engineUsage)
	}
	switch args[0] {
	case "start":
		var qos int
		var timeout time.Duration
		fs := parse(ts, "engine start", engineUsage, args[1:], func(fs *flag.FlagSet) {
			fs.IntVar(&qos, "qos", 1, "MQTT QoS of pub and expect")
			fs.StringVar(&s.broker, "broker", "embedded", "embedded, or mosquitto from PATH")
			fs.StringVar(&s.input, "input", "", "the file source's folder (default $WORK)")
			fs.StringVar(&s.token, "token", "", "the REST API's token (rest.token)")
			fs.DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the engine")
		})
		if fs.NArg() != 0 || qos < 0 || qos > 2 || (s.broker != "embedded" && s.broker != "mosquitto") {
			ts.Fatalf("%s", engineUsage)
		}
		if s.eng != nil {
			ts.Fatalf("engine start: the engine is running (engine restart restarts it)")
		}
		s.qos = byte(qos)
		if s.input == "" {
			s.input = s.work
		} else {
			s.input = ts.MkAbs(s.input)
		}
		ts.Check(s.start(ts, timeout))
	case "stop":
		if len(args) != 1 {
			ts.Fatalf("%s", engineUsage)
		}
		if s.eng == nil {
			ts.Fatalf("engine stop: no engine is running")
		}
		ts.Check(s.stop())
	case "restart":
		if len(args) != 1 {
			ts.Fatalf("%s", engineUsage)
		}
		if s.eng == nil {
			ts.Fatalf("engine restart: no engine is running")
		}
		ts.Check(s.stop())
		ts.Check(s.start(ts, 2*time.Minute))
	default:
		ts.Fatalf("engine: unknown subcommand %q\n%s", args[0], engineUsage)
	}
}

func (s *script) start(ts *testscript.TestScript, timeout time.Duration) error {
	if s.broker == "mosquitto" && s.mosq == nil {
		if err := s.startMosquitto(); err != nil {
			return err
		}
	}
	if err := s.writeConf(); err != nil {
		return err
	}
	// An external broker is there before the engine: listening first keeps
	// what the rules publish as soon as they start (a persistent session's
	// queued messages, say).
	var stopEarly func()
	if s.mosqURL != "" {
		var err error
		if stopEarly, err = s.cap.listenMQTT(s.mosqURL, s.qos); err != nil {
			return fmt.Errorf("engine start: capture messages: %w", err)
		}
	}
	var err error
	if s.file.so {
		s.eng, err = s.startProcess(timeout)
	} else {
		s.eng, err = s.startInProcess(timeout)
	}
	if err != nil {
		if stopEarly != nil {
			stopEarly()
		}
		return err
	}
	if stopEarly != nil {
		stopMemory := s.cap.listenMemory(s.eng.e)
		s.eng.stopCap = func() { stopEarly(); stopMemory() }
	} else {
		stopCap, err := s.cap.listen(s.eng.mqtt, s.qos, s.eng.e)
		if err != nil {
			s.stop()
			return fmt.Errorf("engine start: capture messages: %w", err)
		}
		s.eng.stopCap = stopCap
	}
	ts.Setenv("KGEN_HOST", s.eng.host)
	ts.Setenv(engine.TokenEnv, s.eng.token)
	ts.Setenv("KGEN_MQTT", s.eng.mqtt)
	ts.Setenv("KGEN_ROOT", s.root)
	return nil
}

// writeConf points the file source at the input folder, allows file
// sources and sinks the script's folder, points the engine at mosquitto
// when it runs one and, with -token, sets the REST API's token.
func (s *script) writeConf() error {
	l := layout.Root(s.root)
	for _, d := range []string{l.Etc(), l.SourceConfs()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// The script's folder (and -input) hold its files: file sources and
	// sinks may use them.
	// What the script put in etc/kgen.yaml is kept.
	conf := map[string]any{}
	if data, err := os.ReadFile(l.ConfigFile()); err == nil {
		if err := yaml.Unmarshal(data, &conf); err != nil {
			return fmt.Errorf("%s: %w", l.ConfigFile(), err)
		}
	}
	if conf == nil {
		conf = map[string]any{}
	}
	paths, _ := conf["paths"].(map[string]any)
	if paths == nil {
		paths = map[string]any{}
	}
	allow, _ := paths["allow"].([]any)
	for _, dir := range []string{s.work, s.input} {
		if !slices.Contains(allow, any(dir)) {
			allow = append(allow, dir)
		}
	}
	paths["allow"] = allow
	conf["paths"] = paths
	if s.mosqURL != "" {
		mqtt, _ := conf["mqtt"].(map[string]any)
		if mqtt == nil {
			mqtt = map[string]any{}
		}
		mqtt["server"] = s.mosqURL
		conf["mqtt"] = mqtt
	}
	if s.token != "" {
		rest, _ := conf["rest"].(map[string]any)
		if rest == nil {
			rest = map[string]any{}
		}
		rest["token"] = s.token
		conf["rest"] = rest
	}
	text, err := yaml.Marshal(conf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(l.ConfigFile(), text, 0o644); err != nil {
		return err
	}
	data, err := yaml.Marshal(map[string]any{"default": map[string]any{"fileType": "lines", "path": s.input}})
	if err != nil {
		return err
	}
	return os.WriteFile(l.SourceConf("file"), data, 0o644)
}

func (s *script) startInProcess(timeout time.Duration) (*running, error) {
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := engine.Open(engine.Options{
		Root: s.root, Logger: logger, Broker: true, BrokerAddr: "127.0.0.1:0",
		OnOutput: s.cap.ruleRow,
	})
	if err != nil {
		return nil, fmt.Errorf("engine start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{e: e, mqtt: e.BrokerURL(), stopREST: cancel, restDone: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { r.restDone <- api.Serve(ctx, e, "127.0.0.1:0", logger, func(a string) { ready <- a }) }()
	select {
	case a := <-ready:
		r.host, r.token = "http://"+a, e.Config().REST.Token
		return r, nil
	case err := <-r.restDone:
		cancel()
		e.Close()
		return nil, fmt.Errorf("engine start: %w", err)
	case <-time.After(timeout):
		cancel()
		e.Close()
		return nil, fmt.Errorf("engine start: the REST API did not serve within %v", timeout)
	}
}

// stop stops the engine, if running, keeping the rules' status for report.
func (s *script) stop() error {
	r := s.eng
	if r == nil {
		return nil
	}
	s.eng = nil
	if st, err := ruleStatuses(r.host, r.token); err == nil {
		s.statuses = st
	}
	if r.stopCap != nil {
		r.stopCap()
	}
	var errs []error
	if r.e != nil {
		r.stopREST()
		errs = append(errs, <-r.restDone, r.e.Close())
	}
	if r.cmd != nil {
		r.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-r.cmdDone:
			errs = append(errs, err)
		case <-time.After(15 * time.Second):
			r.cmd.Process.Kill()
			errs = append(errs, fmt.Errorf("did not stop within 15s"), <-r.cmdDone)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("engine stop: %w", err)
	}
	return nil
}

// ruleStatuses is one line per rule: its status JSON.
func ruleStatuses(host, token string) (string, error) {
	cl, err := api.NewClient(host, nil, api.WithToken(token))
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rules, err := cl.Rules(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, r := range rules {
		st, err := cl.RuleStatus(ctx, r.ID)
		if err != nil {
			fmt.Fprintf(&b, "\t%s: %v\n", r.ID, err)
			continue
		}
		fmt.Fprintf(&b, "\t%s: %s", r.ID, st.Status)
		if st.Message != "" {
			fmt.Fprintf(&b, " (%s)", st.Message)
		}
		fmt.Fprintf(&b, ", in %d, out %d, exceptions %d", st.RecordsIn, st.RecordsOut, st.Exceptions)
		if st.LastError != "" {
			fmt.Fprintf(&b, ", last error: %s", st.LastError)
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// startMosquitto runs mosquitto on a free loopback port.
func (s *script) startMosquitto() error {
	exe, err := exec.LookPath("mosquitto")
	if err != nil {
		return fmt.Errorf("engine start -broker mosquitto: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(s.work, ".mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\n", port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(exe, "-c", conf)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("engine start: mosquitto: %w", err)
	}
	s.mosq = cmd
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("engine start: mosquitto did not listen on %s within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mosqURL = "tcp://" + addr
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// engineBinary is a kgen binary without the package under test, built once
// per package folder, for the scripts that load it as a .so.
var engineBinary = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func (s *script) buildEngine() (string, error) {
	engineBinary.Lock()
	defer engineBinary.Unlock()
	if exe := engineBinary.m[s.pkgDir]; exe != "" {
		return exe, nil
	}
	dir, err := os.MkdirTemp("", "kgentest-engine-")
	if err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "kgen")
	cmd := exec.Command("go", "build", "-o", exe, "github.com/kgen-dev/kgen/cmd/kgen")
	cmd.Dir = s.pkgDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build a kgen engine in %s: %v\n%s", s.pkgDir, err, out)
	}
	engineBinary.m[s.pkgDir] = exe
	return exe, nil
}

// startProcess serves a kgen engine process that loads the package under
// test as .so plugins, built into its root at the first start.
func (s *script) startProcess(timeout time.Duration) (*running, error) {
	exe, err := s.buildEngine()
	if err != nil {
		return nil, fmt.Errorf("engine start: %w", err)
	}
	if !s.built {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		target, err := gobuild.ReadTarget(ctx, exe)
		if err != nil {
			return nil, fmt.Errorf("engine start: %w", err)
		}
		_, err = gobuild.Plugin(ctx, gobuild.PluginOptions{
			Dir: s.pkgDir, Package: ".", Target: target,
			Out: filepath.Join(s.root, layout.PluginsDir), Progress: s.logs,
		})
		if err != nil {
			return nil, fmt.Errorf("engine start: build the package as Go plugins: %w", err)
		}
		s.built = true
	}
	ready := filepath.Join(s.work, ".kgen-ready")
	os.Remove(ready)
	cmd := exec.Command(exe, "serve", "-root", s.root, "-rest", "127.0.0.1:0", "-mqtt", "127.0.0.1:0", "-ready", ready)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("engine start: %w", err)
	}
	r := &running{cmd: cmd, cmdDone: make(chan error, 1)}
	go func() { r.cmdDone <- cmd.Wait() }()
	for deadline := time.Now().Add(timeout); ; {
		if data, err := os.ReadFile(ready); err == nil && strings.Count(string(data), "\n") >= 2 {
			lines := strings.Split(string(data), "\n")
			r.host, r.mqtt = lines[0], lines[1]
			r.token = cmp.Or(os.Getenv(engine.TokenEnv), s.token)
			return r, nil
		}
		select {
		case err := <-r.cmdDone:
			return nil, fmt.Errorf("engine start: kgen serve exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-r.cmdDone
			return nil, fmt.Errorf("engine start: kgen serve was not ready within %v", timeout)
		}
	}
}

// ring keeps the last lines written to it.
type ring struct {
	mu    sync.Mutex
	max   int
	buf   []string
	store string // a partial last line
}

func newRing(n int) *ring { return &ring{max: n} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := r.store + string(p)
	parts := strings.Split(text, "\n")
	r.store = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		r.buf = append(r.buf, l)
		if len(r.buf) > r.max {
			r.buf = r.buf[1:]
		}
	}
	return len(p), nil
}

func (r *ring) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.buf...)
	if r.store != "" {
		out = append(out, r.store)
	}
	return out
}
