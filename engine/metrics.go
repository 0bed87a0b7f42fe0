package engine

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kgen-dev/kgen/engine/rule"
	"github.com/kgen-dev/kgen/sdk"
)

// metrics are the engine's Prometheus metrics, on a registry of its own
// rather than the process-wide default, so that engines in one process
// (tests) keep theirs apart. The counters rules keep for their status are
// read from it at scrape time (ruleCollector), so rows cost nothing more;
// only what no status holds is recorded as it happens: each ingest's
// processing time, and the calls of external functions.
type metrics struct {
	reg *prometheus.Registry
	// latency has one child per rule id, made when the rule is planned and
	// deleted with the rule; it spans restarts of the rule.
	latency     *prometheus.HistogramVec
	calls       *prometheus.CounterVec
	callSeconds *prometheus.HistogramVec
}

// latencyBuckets span 10µs to 2.5s: a row takes microseconds unless it
// waits for a full sink queue or an external function.
var latencyBuckets = []float64{
	.00001, .000025, .00005, .0001, .00025, .0005,
	.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5,
}

func newMetrics(e *Engine) (*metrics, error) {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kgen_rule_process_latency_seconds",
			Help:    "Time from a message's ingest to the end of its processing by the rule.",
			Buckets: latencyBuckets,
		}, []string{"rule"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kgen_service_calls_total",
			Help: "Calls of external functions, by service, function and result (ok or error).",
		}, []string{"service", "function", "result"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kgen_service_call_duration_seconds",
			Help:    "Duration of external function calls, from building the request to mapping the response.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "function"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.latency, m.calls, m.callSeconds,
		ruleCollector{e}, brokerCollector{e},
	} {
		errs = append(errs, m.reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return m, nil
}

// Metrics returns the engine's Prometheus metrics (GET /metrics serves
// them): the rules' counters and processing latency, their sources'
// connections, external function calls, the embedded broker's counters,
// and the Go runtime's and the process's.
func (e *Engine) Metrics() prometheus.Gatherer { return e.metrics.reg }

// ruleLatency is rule.Env.Latency.
func (m *metrics) ruleLatency(id string) rule.Observer { return m.latency.WithLabelValues(id) }

// forgetRule drops the series of a deleted rule that are not read from it.
func (m *metrics) forgetRule(id string) { m.latency.DeleteLabelValues(id) }

// observeCall is the service registry's CallObserver.
func (m *metrics) observeCall(service, function string, d time.Duration, ok bool) {
	result := "ok"
	if !ok {
		result = "error"
	}
	m.calls.WithLabelValues(service, function, result).Inc()
	m.callSeconds.WithLabelValues(service, function).Observe(d.Seconds())
}

var (
	ruleLabels   = []string{"rule"}
	sinkLabels   = []string{"rule", "sink", "type"}
	descRunning  = prometheus.NewDesc("kgen_rule_running", "1 while the rule runs, else 0 (stopped, finished or failed).", ruleLabels, nil)
	descIn       = prometheus.NewDesc("kgen_rule_records_in_total", "Messages the rule's sources handed in, since the rule last started.", ruleLabels, nil)
	descOut      = prometheus.NewDesc("kgen_rule_records_out_total", "Rows the rule handed to its sinks, since the rule last started.", ruleLabels, nil)
	descExc      = prometheus.NewDesc("kgen_rule_exceptions_total", "Row-level failures of the rule, since it last started.", ruleLabels, nil)
	descLate     = prometheus.NewDesc("kgen_rule_late_rows_total", "Event-time rows that came after the watermark had passed them, since the rule last started.", ruleLabels, nil)
	descCkpt     = prometheus.NewDesc("kgen_rule_checkpoints_total", "Checkpoints the rule (at qos 1 or 2) has taken since it last started.", ruleLabels, nil)
	descSinkOut  = prometheus.NewDesc("kgen_rule_sink_records_out_total", "Rows a sink has written, since the rule last started; sink is the action's index.", sinkLabels, nil)
	descSinkDrop = prometheus.NewDesc("kgen_rule_sink_dropped_total", "Rows a sink dropped: its queue was full under bufferFullPolicy drop, or the rule stopped while they waited for room.", sinkLabels, nil)
	descSource   = prometheus.NewDesc("kgen_rule_source_connection", "1 for the current connection state of a rule's source, 0 for the others.", []string{"rule", "stream", "type", "state"}, nil)
	descSrcDrop  = prometheus.NewDesc("kgen_rule_source_dropped_total", "Messages lost before the rule saw them, as the source counts them (a broker that dropped messages for it).", []string{"rule", "stream", "type"}, nil)
)

// connStates are the states a source's connection gauge has a series for.
var connStates = []string{string(sdk.StatusConnected), string(sdk.StatusConnecting), string(sdk.StatusDisconnected)}

// ruleCollector reads the rules' status at scrape time.
type ruleCollector struct{ e *Engine }

func (c ruleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRunning, descIn, descOut, descExc, descLate, descCkpt, descSinkOut, descSinkDrop, descSource, descSrcDrop} {
		ch <- d
	}
}

