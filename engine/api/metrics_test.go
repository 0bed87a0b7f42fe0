package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kgen-dev/kgen/engine"
)

// scrape gets GET /metrics and parses it as the Prometheus text format.
func (s *testServer) scrape(t *testing.T) metricFamilies {
	t.Helper()
	resp, err := http.Get(s.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	return fams
}

type metricFamilies map[string]*dto.MetricFamily

// get returns the series of family name whose labels include the given
// name, value pairs; nil when there is none.
func (f metricFamilies) get(name string, labels ...string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.Metric {
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is the value of a counter or gauge series, or a histogram's
// count; -1 when the series does not exist.
func (f metricFamilies) value(name string, labels ...string) float64 {
	m := f.get(name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// want checks series values: name, labels..., want (as "name{k=v,...}").
func (f metricFamilies) want(t *testing.T, want map[string]float64) {
	t.Helper()
	for key, v := range want {
		name, labels := parseSeries(key)
		if got := f.value(name, labels...); got != v {
			t.Errorf("%s = %v, want %v", key, got, v)
		}
	}
}

// parseSeries splits `name{a="1",b="2"}` into the name and label pairs.
func parseSeries(key string) (string, []string) {
	name, rest, ok := strings.Cut(key, "{")
	if !ok {
		return key, nil
	}
	var labels []string
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		k, v, _ := strings.Cut(kv, "=")
		labels = append(labels, k, strings.Trim(v, `"`))
	}
	return name, labels
}

// eventually polls cond until it holds, failing after 10 seconds with the
// last description it gave.
func eventually(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within 10s: %s", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMetricsRules(t *testing.T) {
	s := newServer(t)
	for _, sql := range []string{
		`CREATE STREAM demo (temp FLOAT) WITH (DATASOURCE="in", TYPE="memory")`,
		`CREATE STREAM slow (temp FLOAT) WITH (DATASOURCE="in/slow", TYPE="memory")`,
	} {
		if _, err := s.e.CreateStream(sql); err != nil {
			t.Fatal(err)
		}
	}
	out, cancelOut := s.e.MemoryHub().Subscribe("out", 16)
	defer cancelOut()
	// Nobody reads "blocked" past its one-row buffer: the sink of rule
	// drop blocks on its second row.
	_, cancelBlocked := s.e.MemoryHub().Subscribe("blocked", 1)
	defer cancelBlocked()
	for _, r := range []string{
		`{"id": "r1", "sql": "SELECT temp FROM demo WHERE temp > 0", "actions": [{"memory": {"topic": "out"}}]}`,
		`{"id": "drop", "sql": "SELECT temp FROM slow", "actions": [{"memory": {"topic": "blocked"}}],
		  "options": {"bufferLength": 1, "bufferFullPolicy": "drop"}}`,
		`{"id": "idle", "sql": "SELECT temp FROM demo", "actions": [{"nop": {}}, {"nop": {}}]}`,
	} {
		if _, err := s.cl.CreateRule(t.Context(), []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.cl.StopRule(t.Context(), "idle"); err != nil {
		t.Fatal(err)
	}

	publish := func(topic string, temp float64) {
		t.Helper()
		if err := s.e.MemoryHub().Publish(t.Context(), topic, map[string]any{"temp": temp}); err != nil {
			t.Fatal(err)
		}
	}
	for _, temp := range []float64{1, -1, 2, -2, 3} {
		publish("in", temp)
	}
	for range 3 {
		receive(t, out)
	}
	sinkStatus := func(id string) string {
		st, err := s.e.RuleStatus(id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(st)
		return string(b)
	}
	// One ingest per message: once all five are counted, so is their
	// processing time.
	eventually(t, func() (bool, string) {
		st, _ := s.e.RuleStatus("r1")
		return st.RecordsIn == 5, sinkStatus("r1")
	})

	// The drop rule's sink: the first row is written, the second blocks
	// the sink, the third waits in the queue (bufferLength 1), and the
	// next three find it full and are dropped.
	drop := func() (in int64, pending int, out, dropped int64) {
		st, _ := s.e.RuleStatus("drop")
		return st.RecordsIn, st.Sinks[0].Pending, st.Sinks[0].RecordsOut, st.Sinks[0].Dropped
	}
	publish("in/slow", 1)
	eventually(t, func() (bool, string) { _, _, o, _ := drop(); return o == 1, sinkStatus("drop") })
	publish("in/slow", 2)
	eventually(t, func() (bool, string) { in, p, _, _ := drop(); return in == 2 && p == 0, sinkStatus("drop") })
	publish("in/slow", 3)
	eventually(t, func() (bool, string) { _, p, _, _ := drop(); return p == 1, sinkStatus("drop") })
	for i := range 3 {
		publish("in/slow", float64(4+i))
	}
	eventually(t, func() (bool, string) { in, _, _, _ := drop(); return in == 6, sinkStatus("drop") })

	m := s.scrape(t)
	m.want(t, map[string]float64{
		`kgen_rule_running{rule="r1"}`:                                       1,
		`kgen_rule_running{rule="drop"}`:                                     1,
		`kgen_rule_running{rule="idle"}`:                                     0,
		`kgen_rule_records_in_total{rule="r1"}`:                              5,
		`kgen_rule_records_out_total{rule="r1"}`:                             3,
		`kgen_rule_exceptions_total{rule="r1"}`:                              0,
		`kgen_rule_late_rows_total{rule="r1"}`:                               0,
		`kgen_rule_process_latency_seconds{rule="r1"}`:                       5,
		`kgen_rule_sink_records_out_total{rule="r1",sink="0",type="memory"}`: 3,
		`kgen_rule_sink_dropped_total{rule="r1",sink="0",type="memory"}`:     0,

		`kgen_rule_records_in_total{rule="drop"}`:                              6,
		`kgen_rule_records_out_total{rule="drop"}`:                             6,
		`kgen_rule_process_latency_seconds{rule="drop"}`:                       6,
		`kgen_rule_sink_records_out_total{rule="drop",sink="0",type="memory"}`: 1,
		`kgen_rule_sink_dropped_total{rule="drop",sink="0",type="memory"}`:     3,

		`kgen_rule_source_connection{rule="r1",stream="demo",type="memory",state="connected"}`:    1,
		`kgen_rule_source_connection{rule="r1",stream="demo",type="memory",state="connecting"}`:   0,
		`kgen_rule_source_connection{rule="r1",stream="demo",type="memory",state="disconnected"}`: 0,
		`kgen_rule_source_dropped_total{rule="r1",stream="demo",type="memory"}`:                   0,

		// A stopped rule keeps the counters of its last run.
		`kgen_rule_records_in_total{rule="idle"}`:                           0,
		`kgen_rule_sink_records_out_total{rule="idle",sink="1",type="nop"}`: 0,
		// Rules at qos 0 take no checkpoints, and this engine has no
		// embedded broker.
		`kgen_rule_checkpoints_total{rule="r1"}`: -1,
		`kgen_broker_clients`:                    -1,
	})
	if m.value("go_goroutines") <= 0 || m.value("process_cpu_seconds_total") < 0 {
		t.Errorf("no Go or process metrics: go_goroutines %v, process_cpu_seconds_total %v",
			m.value("go_goroutines"), m.value("process_cpu_seconds_total"))
	}
	// The histogram's buckets are cumulative up to the count.
	h := m.get("kgen_rule_process_latency_seconds", "rule", "r1").Histogram
	if b := h.Bucket[len(h.Bucket)-1]; b.GetCumulativeCount() > 5 || h.GetSampleSum() <= 0 {
		t.Errorf("latency histogram: last bucket %v, sum %v", b, h.GetSampleSum())
	}

	// A deleted rule's series go with it.
	if _, err := s.cl.DropRule(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	m = s.scrape(t)
	m.want(t, map[string]float64{
		`kgen_rule_running{rule="r1"}`:                 -1,
		`kgen_rule_records_in_total{rule="r1"}`:        -1,
		`kgen_rule_process_latency_seconds{rule="r1"}`: -1,
		`kgen_rule_running{rule="drop"}`:               1,
	})
}

func TestMetricsCheckpoints(t *testing.T) {
	s := newServer(t)
	if _, err := s.e.CreateStream(demoSQL); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cl.CreateRule(t.Context(), []byte(`{"id": "q1", "sql": "SELECT temp FROM demo", "actions": [{"nop": {}}],
		"options": {"qos": 1, "checkpointInterval": "10ms"}}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() (bool, string) {
		v := s.scrape(t).value(`kgen_rule_checkpoints_total`, "rule", "q1")
		return v >= 2, fmt.Sprintf("kgen_rule_checkpoints_total{rule=\"q1\"} = %v, want at least 2", v)
	})
}

// greeter answers POST /Hello with {"message": "hi <name>"}, and with 500
// for the name "boom".
func greeter(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Name string }
		if r.URL.Path != "/Hello" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Name == "boom" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"message": "hi %s"}`, req.Name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMetricsServiceCalls(t *testing.T) {
	s := newServer(t)
	srv := greeter(t)
	if err := s.e.Services().Add("greet", []byte(greeterDesc(srv.URL)), map[string][]byte{"greeter.proto": []byte(greeterProto)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.e.CreateStream(`CREATE STREAM people (name STRING) WITH (DATASOURCE="people", TYPE="memory")`); err != nil {
		t.Fatal(err)
	}
	out, cancel := s.e.MemoryHub().Subscribe("out", 16)
	defer cancel()
	if _, err := s.cl.CreateRule(t.Context(), []byte(`{"id": "g", "sql": "SELECT hi(name)->message AS m FROM people", "actions": [{"memory": {"topic": "out"}}]}`)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ann", "boom", "bob"} {
		if err := s.e.MemoryHub().Publish(t.Context(), "people", map[string]any{"name": name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"hi ann", "hi bob"} {
		if row := receive(t, out); row["m"] != want {
			t.Errorf("row %v, want m %q", row, want)
		}
	}
	s.scrape(t).want(t, map[string]float64{
		`kgen_service_calls_total{service="greet",function="hi",result="ok"}`:    2,
		`kgen_service_calls_total{service="greet",function="hi",result="error"}`: 1,
		`kgen_service_call_duration_seconds{service="greet",function="hi"}`:      3,
		`kgen_rule_exceptions_total{rule="g"}`:                                   1,
	})
}

func TestMetricsBroker(t *testing.T) {
	s := newServerWith(t, engine.Options{Root: t.TempDir(), NoRestore: true, Broker: true, BrokerAddr: "127.0.0.1:0"})
	e := s.e
	if _, err := e.CreateStream(demoSQL); err != nil {
		t.Fatal(err)
	}
	// One client subscribes; the rule's MQTT sink publishes in process.
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(e.BrokerURL()).SetClientID("metrics-sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(50)
	got := make(chan struct{}, 2)
	if tok := sub.Subscribe("out", 0, func(paho.Client, paho.Message) { got <- struct{}{} }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if _, err := e.CreateRule([]byte(`{"id": "m", "sql": "SELECT temp FROM demo", "actions": [{"mqtt": {"topic": "out"}}]}`)); err != nil {
		t.Fatal(err)
	}
	for _, temp := range []float64{1, 2} {
		if err := e.MemoryHub().Publish(t.Context(), "in", map[string]any{"temp": temp}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the subscriber did not get the rule's messages")
		}
	}
	// The broker counts a message sent once it has written it, which may
	// be after the subscriber has it.
	eventually(t, func() (bool, string) {
		n := s.scrape(t).value("kgen_broker_messages_sent_total")
		return n == 2, fmt.Sprintf("kgen_broker_messages_sent_total %v, want 2", n)
	})
	s.scrape(t).want(t, map[string]float64{
		"kgen_broker_clients":                 1,
		"kgen_broker_messages_received_total": 2,
		"kgen_broker_messages_dropped_total":  0,
		"kgen_broker_inflight_dropped_total":  0,
	})
}
