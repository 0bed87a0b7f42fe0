package broker

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestRoundTrip(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	if got, want := b.URL(), "tcp://"+b.Addr(); got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("broker-test").SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)

	got := make(chan paho.Message, 1)
	if tok := c.Subscribe("sensors/+/temp", 1, func(_ paho.Client, m paho.Message) { got <- m }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := c.Publish("sensors/a/temp", 1, false, `{"t":21}`); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case m := <-got:
		if m.Topic() != "sensors/a/temp" || string(m.Payload()) != `{"t":21}` {
			t.Fatalf("got %s %s", m.Topic(), m.Payload())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
}

func TestCloseFreesPort(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not freed: %v", err)
	}
	ln.Close()
}

func TestPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()

	_, err = Start(addr, nil)
	want := "embedded mqtt broker: listen " + addr + ": address already in use"
	if err == nil || err.Error() != want {
		t.Fatalf("Start on a busy port: %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v does not match syscall.EADDRINUSE", err)
	}
}

// A connection that never sends CONNECT does not keep Close waiting.
func TestCloseWithSilentConnection(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked by a silent connection")
	}
}

// The broker counts what it drops for a client whose queue is full, per
// client id; a clean-session client's count goes with it, a persistent
// one's stays.
func TestDroppedFor(t *testing.T) {
	b, err := Start("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, persistent := range []bool{false, true} {
		id := fmt.Sprintf("slow-%v", persistent)
		release := make(chan struct{})
		sub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetCleanSession(!persistent).SetOrderMatters(true))
		if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		if tok := sub.Subscribe("flood", 0, func(paho.Client, paho.Message) { <-release }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		before := b.Stats().Dropped
		for range 20_000 {
			if err := b.Publish("flood", make([]byte, 512), false, 0); err != nil {
				t.Fatal(err)
			}
		}
		dropped := b.DroppedFor(id)
		if dropped == 0 || dropped != b.Stats().Dropped-before {
			t.Fatalf("%s: dropped %d, the broker counted %d", id, dropped, b.Stats().Dropped-before)
		}
		close(release)
		sub.Disconnect(50)
		deadline := time.Now().Add(10 * time.Second)
		for b.Stats().Clients > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := b.DroppedFor(id); persistent && got != dropped || !persistent && got != 0 {
			t.Fatalf("%s after it left: %d dropped", id, got)
		}
	}
}

// A packet over the bound disconnects its client before the broker reads
// it in; packets within the bound go through.
func TestMaxPacketSize(t *testing.T) {
	b, err := StartWith("127.0.0.1:0", nil, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan Message, 4)
	unsub, err := b.Subscribe("big/#", 0, func(m Message) { got <- m })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	lost := make(chan error, 1)
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("big-test").SetConnectTimeout(5 * time.Second).
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish("big/small", 0, false, make([]byte, 512)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish 512 bytes: %v", tok.Error())
	}
	select {
	case m := <-got:
		if len(m.Payload) != 512 {
			t.Fatalf("got %d bytes", len(m.Payload))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the small message did not come through")
	}
	c.Publish("big/large", 0, false, make([]byte, 4096))
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("a 4 KiB packet did not disconnect its client")
	}
	select {
	case m := <-got:
		t.Fatalf("the large message came through: %d bytes on %s", len(m.Payload), m.Topic)
	case <-time.After(200 * time.Millisecond):
	}
}
