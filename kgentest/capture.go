package kgentest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/kgen-dev/kgen/engine"
)

// capture keeps every message of the engine's broker, of the memory
// topics the script expects and of every rule's output, from engine start
// on, so that expect never misses what came before it ran.
type capture struct {
	mu      sync.Mutex
	msgs    []message
	cursors map[string]int // per expect target: where its next read starts
	wake    chan struct{}  // closed (and replaced) when a message comes
	memory  []string       // memory topics to subscribe to
}

type message struct {
	kind    string // "mqtt", "memory" or "rule"
	topic   string // the topic, or the rule id
	payload []byte
}

func newCapture() *capture {
	return &capture{cursors: map[string]int{}, wake: make(chan struct{})}
}

func (c *capture) add(m message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

func (c *capture) ruleRow(rule string, row map[string]any) {
	data, err := json.Marshal(row)
	if err != nil {
		data = []byte(fmt.Sprintf("%q", fmt.Sprint(row)))
	}
	c.add(message{kind: "rule", topic: rule, payload: data})
}

// listen subscribes to # on the broker, and to the memory topics of e (an
// in-process engine) that the script expects.
// listen keeps every message of the broker at brokerURL, and of the memory
// topics the script expects of e (nil: none), until stop.
func (c *capture) listen(brokerURL string, qos byte, e *engine.Engine) (stop func(), err error) {
	stopMQTT, err := c.listenMQTT(brokerURL, qos)
	if err != nil {
		return nil, err
	}
	stopMemory := c.listenMemory(e)
	return func() { stopMQTT(); stopMemory() }, nil
}

// listenMQTT keeps every message of the broker at brokerURL until stop.
func (c *capture) listenMQTT(brokerURL string, qos byte) (stop func(), err error) {
	cl, err := connectMQTT(brokerURL, "capture")
	if err != nil {
		return nil, err
	}
	tok := cl.Subscribe("#", qos, func(_ mqtt.Client, m mqtt.Message) {
		c.add(message{kind: "mqtt", topic: m.Topic(), payload: m.Payload()})
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		cl.Disconnect(0)
		return nil, fmt.Errorf("subscribe to # at %s: %w", brokerURL, errOrTimeout(tok.Error()))
	}
	return func() { cl.Disconnect(100) }, nil
}

// listenMemory keeps the rows of the memory topics the script expects of e
// (nil: none) until stop.
func (c *capture) listenMemory(e *engine.Engine) (stop func()) {
	var cancels []func()
	var wg sync.WaitGroup
	if e != nil {
		for _, topic := range c.memory {
			rows, cancel := e.MemoryHub().Subscribe(topic, 0)
			cancels = append(cancels, cancel)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for row := range rows {
					data, _ := json.Marshal(row)
					c.add(message{kind: "memory", topic: topic, payload: data})
				}
			}()
		}
	}
	return func() {
		for _, cancel := range cancels {
			cancel()
		}
		wg.Wait()
	}
}

func connectMQTT(url, role string) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().AddBroker(url).
		SetClientID(fmt.Sprintf("kgentest-%s-%d", role, time.Now().UnixNano())).
		SetConnectTimeout(10 * time.Second).SetAutoReconnect(false).SetOrderMatters(true)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, errOrTimeout(tok.Error()))
	}
	return c, nil
}

// memoryTargets finds the memory topics a script's expect lines read.
var memoryTargets = regexp.MustCompile(`(?m)^[^#\n]*\bexpect\b[^\n]*\smemory:(\S+)`)

