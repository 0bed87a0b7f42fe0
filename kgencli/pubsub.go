package kgencli

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/kgen-dev/kgen/internal/atomicfile"
)

// defaultMQTT is the embedded broker's address in a default kgen serve.
const defaultMQTT = "tcp://127.0.0.1:1883"

const mqttHelp = `

pub and sub talk to the MQTT broker at -server, else $KGEN_MQTT, else
` + defaultMQTT + ` (the embedded broker of a default kgen serve).`

// mqttTimeout bounds connecting, subscribing and each acknowledgement.
const mqttTimeout = 10 * time.Second

func serverFlag(fs *flag.FlagSet) *string {
	return fs.String("server", "", "MQTT broker `URL` (default $KGEN_MQTT, else "+defaultMQTT+")")
}

func qosFlag(fs *flag.FlagSet, def int) *int {
	return fs.Int("qos", def, "MQTT quality of service `N`: 0, 1 or 2")
}

var pubCmd = &command{
	name:    "pub",
	args:    "[-server URL] [-qos N] [-retain] <topic> <message>... | -",
	summary: "publish messages to an MQTT topic, such as a stream's DATASOURCE",
	help: `
Pub publishes each message to topic, in order, and waits until the broker
has acknowledged each (at QoS 1 and 2). For "-" it publishes each line of
stdin instead; empty lines are skipped.` + mqttHelp,
	example: `
kgen pub sensors/s1/data '{"temperature":63.5,"humidity":40}'
cat readings.jsonl | kgen pub sensors/s1/data -`,
	setup: func(fs *flag.FlagSet) runFunc {
		server := serverFlag(fs)
		qos := qosFlag(fs, 1)
		retain := fs.Bool("retain", false, "ask the broker to keep the last message for new subscribers")
		return func(c *cli, args []string) error {
			if len(args) < 2 {
				return usageErrorf("want a topic and at least one message, got %d arguments", len(args))
			}
			if err := checkQoS(*qos); err != nil {
				return err
			}
			topic, msgs := args[0], args[1:]
			if len(msgs) == 1 && msgs[0] == "-" {
				var err error
				if msgs, err = c.stdinLines(); err != nil {
					return err
				}
			}
			return c.publish(mqttServer(*server), topic, byte(*qos), *retain, msgs)
		}
	},
}

var subCmd = &command{
	name:    "sub",
	args:    "[-server URL] [-qos N] [-n N] [-timeout D] [-ready FILE] <topic>",
	summary: "print the messages of an MQTT topic, such as a rule's output",
	help: `
Sub subscribes to topic (a filter: '+' and '#' work) and prints each
message's payload on a line of its own, as it arrives. With -n it exits
after N messages, else when interrupted (SIGINT or SIGTERM). With -timeout
it fails when fewer than N messages (with no -n: none) came within D.
With -ready it writes FILE once subscribed, and removes it when done, so
scripts can publish after it rather than sleep.` + mqttHelp,
	example: `
kgen sub -n 2 alerts
kgen sub 'sensors/+/data'`,
	setup: func(fs *flag.FlagSet) runFunc {
		server := serverFlag(fs)
		qos := qosFlag(fs, 1)
		n := fs.Int("n", 0, "exit after `N` messages (0: run until interrupted)")
		timeout := fs.Duration("timeout", 0, "fail when the messages did not come within `D` (0: wait for ever)")
		ready := fs.String("ready", "", "write `FILE` once subscribed")
		return func(c *cli, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want one topic, got %d arguments", len(args))
			}
			if err := checkQoS(*qos); err != nil {
				return err
			}
			if *n < 0 {
				return usageErrorf("-n %d: want 0 or more", *n)
			}
			if *timeout < 0 {
				return usageErrorf("-timeout %v: want 0 or more", *timeout)
			}
			return c.subscribe(mqttServer(*server), args[0], byte(*qos), *n, *timeout, *ready)
		}
	},
}

func checkQoS(qos int) error {
	if qos < 0 || qos > 2 {
		return usageErrorf("-qos %d: want 0, 1 or 2", qos)
	}
	return nil
}

func mqttServer(flagValue string) string {
	return cmp.Or(flagValue, os.Getenv("KGEN_MQTT"), defaultMQTT)
}

// stdinLines reads the non-empty lines of stdin.
func (c *cli) stdinLines() ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(c.stdin)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			lines = append(lines, string(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	return lines, nil
}

// connectMQTT connects a client with a fresh id to server; lost, when
// set, hears why the connection ended.
func connectMQTT(server, role string, lost chan<- error) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().AddBroker(server).
		SetClientID("kgen-" + role + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)).
		SetConnectTimeout(mqttTimeout).SetAutoReconnect(false).SetConnectRetry(false)
	if lost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- fmt.Errorf("connection to %q lost: %w", server, err):
			default:
			}
		})
	}
	client := mqtt.NewClient(opts)
	if err := wait(client.Connect()); err != nil {
		return nil, fmt.Errorf("connect to %q: %w", server, err)
	}
	return client, nil
}

// wait waits for a paho token, at most mqttTimeout.
func wait(tok mqtt.Token) error {
	if !tok.WaitTimeout(mqttTimeout) {
		return fmt.Errorf("no answer in %v", mqttTimeout)
	}
	return tok.Error()
}

func (c *cli) publish(server, topic string, qos byte, retain bool, msgs []string) error {
	client, err := connectMQTT(server, "pub", nil)
	if err != nil {
		return err
	}
	defer client.Disconnect(250)
	for i, msg := range msgs {
		if err := wait(client.Publish(topic, qos, retain, msg)); err != nil {
			return fmt.Errorf("publish message %d to %q: %w", i+1, topic, err)
		}
	}
	return nil
}

func (c *cli) subscribe(server, topic string, qos byte, n int, timeout time.Duration, ready string) error {
	ctx, stop := signalContext(c.ctx)
	defer stop()
	lost := make(chan error, 1)
	client, err := connectMQTT(server, "sub", lost)
	if err != nil {
		return err
	}
	defer client.Disconnect(250)
	msgs := make(chan []byte, 1024)
	// paho calls the handler on one goroutine, in order; a full channel
	// holds it up, and with it the broker (flow control), rather than
	// dropping messages.
	handler := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case msgs <- m.Payload():
		case <-ctx.Done():
		}
	}
	if err := wait(client.Subscribe(topic, qos, handler)); err != nil {
		return fmt.Errorf("subscribe to %q: %w", topic, err)
	}
	if ready != "" {
		if err := atomicfile.Write(ready, []byte(topic+"\n")); err != nil {
			return fmt.Errorf("ready file: %w", err)
		}
		defer os.Remove(ready)
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for got := 0; n == 0 || got < n; got++ {
		select {
		case p := <-msgs:
			if _, err := fmt.Fprintf(c.stdout, "%s\n", p); err != nil {
				return err
			}
		case <-deadline:
			switch {
			case n > 0:
				return fmt.Errorf("received %d of %d messages on %q in %v", got, n, topic, timeout)
			case got == 0:
				return fmt.Errorf("received no message on %q in %v", topic, timeout)
			}
			return nil
		case err := <-lost: // the broker went away
			return err
		case <-ctx.Done():
			return nil // interrupted: the normal end without -n
		}
	}
	return nil
}
