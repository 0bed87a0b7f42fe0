// Package aclbroker runs a mochi-mqtt broker (the server the engine's
// embedded broker is built on) with an ACL, on a free loopback port, for
// tests of what clients see when a broker refuses their publishes. The
// engine's embedded broker has no ACL.
package aclbroker

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Broker is a running broker whose ACL lets every client read every topic
// and publish to allowed/# only, and to denied/# too while Open is set.
type Broker struct {
	URL  string // tcp://127.0.0.1:<port>
	Open atomic.Bool
}

// Start starts a broker and stops it when the test ends.
func Start(t testing.TB) *Broker {
	t.Helper()
	b := &Broker{}
	s := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := s.AddHook(&aclHook{b: b}, nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "acl", Address: "127.0.0.1:0"})
	if err := s.AddListener(l); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b.URL = "tcp://" + l.Address()
	return b
}

// aclHook is the broker's authentication (everyone) and ACL.
type aclHook struct {
	mqtt.HookBase
	b *Broker
}

func (h *aclHook) ID() string { return "aclbroker" }

func (h *aclHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *aclHook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (h *aclHook) OnACLCheck(_ *mqtt.Client, topic string, write bool) bool {
	return !write || strings.HasPrefix(topic, "allowed/") || h.b.Open.Load()
}