func (c ruleCollector) Collect(ch chan<- prometheus.Metric) {
	// Statuses are read under the lock, sent without it.
	c.e.mu.Lock()
	statuses := make([]rule.Status, 0, len(c.e.rules))
	for _, r := range c.e.rules {
		statuses = append(statuses, r.status())
	}
	c.e.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, st := range statuses {
		id := st.ID
		gauge(descRunning, b2f(st.Status == "running"), id)
		if st.StartedAt == nil {
			continue // never started: no counters
		}
		counter(descIn, st.RecordsIn, id)
		counter(descOut, st.RecordsOut, id)
		counter(descExc, st.Exceptions, id)
		counter(descLate, st.LateRows, id)
		if st.Checkpoints != nil {
			counter(descCkpt, st.Checkpoints.Count, id)
		}
		for _, src := range st.Sources {
			for _, state := range connStates {
				gauge(descSource, b2f(src.Connection == state), id, src.Stream, src.Type, state)
			}
			counter(descSrcDrop, src.Dropped, id, src.Stream, src.Type)
		}
		for i, s := range st.Sinks {
			n := strconv.Itoa(i)
			counter(descSinkOut, s.RecordsOut, id, n, s.Type)
			counter(descSinkDrop, s.Dropped, id, n, s.Type)
		}
	}
}

// constMetric is a metric read at scrape time; one whose labels do not fit
// its description is reported as invalid by the scrape.
func constMetric(d *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, typ, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var (
	descBrokerClients  = prometheus.NewDesc("kgen_broker_clients", "Clients connected to the embedded MQTT broker.", nil, nil)
	descBrokerRecv     = prometheus.NewDesc("kgen_broker_messages_received_total", "PUBLISH messages the embedded MQTT broker received.", nil, nil)
	descBrokerSent     = prometheus.NewDesc("kgen_broker_messages_sent_total", "PUBLISH messages the embedded MQTT broker sent.", nil, nil)
	descBrokerDropped  = prometheus.NewDesc("kgen_broker_messages_dropped_total", "Messages the embedded MQTT broker dropped for a subscriber whose queue was full.", nil, nil)
	descBrokerInflight = prometheus.NewDesc("kgen_broker_inflight_dropped_total", "Messages the embedded MQTT broker dropped because a subscriber had too many QoS 1 and 2 messages unacknowledged.", nil, nil)
)

// brokerCollector reads the embedded broker's counters at scrape time;
// without the embedded broker it has none.
type brokerCollector struct{ e *Engine }

func (c brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBrokerClients, descBrokerRecv, descBrokerSent, descBrokerDropped, descBrokerInflight} {
		ch <- d
	}
}

func (c brokerCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.e.Broker()
	if b == nil {
		return
	}
	s := b.Stats()
	ch <- constMetric(descBrokerClients, prometheus.GaugeValue, float64(s.Clients))
	for _, m := range []struct {
		d *prometheus.Desc
		v int64
	}{{descBrokerRecv, s.Received}, {descBrokerSent, s.Sent}, {descBrokerDropped, s.Dropped}, {descBrokerInflight, s.InflightDropped}} {
		ch <- constMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
}
