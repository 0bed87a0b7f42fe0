package connector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/sdk"
)

func TestMatchTopic(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+/c", "a/b/c", true},
		{"+/+", "a/b", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a/+", "a/", true},
	}
	for _, c := range cases {
		if got := matchTopic(strings.Split(c.filter, "/"), strings.Split(c.topic, "/")); got != c.want {
			t.Errorf("matchTopic(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestMemoryHubWildcardRouting(t *testing.T) {
	ctx := context.Background()
	h := NewMemoryHub()
	exact, cancelExact := h.Subscribe("sensors/a/temp", 8)
	plus, cancelPlus := h.Subscribe("sensors/+/temp", 8)
	all, cancelAll := h.Subscribe("sensors/#", 8)
	defer cancelExact()
	defer cancelPlus()
	defer cancelAll()

	for _, topic := range []string{"sensors/a/temp", "sensors/b/temp", "sensors/a/hum", "other"} {
		if err := h.Publish(ctx, topic, map[string]any{"topic": topic}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		"exact": {"sensors/a/temp"},
		"plus":  {"sensors/a/temp", "sensors/b/temp"},
		"all":   {"sensors/a/temp", "sensors/b/temp", "sensors/a/hum"},
	}
	for name, ch := range map[string]<-chan map[string]any{"exact": exact, "plus": plus, "all": all} {
		var got []string
		for len(ch) > 0 {
			got = append(got, (<-ch)["topic"].(string))
		}
		if strings.Join(got, ",") != strings.Join(want[name], ",") {
			t.Errorf("%s received %v, want %v", name, got, want[name])
		}
	}
	if err := h.Publish(ctx, "a/+", nil); err == nil || err.Error() != `memory: publish to "a/+": topic must not contain wildcards` {
		t.Errorf("publish to a wildcard: %v", err)
	}
}

// Each subscriber gets its own copy: one changing a row does not affect
// another.
func TestMemoryHubCopiesRows(t *testing.T) {
	h := NewMemoryHub()
	a, cancelA := h.Subscribe("t", 1)
	b, cancelB := h.Subscribe("t", 1)
	defer cancelA()
	defer cancelB()
	row := map[string]any{"v": 1}
	if err := h.Publish(context.Background(), "t", row); err != nil {
		t.Fatal(err)
	}
	ra, rb := <-a, <-b
	ra["v"] = 2
	if rb["v"] != 1 || row["v"] != 1 {
		t.Fatalf("rows are shared: a=%v b=%v published=%v", ra, rb, row)
	}
}

func TestMemoryHubBackpressure(t *testing.T) {
	h := NewMemoryHub()
	ch, cancel := h.Subscribe("t", 1)
	defer cancel()
	const n = 1000

	published := make(chan int, n) // how far the publisher got
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := h.Publish(context.Background(), "t", map[string]any{"i": i}); err != nil {
				errc <- err
				return
			}
			published <- i
		}
		errc <- nil
	}()

	// With a buffer of 1 and nobody reading, the publisher gets one row in
	// and then waits.
	select {
	case <-published:
	case <-time.After(5 * time.Second):
		t.Fatal("first publish did not complete")
	}
	select {
	case i := <-published:
		t.Fatalf("publish %d completed although the subscriber's buffer is full", i)
	case <-time.After(50 * time.Millisecond):
	}

	// A slow reader still gets every row, in order.
	for i := range n {
		select {
		case row := <-ch:
			if row["i"] != i {
				t.Fatalf("row %d: got %v", i, row["i"])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("row %d not received", i)
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // be slow now and then
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if len(ch) != 0 {
		t.Fatalf("%d extra rows", len(ch))
	}
}

func TestMemoryHubPublishContextEnds(t *testing.T) {
	h := NewMemoryHub()
	_, cancel := h.Subscribe("t", 1)
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	if err := h.Publish(ctx, "t", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- h.Publish(ctx, "t", map[string]any{}) }()
	stop()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked publish returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publish still blocked after its context ended")
	}
}

func TestMemoryHubCancel(t *testing.T) {
	h := NewMemoryHub()
	ch, cancel := h.Subscribe("t", 1)
	ctx := context.Background()
	if err := h.Publish(ctx, "t", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	// A publisher blocked on the full subscriber is released by cancel.
	errc := make(chan error, 1)
	go func() { errc <- h.Publish(ctx, "t", map[string]any{}) }()
	cancel()
	cancel() // twice is fine
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("publish still blocked after the subscriber cancelled")
	}
	// The channel is closed (after what was buffered) and nothing new comes.
	if err := h.Publish(ctx, "t", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range ch {
		n++
	}
	if n != 1 {
		t.Fatalf("received %d rows after cancel, want the 1 buffered before", n)
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.subs) != 0 {
		t.Fatalf("%d subscriptions left", len(h.subs))
	}
}

func TestMemoryHubFromContext(t *testing.T) {
	h := NewMemoryHub()
	if MemoryHubFrom(WithMemoryHub(context.Background(), h)) != h {
		t.Fatal("hub not carried by the context")
	}
	if MemoryHubFrom(context.Background()) != defaultMemoryHub {
		t.Fatal("no fallback to the default hub")
	}
}

// Rows flow from a memory sink to a memory source through the context's hub.
func TestMemorySourceAndSink(t *testing.T) {
	ctx := newTestContext(t)
	src := &memorySource{}
	if err := src.Provision(ctx, map[string]any{"datasource": "out/+", "bufferLength": 4, "format": "json"}); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(100)
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Subscribe(ctx, rec.ingest, rec.ingestErr); err != nil {
		t.Fatal(err)
	}

	sink := &memorySink{}
	if err := sink.Provision(ctx, map[string]any{"topic": "out/r1"}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Collect(ctx, map[string]any{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := sink.CollectList(ctx, []map[string]any{{"a": 2}, {"a": 3}}); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		in := rec.next(t, 5*time.Second)
		row, ok := in.data.(map[string]any)
		if !ok || row["a"] != want || in.meta["topic"] != "out/r1" {
			t.Fatalf("ingested %#v with meta %v, want a=%d from out/r1", in.data, in.meta, want)
		}
	}

	// A hub in another context is another world.
	other := WithMemoryHub(context.Background(), NewMemoryHub())
	if err := MemoryHubFrom(other).Publish(other, "out/r1", map[string]any{"a": 9}); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-rec.rows:
		t.Fatalf("row from another hub ingested: %v", in.data)
	default:
	}
	// After Close, the sink's publishes find no subscriber and do not block.
	if err := sink.Collect(ctx, map[string]any{"a": 4}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// A blocked memory sink returns when its context ends.
func TestMemorySinkContextEnds(t *testing.T) {
	base := newTestContext(t)
	ctx, cancel := base.withCancel()
	_, unsubscribe := MemoryHubFrom(ctx).Subscribe("t", 1)
	defer unsubscribe()
	sink := &memorySink{}
	if err := sink.Provision(ctx, map[string]any{"topic": "t"}); err != nil {
		t.Fatal(err)
	}
	if err := sink.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Collect(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- sink.Collect(ctx, map[string]any{}) }()
	cancel()
	select {
	case err := <-errc:
		if err == nil || err.Error() != `memory sink: publish to "t": context canceled` {
			t.Fatalf("Collect = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Collect still blocked after its context ended")
	}
}

var (
	_ sdk.PushSource = (*memorySource)(nil)
	_ sdk.Sink       = (*memorySink)(nil)
)
