package rule

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Recording an ingest's processing time runs for every message: with a
// histogram it must not allocate, and it observes once.
func TestObserveLatencyAllocs(t *testing.T) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency", Buckets: prometheus.DefBuckets}, []string{"rule"})
	r := &Rule{latency: h.WithLabelValues("r1")}
	start := time.Now()
	if n := testing.AllocsPerRun(1000, func() { r.observeLatency(start) }); n != 0 {
		t.Errorf("observeLatency: %v allocations per call, want 0", n)
	}
	var m dto.Metric
	if err := h.WithLabelValues("r1").(prometheus.Histogram).Write(&m); err != nil {
		t.Fatal(err)
	}
	// AllocsPerRun makes one extra call to warm up.
	if got, want := m.Histogram.GetSampleCount(), r.m.latencyCount.Load(); got != uint64(want) || want != 1001 {
		t.Errorf("histogram count %d, rule's latency count %d, want both 1001", got, want)
	}
}
