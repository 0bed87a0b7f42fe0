package aiservice_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"

	"github.com/kgen-dev/kgen/engine"
)

// openEngine opens an engine with a texts stream and a rule per protocol
// calling Label, the REST one through functions prefixed rest_.
func openEngine(t *testing.T, grpcAddr, httpURL string) (*engine.Engine, map[string]<-chan map[string]any) {
	t.Helper()
	e, err := engine.Open(engine.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	register(t, e, "ai_grpc", "grpc", grpcAddr, "")
	register(t, e, "ai_rest", "rest", httpURL, "rest_")
	if _, err := e.CreateStream(`CREATE STREAM texts (id BIGINT, text STRING, labels ARRAY(STRING)) WITH (DATASOURCE="in/texts", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	outs := map[string]<-chan map[string]any{}
	for _, p := range []string{"", "rest_"} {
		rule := fmt.Sprintf(`{"id": "%[1]sr", "sql": "SELECT id, %[1]sLabel(text, labels)->label AS l FROM texts", "actions": [{"memory": {"topic": "out/%[1]sr"}}]}`, p)
		if _, err := e.CreateRule([]byte(rule)); err != nil {
			t.Fatal(err)
		}
		ch, cancel := e.MemoryHub().Subscribe("out/"+p+"r", 16)
		t.Cleanup(cancel)
		outs[p+"r"] = ch
	}
	return e, outs
}

func sendText(t *testing.T, e *engine.Engine, id int64) {
	t.Helper()
	row := map[string]any{"id": id, "text": "a cat", "labels": []any{"dog", "cat"}}
	if err := e.MemoryHub().Publish(context.Background(), "in/texts", row); err != nil {
		t.Fatal(err)
	}
}

func wantRow(t *testing.T, outs map[string]<-chan map[string]any, id int64) {
	t.Helper()
	for rule, ch := range outs {
		r, ok := receive(ch)
		if want := fmt.Sprintf("map[id:%d l:cat]", id); !ok || fmt.Sprint(r) != want {
			t.Fatalf("rule %s: got %v (%v), want %s", rule, r, ok, want)
		}
	}
}

func waitExceptions(t *testing.T, e *engine.Engine, n int64, contains map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, rule := range []string{"r", "rest_r"} {
		for {
			st, _ := e.RuleStatus(rule)
			if st.Exceptions >= n {
				if st.Exceptions != n || st.Status != "running" || !strings.Contains(st.LastError, contains[rule]) {
					t.Errorf("rule %s: status %+v, want %d exceptions and an error with %q", rule, st, n, contains[rule])
				}
				t.Logf("rule %s: %s", rule, st.LastError)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rule %s: %d exceptions, want %d", rule, st.Exceptions, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// A killed server makes rows exceptions within the timeout; the rule goes
// on, and uses the server again once it is back on the same address.
func TestKilledServer(t *testing.T) {
	base := runtime.NumGoroutine()
	srv := serve(t, "127.0.0.1:0", "127.0.0.1:0")
	e, outs := openEngine(t, srv.grpcAddr, srv.httpURL)
	sendText(t, e, 1)
	wantRow(t, outs, 1)

	srv.stop()
	start := time.Now()
	sendText(t, e, 2)
	waitExceptions(t, e, 1, map[string]string{"r": `function "Label": grpc call /aiservice.Features/Label`, "rest_r": `function "rest_Label": `})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failure took %v", d)
	}

	back := serve(t, srv.grpcAddr, strings.TrimPrefix(srv.httpURL, "http://"))
	sendText(t, e, 3)
	wantRow(t, outs, 3)
	if back.srv.Calls() != 2 {
		t.Errorf("restarted server served %d calls, want 2", back.srv.Calls())
	}
	back.stop()
	e.Close()
	// Connections and their goroutines are gone with the engine.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// rawCodec sends and receives raw bytes: a gRPC server that answers
// anything with garbage.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { return nil }
func (rawCodec) Name() string                       { return "proto" }

var _ encoding.Codec = rawCodec{}

// A server answering garbage makes those rows exceptions: a gRPC server
// whose responses are not the rpc's message (bytes that do not decode, and
// a map entry that protobuf-go panics on), a TCP server that is not gRPC,
// and an HTTP server whose bodies are not JSON.
func TestGarbageServer(t *testing.T) {
	answers := make(chan []byte, 1)
	gs := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var in []byte
		stream.RecvMsg(&in)
		return stream.SendMsg(<-answers)
	}))
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	go gs.Serve(gl)
	defer gs.Stop()
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() {
		for {
			c, err := hl.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"label\":"))
			c.Close()
		}
	}()
	defer hl.Close()
	e, outs := openEngine(t, gl.Addr().String(), "http://"+hl.Addr().String())
	// Field 3 (hits, a map) holding an entry whose key comes twice, the
	// second time with the wrong wire type: protobuf-go (v1.36.12) panics
	// decoding it into a dynamic message; svc.DecodeToSQL refuses it.
	answers <- []byte{0x1a, 0x05, 0x0a, 0x01, 0x30, 0x08, 0x30}
	sendText(t, e, 1)
	waitExceptions(t, e, 1, map[string]string{"r": `failed to unmarshal the received message: decode aiservice.LabelResult.hits: map entry without a key or value`, "rest_r": `function "rest_Label": `})
	answers <- []byte{0xff, 0xff, 0xff}
	sendText(t, e, 2)
	waitExceptions(t, e, 2, map[string]string{"r": `function "Label": grpc call /aiservice.Features/Label`, "rest_r": `function "rest_Label": `})
	select {
	case r := <-outs["r"]:
		t.Errorf("a row came out: %v", r)
	case r := <-outs["rest_r"]:
		t.Errorf("a row came out: %v", r)
	default:
	}

	// Not a gRPC server at all.
	tl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer tl.Close()
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("220 smtp.example ESMTP\r\n"))
			c.Close()
		}
	}()
	e2, _ := openEngine(t, tl.Addr().String(), "http://"+hl.Addr().String())
	sendText(t, e2, 1)
	waitExceptions(t, e2, 1, map[string]string{"r": `function "Label": grpc call /aiservice.Features/Label`, "rest_r": `function "rest_Label": `})
}