func memoryTopics(script string) []string {
	var out []string
	for _, m := range memoryTargets.FindAllStringSubmatch(script, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// target is what expect reads: kind and topic filter (or rule id).
type target struct {
	kind, filter string
}

func parseTarget(s string) target {
	if t, ok := strings.CutPrefix(s, "memory:"); ok {
		return target{"memory", t}
	}
	if t, ok := strings.CutPrefix(s, "rule:"); ok {
		return target{"rule", t}
	}
	return target{"mqtt", s}
}

func (t target) matches(m message) bool {
	if m.kind != t.kind {
		return false
	}
	if t.kind == "mqtt" {
		return matchFilter(strings.Split(t.filter, "/"), strings.Split(m.topic, "/"))
	}
	return m.topic == t.filter
}

// matchFilter matches MQTT topic levels against a filter with + and #.
func matchFilter(filter, topic []string) bool {
	if len(topic) > 0 && strings.HasPrefix(topic[0], "$") && len(filter) > 0 && (filter[0] == "+" || filter[0] == "#") {
		return false
	}
	for i, f := range filter {
		switch {
		case f == "#":
			return true
		case i >= len(topic):
			return false
		case f != "+" && f != topic[i]:
			return false
		}
	}
	return len(filter) == len(topic)
}

// next returns up to n messages of t after its cursor, waiting until
// deadline for them, and moves the cursor past them.
func (c *capture) next(name string, t target, n int, deadline time.Time) [][]byte {
	var got [][]byte
	for {
		c.mu.Lock()
		i := c.cursors[name]
		for ; i < len(c.msgs) && len(got) < n; i++ {
			if t.matches(c.msgs[i]) {
				got = append(got, c.msgs[i].payload)
			}
		}
		c.cursors[name] = i
		wake := c.wake
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return got
		}
		select {
		case <-wake:
		case <-time.After(wait):
		}
	}
}

const pubUsage = "usage: pub <topic|memory:topic> <file|json>..."

func cmdPub(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptOf(ts, "pub")
	if neg || len(args) < 2 {
		ts.Fatalf("%s", pubUsage)
	}
	if s.eng == nil {
		ts.Fatalf("pub: no engine is running (engine start)")
	}
	var msgs [][]byte
	for _, a := range args[1:] {
		msgs = append(msgs, messagesOf(ts, a)...)
	}
	if topic, ok := strings.CutPrefix(args[0], "memory:"); ok {
		if s.eng.e == nil {
			ts.Fatalf("pub %s: memory topics are in-process only, and this script's engine is a process ([so])", args[0])
		}
		for _, m := range msgs {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := s.eng.e.MemoryHub().PublishPayload(ctx, topic, m)
			cancel()
			if err != nil {
				ts.Fatalf("pub %s: %v", args[0], err)
			}
		}
		return
	}
	cl, err := connectMQTT(s.eng.mqtt, "pub")
	if err != nil {
		ts.Fatalf("pub: %v", err)
	}
	defer cl.Disconnect(100)
	for _, m := range msgs {
		tok := cl.Publish(args[0], s.qos, false, m)
		if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
			ts.Fatalf("pub %s: %v", args[0], errOrTimeout(tok.Error()))
		}
	}
}

// messagesOf is a JSON message, or the lines of a file of messages.
func messagesOf(ts *testscript.TestScript, arg string) [][]byte {
	trimmed := strings.TrimSpace(arg)
	if !strings.HasPrefix(trimmed, "{") && !strings.HasPrefix(trimmed, "[") {
		if _, err := os.Stat(ts.MkAbs(arg)); err == nil {
			var out [][]byte
			for _, l := range strings.Split(ts.ReadFile(arg), "\n") {
				if strings.TrimSpace(l) != "" {
					out = append(out, []byte(l))
				}
			}
			return out
		}
	}
	if !json.Valid([]byte(arg)) {
		ts.Fatalf("pub: %q is neither a file nor JSON", arg)
	}
	return [][]byte{[]byte(arg)}
}

const expectUsage = "usage: expect [-n N] [-timeout D] [-unordered] <topic|memory:topic|rule:id> <file>"

