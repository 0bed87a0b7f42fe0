package kgentest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/kgencli"
)

// Main runs the kgen command line with the process arguments and exits. Plugin
// projects register it with testscript so their scripts can `exec kgen ...`:
//
//	func TestMain(m *testing.M) {
//		testscript.Main(m, map[string]func(){"kgen": kgentest.Main})
//	}
func Main() { kgencli.Main() }

// Commands returns the testscript commands that need no engine of Run's,
// for scripts that start `kgen serve` themselves (Run adds the engine
// commands of the package documentation):
//
//	waitfile [-timeout D] FILE            wait until FILE exists and is not empty
//	envfile NAME FILE [LINE]              set NAME to line LINE (default 1) of FILE
//	mqttpub [-server URL] TOPIC MSG...    publish each MSG (QoS 1) and wait for the acks
//	mqttsub [-server URL] NAME TOPIC      subscribe to TOPIC (QoS 1) and keep what arrives under NAME
//	mqttwait [-n N] [-timeout D] NAME     print the next N payloads of subscription NAME, one per line
//	mkzip OUT.zip NAME=TEXT|NAME=@FILE... write a zip with these entries, verbatim and in order
//
// mkzip writes entries no well-behaved packer would (../x, /abs), to test
// how an engine refuses bad plugin and service zips. MQTT commands default to
// the server in $KGEN_MQTT, else tcp://127.0.0.1:1883.
// JSON payloads are printed compact with sorted keys, so scripts can cmp them.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"waitfile": waitFile,
		"envfile":  envFile,
		"mqttpub":  mqttPub,
		"mqttsub":  mqttSub,
		"mqttwait": mqttWait,
		"mkzip":    mkZip,
	}
}

func parse(ts *testscript.TestScript, name, usage string, args []string, def func(fs *flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(ts.Stderr())
	if def != nil {
		def(fs)
	}
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("usage: %s", strings.TrimPrefix(usage, "usage: "))
	}
	return fs
}

func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	var timeout time.Duration
	fs := parse(ts, "waitfile", "waitfile [-timeout D] FILE", args, func(fs *flag.FlagSet) {
		fs.DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait")
	})
	if fs.NArg() != 1 {
		ts.Fatalf("usage: waitfile [-timeout D] FILE")
	}
	path := ts.MkAbs(fs.Arg(0))
	deadline := time.Now().Add(timeout)
	for {
		info, err := os.Stat(path)
		if err == nil && info.Size() > 0 {
			if neg {
				ts.Fatalf("%s exists", fs.Arg(0))
			}
			return
		}
		if time.Now().After(deadline) {
			if neg {
				return
			}
			ts.Fatalf("%s did not appear within %v", fs.Arg(0), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func envFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: envfile NAME FILE [LINE]")
	}
	line := 1
	if len(args) == 3 {
		if _, err := fmt.Sscan(args[2], &line); err != nil || line < 1 {
			ts.Fatalf("envfile: LINE %q: want a positive number", args[2])
		}
	}
	lines := strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n")
	if line > len(lines) {
		ts.Fatalf("envfile: %s has %d lines, want line %d", args[1], len(lines), line)
	}
	ts.Setenv(args[0], strings.TrimSpace(lines[line-1]))
}

func server(ts *testscript.TestScript, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if s := ts.Getenv("KGEN_MQTT"); s != "" {
		return s
	}
	return "tcp://127.0.0.1:1883"
}

func connect(ts *testscript.TestScript, url, role string) mqtt.Client {
	opts := mqtt.NewClientOptions().AddBroker(url).
		SetClientID(fmt.Sprintf("kgentest-%s-%d", role, time.Now().UnixNano())).
		SetConnectTimeout(10 * time.Second).SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		ts.Fatalf("connect to %s: %v", url, errOrTimeout(tok.Error()))
	}
	return c
}

func errOrTimeout(err error) error {
	if err == nil {
		return errors.New("timed out")
	}
	return err
}

