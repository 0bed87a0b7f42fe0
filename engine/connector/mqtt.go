package connector

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"

	"github.com/kgen-dev/kgen/sdk"
)

// Timings shared by the MQTT source and sink. paho tries to reconnect at once,
// then after 1s, doubling up to mqttMaxReconnect.
const (
	mqttConnectTimeout = 10 * time.Second
	mqttMaxReconnect   = 10 * time.Second
	mqttWriteTimeout   = 10 * time.Second
	mqttDisconnectMs   = 250
)

// mqttConfig is what the MQTT source and sink have in common.
type mqttConfig struct {
	server          string
	clientID        string // "" until generated
	username        string
	password        string
	protocolVersion uint // 3 for MQTT 3.1, 4 for 3.1.1
	tls             *tls.Config
}

// readMQTTConfig reads the connection properties. clientKey is "clientid"
// for the source and "clientId" for the sink, as eKuiper spells them; both
// accept either spelling.
// mqttClientIDs are both spellings of the client id: the source reads
// clientid first (eKuiper's source key), the sink clientId.
var mqttClientIDs = []string{"clientid", "clientId"}

// eKuiper's MQTT properties that kgen does not implement.
var (
	ekuiperMQTTSinkProps   = []string{"tlsMinVersion", "renegotiationSupport", "certficationRaw", "privateKeyRaw", "rootCARaw", "connectionSelector"}
	ekuiperMQTTSourceProps = []string{"certficationRaw", "privateKeyRaw", "rootCARaw", "kubeedgeVersion", "kubeedgeModelFile"}
)

func readMQTTConfig(ctx sdk.Context, r *propReader, clientKey string) mqttConfig {
	c := mqttConfig{
		server:   r.string("server", "tcp://127.0.0.1:1883"),
		username: r.string("username", ""),
		password: r.string("password", ""),
	}
	c.clientID = r.string(clientKey, "")
	if c.clientID == "" {
		other := "clientId"
		if clientKey == other {
			other = "clientid"
		}
		c.clientID = r.string(other, "")
	}
	switch r.oneOf("protocolVersion", "3.1.1", "3.1", "3.1.1") {
	case "3.1":
		c.protocolVersion = 3
	default:
		c.protocolVersion = 4
	}
	skipVerify := r.bool("insecureSkipVerify", false)
	cert := r.string("certificationPath", "")
	key := r.string("privateKeyPath", "")
	rootCA := r.string("rootCaPath", "")
	if r.err != nil {
		return c
	}
	if skipVerify || cert != "" || key != "" || rootCA != "" {
		tc, err := loadTLS(ctx, skipVerify, cert, key, rootCA)
		r.keep(err)
		c.tls = tc
	}
	return c
}