func cmdExpect(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptOf(ts, "expect")
	var (
		n         int
		timeout   time.Duration
		unordered bool
	)
	fs := parse(ts, "expect", expectUsage, args, func(fs *flag.FlagSet) {
		fs.IntVar(&n, "n", 0, "rows to read (default: the file's lines)")
		fs.DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for them")
		fs.BoolVar(&unordered, "unordered", false, "rows may come in any order")
	})
	if fs.NArg() != 2 || n < 0 {
		ts.Fatalf("%s", expectUsage)
	}
	name, file := fs.Arg(0), fs.Arg(1)
	t := parseTarget(name)
	if t.filter == "" {
		ts.Fatalf("expect: empty target %q\n%s", name, expectUsage)
	}
	if t.kind == "memory" && (s.eng == nil || s.eng.e == nil) {
		ts.Fatalf("expect %s: memory topics need an in-process engine started by engine start", name)
	}
	want := lines(ts.ReadFile(file))
	if n == 0 {
		n = len(want)
	}
	got := s.cap.next(name, t, n, time.Now().Add(timeout))
	diff, ok := compareRows(want, got, unordered)
	if ok && len(got) == n {
		if neg {
			ts.Fatalf("expect %s: got the %d rows of %s", name, n, file)
		}
		return
	}
	fmt.Fprintf(ts.Stdout(), "expect %s: got %d rows in %v, want %d (%s):\n%s", name, len(got), timeout, n, file, diff)
	if neg {
		return
	}
	if os.Getenv("KGEN_UPDATE") != "" {
		s.update(ts, file, got)
		return
	}
	ts.Fatalf("expect %s: rows differ from %s", name, file)
}

func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// compareRows compares rows as JSON and returns a line-by-line diff: "  "
// a row as wanted, "- " wanted, "+ " got instead.
func compareRows(want []string, got [][]byte, unordered bool) (string, bool) {
	var b strings.Builder
	ok := len(want) == len(got)
	if unordered {
		used := make([]bool, len(got))
		for _, w := range want {
			found := false
			for j, g := range got {
				if !used[j] && sameJSON(w, g) {
					used[j], found = true, true
					break
				}
			}
			if found {
				b.WriteString("  " + compact([]byte(w)) + "\n")
			} else {
				ok = false
				b.WriteString("- " + compact([]byte(w)) + "\n")
			}
		}
		for j, g := range got {
			if !used[j] {
				ok = false
				b.WriteString("+ " + compact(g) + "\n")
			}
		}
		return b.String(), ok
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(want):
			b.WriteString("+ " + compact(got[i]) + "\n")
		case i >= len(got):
			b.WriteString("- " + compact([]byte(want[i])) + "\n")
		case sameJSON(want[i], got[i]):
			b.WriteString("  " + compact(got[i]) + "\n")
		default:
			ok = false
			b.WriteString("- " + compact([]byte(want[i])) + "\n")
			b.WriteString("+ " + compact(got[i]) + "\n")
		}
	}
	return b.String(), ok
}

// sameJSON compares as JSON values (numbers by value, keys in any order),
// or as text when either side is not JSON.
func sameJSON(want string, got []byte) bool {
	w, werr := decodeJSON([]byte(want))
	g, gerr := decodeJSON(got)
	if werr != nil || gerr != nil {
		return strings.TrimSpace(want) == strings.TrimSpace(string(got))
	}
	return equalJSON(w, g)
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one value")
	}
	return v, nil
}

func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Rat).SetString(a.String())
		y, oky := new(big.Rat).SetString(b.String())
		return okx && oky && x.Cmp(y) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// update is an expected file to rewrite with the rows got (KGEN_UPDATE).
type update struct {
	name string // the file's name in the script's archive
	data []byte
}

// update writes got to file now, and to the script's archive at its end
// (after testscript's own updates, which would otherwise overwrite it).
func (s *script) update(ts *testscript.TestScript, file string, got [][]byte) {
	var b bytes.Buffer
	for _, g := range got {
		b.WriteString(compact(g) + "\n")
	}
	abs := ts.MkAbs(file)
	ts.Check(os.WriteFile(abs, b.Bytes(), 0o644))
	if rel, err := filepath.Rel(s.work, abs); err == nil && !strings.HasPrefix(rel, "..") {
		s.updates = append(s.updates, update{name: filepath.ToSlash(rel), data: b.Bytes()})
	}
	ts.Logf("expect: updated %s", file)
}

func (s *script) applyUpdates() {
	if len(s.updates) == 0 {
		return
	}
	a, err := txtar.ParseFile(s.file.path)
	if err != nil {
		return
	}
	for _, u := range s.updates {
		for i := range a.Files {
			if a.Files[i].Name == u.name {
				a.Files[i].Data = u.data
			}
		}
	}
	os.WriteFile(s.file.path, txtar.Format(a), 0o666)
}