func mqttPub(ts *testscript.TestScript, neg bool, args []string) {
	var srv string
	fs := parse(ts, "mqttpub", "mqttpub [-server URL] TOPIC MSG...", args, func(fs *flag.FlagSet) {
		fs.StringVar(&srv, "server", "", "broker URL")
	})
	if neg || fs.NArg() < 2 {
		ts.Fatalf("usage: mqttpub [-server URL] TOPIC MSG...")
	}
	c := connect(ts, server(ts, srv), "pub")
	defer c.Disconnect(100)
	for _, msg := range fs.Args()[1:] {
		tok := c.Publish(fs.Arg(0), 1, false, msg)
		if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			ts.Fatalf("publish to %s: %v", fs.Arg(0), errOrTimeout(tok.Error()))
		}
	}
}

// subscriptions holds the open mqttsub subscriptions of each running script.
var subscriptions = struct {
	sync.Mutex
	m map[*testscript.TestScript]map[string]*subscription
}{m: map[*testscript.TestScript]map[string]*subscription{}}

type subscription struct {
	topic string
	msgs  chan []byte
}

func mqttSub(ts *testscript.TestScript, neg bool, args []string) {
	var srv string
	fs := parse(ts, "mqttsub", "mqttsub [-server URL] NAME TOPIC", args, func(fs *flag.FlagSet) {
		fs.StringVar(&srv, "server", "", "broker URL")
	})
	if neg || fs.NArg() != 2 {
		ts.Fatalf("usage: mqttsub [-server URL] NAME TOPIC")
	}
	name, topic := fs.Arg(0), fs.Arg(1)
	sub := &subscription{topic: topic, msgs: make(chan []byte, 10000)}
	subscriptions.Lock()
	if subscriptions.m[ts] == nil {
		subscriptions.m[ts] = map[string]*subscription{}
		ts.Defer(func() {
			subscriptions.Lock()
			delete(subscriptions.m, ts)
			subscriptions.Unlock()
		})
	}
	if _, dup := subscriptions.m[ts][name]; dup {
		subscriptions.Unlock()
		ts.Fatalf("mqttsub: subscription %q exists", name)
	}
	subscriptions.m[ts][name] = sub
	subscriptions.Unlock()

	c := connect(ts, server(ts, srv), "sub")
	ts.Defer(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case sub.msgs <- m.Payload():
		default: // the buffer holds far more than any script waits for
		}
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		ts.Fatalf("subscribe to %s: %v", topic, errOrTimeout(tok.Error()))
	}
}

func mqttWait(ts *testscript.TestScript, neg bool, args []string) {
	var (
		n       int
		timeout time.Duration
	)
	fs := parse(ts, "mqttwait", "mqttwait [-n N] [-timeout D] NAME", args, func(fs *flag.FlagSet) {
		fs.IntVar(&n, "n", 1, "messages to receive")
		fs.DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	})
	if neg || fs.NArg() != 1 {
		ts.Fatalf("usage: mqttwait [-n N] [-timeout D] NAME")
	}
	subscriptions.Lock()
	sub := subscriptions.m[ts][fs.Arg(0)]
	subscriptions.Unlock()
	if sub == nil {
		ts.Fatalf("mqttwait: no subscription %q (start one with mqttsub)", fs.Arg(0))
	}
	deadline := time.After(timeout)
	for i := 0; i < n; i++ {
		select {
		case p := <-sub.msgs:
			fmt.Fprintln(ts.Stdout(), compact(p))
		case <-deadline:
			ts.Fatalf("mqttwait %s: received %d of %d messages on %s in %v", fs.Arg(0), i, n, sub.topic, timeout)
		}
	}
}

// compact prints JSON payloads with sorted keys so scripts can compare them.
func compact(p []byte) string {
	var v any
	if err := json.Unmarshal(p, &v); err != nil {
		return string(p)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return string(p)
	}
	return string(out)
}
