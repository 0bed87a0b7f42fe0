package aiservice_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/examples/aiservice"
	"github.com/kgen-dev/kgen/internal/testutil/enginetest"
)

var benchRequest = &aiservice.LabelRequest{Text: "the cat sat on the mat", Labels: []string{"dog", "cat"}}

// bareGRPC calls Label with the generated typed client: the limit a rule
// calling the same server is measured against.
func bareGRPC(b *testing.B, addr string) func() {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	cl := aiservice.NewFeaturesClient(conn)
	return func() {
		res, err := cl.Label(context.Background(), benchRequest)
		if err != nil || res.Label != "cat" {
			b.Fatalf("bare call: %v %v", res, err)
		}
	}
}

// bareREST encodes the request as protobuf JSON, posts it with net/http
// and decodes the answer: what a hand-written REST client does for each
// call, as the typed gRPC client encodes and decodes each call too.
func bareREST(b *testing.B, url string) func() {
	hc := &http.Client{}
	return func() {
		body, err := protojson.Marshal(benchRequest)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Post(url+"/features/Label", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res aiservice.LabelResult
		if err != nil || protojson.Unmarshal(data, &res) != nil || res.Label != "cat" {
			b.Fatalf("bare call: %s %v", data, err)
		}
	}
}

// BenchmarkExternalFunction runs rows through a rule calling the Label rpc
// of a generated server (SELECT Label(text, labels)->label AS l FROM texts,
// to a nop sink), over gRPC and over REST, and in the same run calls the
// same server directly with the typed client: the bare client is the
// limit. The server runs in a process of its own on 127.0.0.1, so its CPU
// is not counted in either side's allocations.
//
// The rule runs with options.concurrency 1 (one call at a time) and 8
// (calls overlap, output order kept); the bare client makes as many calls
// at once, from as many goroutines. It reports calls per second of both,
// their ratio (targets: ≥ 0.8 at concurrency 1, ≥ 0.7 at 8), allocations
// per call, and per-call latency p50/p99 of both, one call at a time (for
// the rule: from publishing a row to its output).
func BenchmarkExternalFunction(b *testing.B) {
	for _, protocol := range []string{"grpc", "rest"} {
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", protocol, conc), func(b *testing.B) {
				benchExternalFunction(b, protocol, conc)
			})
		}
	}
}

func benchExternalFunction(b *testing.B, protocol string, concurrency int) {
	grpcAddr, httpURL := serveOutOfProcess(b)
	e, err := engine.Open(engine.Options{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	addr, bare := grpcAddr, bareGRPC(b, grpcAddr)
	if protocol == "rest" {
		addr, bare = httpURL, bareREST(b, httpURL)
	}
	register(b, e, "ai", protocol, addr, "")
	if _, err := e.CreateStream(`CREATE STREAM texts (text STRING, labels ARRAY(STRING)) WITH (DATASOURCE="in/texts", TYPE="memory")`); err != nil {
		b.Fatal(err)
	}
	for id, sink := range map[string]string{"bench": `{"nop": {}}`, "latency": `{"memory": {"topic": "out/latency"}}`} {
		rule := fmt.Sprintf(`{"id": %q, "sql": "SELECT Label(text, labels)->label AS l FROM texts", "actions": [%s],
			"options": {"concurrency": %d}}`, id, sink, concurrency)
		if _, err := e.CreateRule([]byte(rule)); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.StopRule("latency"); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"text": "the cat sat on the mat", "labels": ["dog", "cat"]}`)
	ctx := context.Background()
	rule := func(n int) { enginetest.Pump(b, e, "bench", "in/texts", [][]byte{payload}, n) }
	// The bare client makes as many calls at once as the rule may:
	// concurrency workers share the n calls.
	bareN := func(n int) {
		var wg sync.WaitGroup
		for w := range concurrency {
			wg.Go(func() {
				for range n/concurrency + btoi(w < n%concurrency) {
					bare()
				}
			})
		}
		wg.Wait()
	}
	rule(500) // warm up: connections, caches
	bareN(500)

	// The rule and the bare client take turns, in rounds, so that
	// drift in the machine's speed affects both alike.
	type total struct {
		d       time.Duration
		mallocs uint64
	}
	measure := func(f func(int), n int, t *total) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		f(n)
		t.d += time.Since(start)
		runtime.ReadMemStats(&m1)
		t.mallocs += m1.Mallocs - m0.Mallocs
	}
	const rounds = 5
	var ruleT, bareT total
	b.ResetTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == 0 {
			n += b.N % rounds
		}
		measure(rule, n, &ruleT)
		measure(bareN, n, &bareT)
	}
	b.StopTimer()
	ruleRate, ruleAllocs := float64(b.N)/ruleT.d.Seconds(), float64(ruleT.mallocs)/float64(b.N)
	bareRate, bareAllocs := float64(b.N)/bareT.d.Seconds(), float64(bareT.mallocs)/float64(b.N)

	// Latency, one call at a time: the bare client, then the rule
	// (with the throughput rule stopped).
	const samples = 1000
	bareLat := make([]time.Duration, samples)
	for i := range bareLat {
		start := time.Now()
		bare()
		bareLat[i] = time.Since(start)
	}
	if err := e.StopRule("bench"); err != nil {
		b.Fatal(err)
	}
	if err := e.StartRule("latency"); err != nil {
		b.Fatal(err)
	}
	out, cancel := e.MemoryHub().Subscribe("out/latency", 1)
	defer cancel()
	ruleLat := make([]time.Duration, samples)
	for i := range ruleLat {
		start := time.Now()
		if err := e.MemoryHub().PublishPayload(ctx, "in/texts", payload); err != nil {
			b.Fatal(err)
		}
		if r, ok := receive(out); !ok || r["l"] != "cat" {
			b.Fatalf("latency rule: %v %v", r, ok)
		}
		ruleLat[i] = time.Since(start)
	}
	b.ReportMetric(ruleRate, "rule-calls/s")
	b.ReportMetric(bareRate, "bare-calls/s")
	b.ReportMetric(ruleRate/bareRate, "ratio")
	b.ReportMetric(ruleAllocs, "rule-allocs/call")
	b.ReportMetric(bareAllocs, "bare-allocs/call")
	b.ReportMetric(pct(ruleLat, 50), "rule-p50-µs")
	b.ReportMetric(pct(ruleLat, 99), "rule-p99-µs")
	b.ReportMetric(pct(bareLat, 50), "bare-p50-µs")
	b.ReportMetric(pct(bareLat, 99), "bare-p99-µs")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pct(d []time.Duration, p int) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds())
}