// loadTLS builds the client TLS configuration. Relative paths resolve against
// the engine root, and every path must be where the engine's path policy
// allows (confine). paho uses it for ssl://, tls://, mqtts:// and wss://
// servers.
func loadTLS(ctx sdk.Context, skipVerify bool, cert, key, rootCA string) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: skipVerify, MinVersion: tls.VersionTLS12}
	switch {
	case cert != "" && key == "":
		return nil, errors.New(`property "privateKeyPath" is required with "certificationPath"`)
	case key != "" && cert == "":
		return nil, errors.New(`property "certificationPath" is required with "privateKeyPath"`)
	case cert != "":
		certFile, err := resolvePath(ctx, `property "certificationPath"`, "", cert)
		if err != nil {
			return nil, err
		}
		keyFile, err := resolvePath(ctx, `property "privateKeyPath"`, "", key)
		if err != nil {
			return nil, err
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("property %q: load key pair: %w", "certificationPath", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	if rootCA != "" {
		caFile, err := resolvePath(ctx, `property "rootCaPath"`, "", rootCA)
		if err != nil {
			return nil, err
		}
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", "rootCaPath", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("property %q: no PEM certificate in %s", "rootCaPath", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// newClientID returns a unique client id short enough for MQTT 3.1 (23
// characters at most).
func newClientID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "kgen_" + hex.EncodeToString(b[:])
}

// clientOptions returns paho options with automatic reconnection. Handlers
// are set by the caller.
func (c mqttConfig) clientOptions() *paho.ClientOptions {
	o := paho.NewClientOptions().
		AddBroker(c.server).
		SetClientID(c.clientID).
		SetUsername(c.username).
		SetPassword(c.password).
		SetProtocolVersion(c.protocolVersion).
		SetConnectTimeout(mqttConnectTimeout).
		SetWriteTimeout(mqttWriteTimeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(mqttMaxReconnect).
		SetConnectRetry(false)
	if c.tls != nil {
		o.SetTLSConfig(c.tls)
	}
	if u, err := url.Parse(c.server); err == nil && bufferedSchemes[u.Scheme] {
		o.SetCustomOpenConnectionFn(openBuffered)
	}
	return o
}

// bufferedSchemes are the broker URL schemes openBuffered dials; paho
// dials the others (websockets, unix sockets) itself.
var bufferedSchemes = map[string]bool{
	"tcp": true, "mqtt": true, "ssl": true, "tls": true, "mqtts": true, "mqtt+ssl": true, "tcps": true,
}

// openBuffered dials the broker as paho would (a proxy from the
// environment, TLS for the TLS schemes) and buffers what it reads. paho
// reads a packet's fixed header, length and body in separate reads; from a
// bare connection that is three system calls per message, from the buffer
// one per many messages.
func openBuffered(u *url.URL, o paho.ClientOptions) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(o.ConnectTimeout, mqttConnectTimeout))
	defer cancel()
	conn, err := proxy.Dial(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "tcp" && u.Scheme != "mqtt" {
		tc := &tls.Config{}
		if o.TLSConfig != nil {
			tc = o.TLSConfig.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		t := tls.Client(conn, tc)
		if err := t.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = t
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 32<<10)}, nil
}

// bufferedConn reads through a buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// connectMQTT makes the first connection attempt and waits for it, bounded
// by the connect timeout and ctx. Later losses are repaired by paho. A failed
// attempt is sdk.Retryable: the broker may just not be up yet.
func connectMQTT(ctx sdk.Context, client paho.Client, server string) error {
	tok := client.Connect()
	t := time.NewTimer(mqttConnectTimeout + time.Second)
	defer t.Stop()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return sdk.Retryable(fmt.Errorf("connect to %s: timed out after %v", server, mqttConnectTimeout))
	}
	if err := tok.Error(); err != nil {
		return sdk.Retryable(fmt.Errorf("connect to %s: %w", server, err))
	}
	return nil
}

// statusReporter forwards connection changes to the engine's StatusHandler
// one at a time, dropping repeats and anything after close. paho calls some
// handlers from fresh goroutines, hence the lock.
type statusReporter struct {
	mu      sync.Mutex
	handler sdk.StatusHandler
	last    sdk.ConnectionStatus
	lastMsg string
	closed  bool

	lostReason string // why the connection was last lost
	attempt    int    // reconnection attempt under way, from 0
	reconnect  bool   // the attempt under way is a reconnection
}

func (r *statusReporter) SetStatusHandler(h sdk.StatusHandler) {
	r.mu.Lock()
	r.handler = h
	r.mu.Unlock()
}

func (r *statusReporter) report(status sdk.ConnectionStatus, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reportLocked(status, msg)
}

func (r *statusReporter) reportLocked(status sdk.ConnectionStatus, msg string) {
	if r.closed || r.handler == nil || (status == r.last && msg == r.lastMsg) {
		return
	}
	r.last, r.lastMsg = status, msg
	r.handler(status, msg)
}

func (r *statusReporter) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// watch reports the losses and failed reconnections of a paho client as
// disconnected, with the reason. The caller's OnConnect reports connected.
func (r *statusReporter) watch(o *paho.ClientOptions) *paho.ClientOptions {
	return o.
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.lostReason = "connection lost: " + errText(err)
			r.reportLocked(sdk.StatusDisconnected, r.lostReason)
		}).
		SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
			r.mu.Lock()
			defer r.mu.Unlock()
			switch n := n.(type) {
			case paho.ConnectionNotificationConnecting:
				r.reconnect, r.attempt = n.IsReconnect, n.Attempt
			case paho.ConnectionNotificationFailed:
				// paho makes the first reconnection attempt at once, possibly
				// before the loss is reported (from another goroutine); report
				// the later failures, which come after a backoff.
				if r.reconnect && r.attempt > 0 {
					r.reconnectFailedLocked(n.Reason)
				}
			}
		})
}

// reconnectFailed reports a failed reconnection as disconnected, with the
// reason of the loss and of the failure.
func (r *statusReporter) reconnectFailed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reconnectFailedLocked(err)
}

func (r *statusReporter) reconnectFailedLocked(err error) {
	r.reportLocked(sdk.StatusDisconnected, r.lostReason+"; reconnect failed: "+errText(err))
}

func errText(err error) string {
	if err == nil {
		return "unknown reason"
	}
	return err.Error()
}
